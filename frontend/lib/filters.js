// Track filters: a range per audio feature and the mood/style presets, all thresholds defined here once.
import { featureLabel } from "./features.js";

/**
 * Mood and style presets (after Organize Your Music's bins). Each is a set of ranges that must all hold;
 * null is an open end. The Definitions tab lists these same thresholds.
 */
export const PRESETS = [
  { name: "chill", group: "mood", label: "Chill", ranges: { energy: [null, 0.45], tempo: [null, 115] },
    why: "calm and unhurried" },
  { name: "amped", group: "mood", label: "Amped", ranges: { energy: [0.75, null], tempo: [120, null] },
    why: "high energy at a fast beat" },
  { name: "sad", group: "mood", label: "Sad", ranges: { valence: [null, 0.3], energy: [null, 0.5] },
    why: "gloomy and low-key" },
  { name: "angry", group: "mood", label: "Angry", ranges: { valence: [null, 0.35], energy: [0.75, null] },
    why: "dark mood with a lot of energy" },
  { name: "happy", group: "mood", label: "Happy", ranges: { valence: [0.7, null], energy: [0.5, null] },
    why: "cheerful and lively" },
  { name: "danceable", group: "mood", label: "Danceable", ranges: { danceability: [0.7, null] },
    why: "easy to dance to" },
  { name: "acoustic", group: "style", label: "Acoustic", ranges: { acousticness: [0.7, null] },
    why: "probably acoustic instruments" },
  { name: "instrumental", group: "style", label: "Instrumental", ranges: { instrumentalness: [0.5, null] },
    why: "probably no vocals" },
  { name: "live", group: "style", label: "Live", ranges: { liveness: [0.8, null] },
    why: "very likely a live recording" },
  { name: "spoken", group: "style", label: "Spoken", ranges: { speechiness: [0.33, null] },
    why: "rap, spoken word or talk" },
  { name: "loud", group: "style", label: "Loud", ranges: { loudness: [-5, null] }, why: "mastered loud" },
  { name: "quiet", group: "style", label: "Quiet", ranges: { loudness: [null, -15] }, why: "soft overall" },
];

export const PRESETS_BY_NAME = Object.fromEntries(PRESETS.map((p) => [p.name, p]));

/** One preset's thresholds as a sentence part: "energy ≤ 0.45 and tempo ≤ 115 BPM". */
export function describeRanges(ranges) {
  return Object.entries(ranges)
    .map(([name, [low, high]]) => {
      const label = featureLabel(name).replace(/ \(.*\)$/, "");
      const unit = name === "tempo" ? " BPM" : name === "loudness" ? " dB" : "";
      if (low !== null && high !== null) return `${label} ${low}–${high}${unit}`;
      return low !== null ? `${label} ≥ ${low}${unit}` : `${label} ≤ ${high}${unit}`;
    })
    .join(" and ");
}

/** An empty filter state: no ranges, no presets. */
export function emptyFilters() {
  return { ranges: {}, presets: [] };
}

/** Whether a filter state restricts anything. */
export function isFiltering(filters) {
  return filters.presets.length > 0 || Object.values(filters.ranges).some(([low, high]) => low !== null || high !== null);
}

/** Every [feature, low, high] constraint of the state: the ranges and each active preset's ranges. */
export function constraints(filters) {
  const list = [];
  for (const [name, [low, high]] of Object.entries(filters.ranges)) {
    if (low !== null || high !== null) list.push([name, low, high]);
  }
  for (const presetName of filters.presets) {
    const preset = PRESETS_BY_NAME[presetName];
    if (preset) for (const [name, [low, high]] of Object.entries(preset.ranges)) list.push([name, low, high]);
  }
  return list;
}

/**
 * passes[i] = 1 when track i meets every constraint (a missing value fails a constrained feature).
 * Works column by column over the table's Float64Arrays; a feature the table lacks fails everything.
 */
export function filterMask(table, filters, out = new Uint8Array(table.count)) {
  out.fill(1);
  for (const [name, low, high] of constraints(filters)) {
    const values = table.column(name);
    if (!values) {
      out.fill(0);
      break;
    }
    const min = low ?? -Infinity;
    const max = high ?? Infinity;
    for (let i = 0; i < out.length; i++) {
      const v = values[i];
      if (!(v >= min && v <= max)) out[i] = 0;
    }
  }
  return out;
}

/** The smallest and largest value of a column (NaN skipped), for the range inputs' hints. */
export function columnExtent(values) {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return low === Infinity ? null : [low, high];
}
