// The rows the track table lists (selection or filtered set) and their order by any column.

/** Text columns the table sorts by besides the numeric features. */
export const TEXT_SORT_KEYS = ["name", "artists", "added_by"];

/**
 * Indices (ascending) of the tracks the table lists: category shown (visible[codes[i]]), passing the
 * filter (passes, or null for no filter) and, when a selection is given, selected.
 */
export function listedRows(codes, visible, passes, selected) {
  const keep = new Uint8Array(codes.length);
  let count = 0;
  for (let i = 0; i < codes.length; i++) {
    if (visible[codes[i]] && (!passes || passes[i]) && (!selected || selected[i])) {
      keep[i] = 1;
      count++;
    }
  }
  const rows = new Int32Array(count);
  for (let i = 0, at = 0; i < codes.length; i++) if (keep[i]) rows[at++] = i;
  return rows;
}

/** Folded text of a track for sorting (missing → null, which sorts last). */
function textKeys(table, key, rows, personName) {
  const source = key === "name" ? table.names : key === "artists" ? table.artists : table.addedBy;
  const keys = new Array(table.count);
  for (const i of rows) {
    let value = source?.[i];
    if (key === "added_by" && value != null) value = personName(value);
    if (Array.isArray(value)) value = value.join(", ");
    keys[i] = value === null || value === undefined || value === "" ? null : String(value).toLocaleLowerCase();
  }
  return keys;
}

/**
 * rows (ascending indices, i.e. playlist order) reordered by sort {key, dir}; key null keeps them.
 * Numbers and text both put missing values last whichever the direction; ties keep playlist order.
 */
export function sortRows(table, rows, sort, personName = (id) => id) {
  if (!sort?.key) return rows;
  const sign = sort.dir === "desc" ? -1 : 1;
  const sorted = Array.from(rows);
  if (TEXT_SORT_KEYS.includes(sort.key)) {
    const keys = textKeys(table, sort.key, rows, personName);
    sorted.sort((a, b) => {
      const ka = keys[a];
      const kb = keys[b];
      if (ka === null || kb === null) return ka === kb ? a - b : ka === null ? 1 : -1;
      return ka < kb ? -sign : ka > kb ? sign : a - b;
    });
  } else {
    const values = table.column(sort.key);
    if (!values) return rows;
    sorted.sort((a, b) => {
      const va = values[a];
      const vb = values[b];
      const missingA = va !== va;
      const missingB = vb !== vb;
      if (missingA || missingB) return missingA === missingB ? a - b : missingA ? 1 : -1;
      return va === vb ? a - b : (va - vb) * sign;
    });
  }
  return Int32Array.from(sorted);
}
