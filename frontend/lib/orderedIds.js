// Track ids of table rows in the table's order, once the names and ids have arrived.

/** The ids of `rows` (track indices, display order) of a TrackTable; waits for table.textReady. */
export async function orderedIds(table, rows) {
  await table.textReady;
  const ids = new Array(rows.length);
  for (let at = 0; at < rows.length; at++) ids[at] = table.ids[rows[at]];
  return ids;
}
