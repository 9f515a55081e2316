// Turns the column-oriented /api/tracks payload into typed arrays and colour categories for the plot.
import { markRaw } from "vue";
import { NUMERIC_FIELDS } from "./features.js";
import { categoryColors, UNLABELLED_COLOR } from "./colors.js";

/**
 * A TrackTable over the payload's columns. Numeric columns become Float64Array (NaN where the API sent
 * null) only when first asked for through column(name): converting all 14 up front costs ~100 ms at 100k.
 * markRaw keeps Vue from wrapping ~100k-element arrays in reactive proxies.
 */
export function buildTrackTable(payload) {
  const columns = payload.columns || {};
  const count = payload.count ?? (columns.id ? columns.id.length : 0);
  const converted = new Map();
  // Plottable: a numeric column with at least one value (the Plotify export has no valence, key or mode).
  const hasValue = (name) => Array.isArray(columns[name]) && columns[name].some((v) => v !== null && v !== undefined);
  const known = NUMERIC_FIELDS.filter(hasValue);
  const extra = (payload.features || []).filter((name) => !NUMERIC_FIELDS.includes(name) && hasValue(name));
  const empty = () => new Array(count).fill(null);
  return markRaw({
    count,
    source: payload.source || {},
    raw: columns,
    ids: columns.id || empty(),
    names: columns.name || empty(),
    artists: columns.artists || empty(),
    albums: columns.album || empty(),
    textReady: Promise.resolve(),
    addedBy: columns.added_by || null,
    addedAt: columns.added_at || null,
    text: { genre: columns.genre || null, family: columns.family || null, cluster: columns.cluster || null },
    // Settles once ids is filled: a dataset's or the catalogue's ids arrive in a second request
    // (loadTrackTable), so what needs them (opening a track, exporting) awaits this first.
    textReady: Promise.resolve(),
    axisFields: [...known, ...extra],
    /** A numeric column as Float64Array with NaN for missing values, or null when absent. */
    column(name) {
      if (!converted.has(name)) {
        const source = columns[name];
        let values = null;
        if (Array.isArray(source)) {
          values = new Float64Array(count);
          for (let i = 0; i < count; i++) {
            const value = source[i];
            values[i] = value === null || value === undefined ? NaN : value;
          }
        }
        converted.set(name, values);
      }
      return converted.get(name);
    },
  });
}

/** Every field of one track as a plain object, for tooltips and the details panel. */
export function trackAt(table, index) {
  const values = {};
  for (const name of table.axisFields) {
    const value = table.raw[name][index];
    values[name] = value === undefined ? null : value;
  }
  return {
    index,
    id: table.ids[index],
    name: table.names[index],
    artists: table.artists[index],
    album: table.albums[index],
    addedBy: table.addedBy ? table.addedBy[index] : null,
    addedAt: table.addedAt ? table.addedAt[index] : null,
    genre: table.text.genre ? table.text.genre[index] : null,
    family: table.text.family ? table.text.family[index] : null,
    cluster: table.text.cluster ? table.text.cluster[index] : null,
    values,
  };
}

/** Which colourings the table supports: "person" for playlists, family/genre/cluster where present. */
export function colourFields(table) {
  const fields = [];
  if (table.addedBy) fields.push("person");
  for (const name of ["family", "genre", "cluster"]) {
    const column = table.text[name];
    if (column && column.some((v) => v !== null && v !== undefined && v !== "")) fields.push(name);
  }
  return fields;
}

/**
 * Codes each track into a category of the chosen colouring.
 * Returns {codes: Uint16Array, categories: [{key, label, color, count}]} sorted by count, unlabelled last.
 * For "person" the people (and their stable colours) come from the playlist listing.
 */
export function categorize(table, field, people = []) {
  const column = field === "person" ? table.addedBy : table.text[field];
  const codes = new Uint16Array(table.count);
  const counts = new Map();
  if (column) for (let i = 0; i < table.count; i++) {
    const key = column[i] === null || column[i] === undefined || column[i] === "" ? null : String(column[i]);
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  else counts.set(null, table.count);
  const keys = [...counts.keys()].filter((k) => k !== null);
  if (field === "person") {
    // Keep the playlist's order of people (most tracks first) so colours match the legend elsewhere.
    const rank = new Map(people.map((p, i) => [String(p.id), i]));
    keys.sort((a, b) => (rank.get(a) ?? 1e9) - (rank.get(b) ?? 1e9) || counts.get(b) - counts.get(a));
  } else if (field === "cluster") {
    keys.sort((a, b) => counts.get(b) - counts.get(a) || Number(a) - Number(b));
  } else {
    keys.sort((a, b) => counts.get(b) - counts.get(a) || a.localeCompare(b));
  }
  const palette = categoryColors(keys.length);
  const byId = new Map(people.map((p) => [String(p.id), p]));
  const categories = keys.map((key, i) => {
    const person = byId.get(key);
    return {
      key,
      label: field === "person" ? person?.display_name || key : field === "cluster" ? `Cluster ${key}` : key,
      color: (field === "person" && person?.color) || palette[i],
      count: counts.get(key),
    };
  });
  if (counts.has(null)) {
    categories.push({
      key: null,
      label: field === "person" ? "unknown person" : `no ${field}`,
      color: UNLABELLED_COLOR,
      count: counts.get(null),
    });
  }
  const codeOf = new Map(categories.map((c, i) => [c.key, i]));
  if (column) for (let i = 0; i < table.count; i++) {
    const key = column[i] === null || column[i] === undefined || column[i] === "" ? null : String(column[i]);
    codes[i] = codeOf.get(key);
  }
  return markRaw({ field, codes, categories });
}
