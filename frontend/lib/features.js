// What each numeric track field means, written for this page, plus how to show its values.

// Order used by the axis selectors and the Definitions tab.
export const FEATURE_DEFINITIONS = [
  {
    name: "danceability",
    label: "Danceability",
    domain: [0, 1],
    description:
      "How easy the track is to dance to, judged from a steady beat, regular rhythm and tempo. " +
      "0 is hard to move to, 1 is made for the dance floor.",
  },
  {
    name: "energy",
    label: "Energy",
    domain: [0, 1],
    description:
      "How intense and busy the track feels: loud, fast and dense music (metal, drum and bass) scores " +
      "near 1, quiet and sparse music (a solo piano piece) near 0.",
  },
  {
    name: "valence",
    label: "Valence",
    domain: [0, 1],
    description:
      "The mood the music itself carries. High values sound cheerful or euphoric, low values sad, " +
      "tense or angry — regardless of the lyrics.",
  },
  {
    name: "acousticness",
    label: "Acousticness",
    domain: [0, 1],
    description:
      "Confidence that the recording is acoustic rather than electronic or amplified; 1 means almost " +
      "certainly acoustic instruments.",
  },
  {
    name: "instrumentalness",
    label: "Instrumentalness",
    domain: [0, 1],
    description:
      "Likelihood that the track has no vocals. \u201cOoh\u201d and \u201caah\u201d count as instrumental; " +
      "rap and spoken word do not. Above about 0.5 the track is probably instrumental.",
  },
  {
    name: "speechiness",
    label: "Speechiness",
    domain: [0, 1],
    description:
      "How much of the track is spoken words. Talk shows and audiobooks score above about 0.66, rap " +
      "and spoken passages over music sit between 0.33 and 0.66, most songs stay below 0.33.",
  },
  {
    name: "liveness",
    label: "Liveness",
    domain: [0, 1],
    description:
      "Chance that an audience can be heard, i.e. that this is a live recording. Above 0.8 the track " +
      "is very likely live.",
  },
  {
    name: "loudness",
    label: "Loudness",
    unit: "dB",
    domain: [-60, 5],
    description:
      "Average loudness of the whole track in decibels relative to full scale, usually between " +
      "\u221260 and 0 dB; closer to 0 is louder.",
  },
  {
    name: "tempo",
    label: "Tempo",
    unit: "BPM",
    domain: [0, 250],
    description: "The estimated speed of the beat in beats per minute.",
  },
  {
    name: "key",
    label: "Key",
    domain: [-1, 11],
    description:
      "The estimated key as a pitch class: 0 = C, 1 = C\u266f/D\u266d, 2 = D, \u2026 11 = B; \u22121 when no " +
      "key could be detected.",
  },
  {
    name: "mode",
    label: "Mode",
    domain: [0, 1],
    description: "Whether the key is major (1) or minor (0).",
  },
  {
    name: "time_signature",
    label: "Time signature",
    domain: [0, 7],
    description:
      "Estimated beats per bar: 3 means 3/4, 4 means 4/4, and so on (3 to 7 in practice).",
  },
  {
    name: "popularity",
    label: "Popularity",
    domain: [0, 100],
    description:
      "Spotify's 0\u2013100 score of how much the track has been played recently; it changes over time " +
      "and is missing for some sources.",
  },
  {
    name: "duration_ms",
    label: "Duration",
    unit: "min",
    domain: [0, 600000],
    description: "Length of the track (stored in milliseconds, shown here in minutes).",
  },
];

export const FEATURES_BY_NAME = Object.fromEntries(FEATURE_DEFINITIONS.map((f) => [f.name, f]));

// Every numeric column the scatter plot may put on an axis, in selector order.
export const NUMERIC_FIELDS = FEATURE_DEFINITIONS.map((f) => f.name);

const PITCH_CLASSES = ["C", "C\u266f/D\u266d", "D", "D\u266f/E\u266d", "E", "F", "F\u266f/G\u266d", "G",
  "G\u266f/A\u266d", "A", "A\u266f/B\u266d", "B"];

/** A human label for a feature name, also for names this file does not know. */
export function featureLabel(name) {
  const known = FEATURES_BY_NAME[name];
  if (known) return known.unit && name !== "duration_ms" ? `${known.label} (${known.unit})` : known.label;
  return String(name).replace(/_/g, " ");
}

/** A value formatted for reading (keys as pitch names, durations as m:ss). */
export function formatFeature(name, value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "\u2014";
  switch (name) {
    case "duration_ms": {
      const seconds = Math.round(value / 1000);
      return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    }
    case "key":
      return value >= 0 && value < 12 ? PITCH_CLASSES[value] : "none";
    case "mode":
      return value === 1 ? "major" : "minor";
    case "tempo":
      return `${value.toFixed(0)} BPM`;
    case "loudness":
      return `${value.toFixed(1)} dB`;
    case "popularity":
    case "time_signature":
      return String(Math.round(value));
    default:
      return Math.abs(value) < 10 ? value.toFixed(3) : value.toFixed(1);
  }
}

/** A value mapped onto 0–1 using the feature's usual range, for small comparison charts. */
export function normalizeFeature(name, value) {
  const known = FEATURES_BY_NAME[name];
  if (!known || value === null || value === undefined) return null;
  const [low, high] = known.domain;
  return Math.min(1, Math.max(0, (value - low) / (high - low)));
}
