// Lasso and box selection over typed arrays of positions: a mask per shape, combined by replace/add/remove.

// Horizontal bands of the edge index: a point is tested only against the edges crossing its band.
const BANDS = 64;

/** Bounding box of a flat [x0, y0, x1, y1, …] polygon. */
function bounds(flat) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < flat.length; i += 2) {
    const x = flat[i];
    const y = flat[i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return { minX, minY, maxX, maxY };
}

/**
 * Edges of a closed polygon bucketed into horizontal bands, so a 300-vertex lasso costs a few edge
 * tests per point instead of 300. Returns {bandStart, bandEdges, edges, box, bandHeight}.
 */
function edgeIndex(flat) {
  const box = bounds(flat);
  const n = flat.length / 2;
  const bandHeight = (box.maxY - box.minY) / BANDS || 1;
  const bandOf = (y) => Math.min(BANDS - 1, Math.max(0, Math.floor((y - box.minY) / bandHeight)));
  const counts = new Int32Array(BANDS + 1);
  const spans = [];
  for (let e = 0; e < n; e++) {
    const y0 = flat[2 * e + 1];
    const y1 = flat[((2 * e + 3) % flat.length)];
    const low = bandOf(Math.min(y0, y1));
    const high = bandOf(Math.max(y0, y1));
    spans.push(low, high);
    for (let b = low; b <= high; b++) counts[b + 1]++;
  }
  for (let b = 0; b < BANDS; b++) counts[b + 1] += counts[b];
  const cursor = counts.slice(0, BANDS);
  const bandEdges = new Int32Array(counts[BANDS]);
  for (let e = 0; e < n; e++) {
    for (let b = spans[2 * e]; b <= spans[2 * e + 1]; b++) bandEdges[cursor[b]++] = e;
  }
  return { bandStart: counts, bandEdges, box, bandHeight };
}

/**
 * Marks out[i] = 1 for every point (xs[i], ys[i]) inside the polygon (even-odd rule), 0 elsewhere.
 * xs, ys: typed arrays (pixel positions or data values); NaN never counts as inside.
 * Returns how many points are inside.
 */
export function pointsInPolygon(xs, ys, flat, out = new Uint8Array(xs.length)) {
  out.fill(0);
  if (flat.length < 6) return 0;
  const { bandStart, bandEdges, box, bandHeight } = edgeIndex(flat);
  const { minX, minY, maxX, maxY } = box;
  const length = flat.length;
  let inside = 0;
  for (let i = 0, count = xs.length; i < count; i++) {
    const x = xs[i];
    const y = ys[i];
    // NaN fails these comparisons, so missing values are skipped here.
    if (!(x >= minX && x <= maxX && y >= minY && y <= maxY)) continue;
    const band = Math.min(BANDS - 1, Math.floor((y - minY) / bandHeight));
    let crossings = 0;
    for (let j = bandStart[band], end = bandStart[band + 1]; j < end; j++) {
      const e = 2 * bandEdges[j];
      const ax = flat[e];
      const ay = flat[e + 1];
      const bx = flat[(e + 2) % length];
      const by = flat[(e + 3) % length];
      // Half-open in y so a vertex on the ray is counted once.
      if (ay > y !== by > y && x < ax + ((y - ay) * (bx - ax)) / (by - ay)) crossings++;
    }
    if (crossings & 1) {
      out[i] = 1;
      inside++;
    }
  }
  return inside;
}

/** Marks out[i] = 1 for points inside the axis-aligned box [x0, x1] × [y0, y1] (any corner order). */
export function pointsInBox(xs, ys, [x0, y0, x1, y1], out = new Uint8Array(xs.length)) {
  const minX = Math.min(x0, x1);
  const maxX = Math.max(x0, x1);
  const minY = Math.min(y0, y1);
  const maxY = Math.max(y0, y1);
  let inside = 0;
  for (let i = 0, count = xs.length; i < count; i++) {
    const x = xs[i];
    const y = ys[i];
    const hit = x >= minX && x <= maxX && y >= minY && y <= maxY ? 1 : 0;
    out[i] = hit;
    inside += hit;
  }
  return inside;
}

/** The points inside one shape ({kind: "lasso" | "box", points: flat coordinates}) of xs/ys. */
export function shapeMask(shape, xs, ys, out) {
  const mask = out ?? new Uint8Array(xs.length);
  if (shape.kind === "box") pointsInBox(xs, ys, shape.points, mask);
  else pointsInPolygon(xs, ys, shape.points, mask);
  return mask;
}

/** Combines a shape's mask into the selection: "replace", "add" (Shift) or "remove" (Alt). */
export function combine(selected, mask, op) {
  if (op === "replace" || !selected) return mask.slice();
  const next = selected.slice();
  if (op === "add") for (let i = 0; i < next.length; i++) next[i] |= mask[i];
  else for (let i = 0; i < next.length; i++) next[i] &= mask[i] ^ 1;
  return next;
}

/** How many entries of a 0/1 mask are set. */
export function countSet(mask) {
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i];
  return count;
}

/** Drops lasso points closer than minGap to the previous kept one (a drag reports one per pixel). */
export function simplifyPath(points, minGap = 3) {
  if (points.length <= 2) return points.slice();
  const kept = [points[0], points[1]];
  for (let i = 2; i < points.length; i += 2) {
    const dx = points[i] - kept[kept.length - 2];
    const dy = points[i + 1] - kept[kept.length - 1];
    if (dx * dx + dy * dy >= minGap * minGap) kept.push(points[i], points[i + 1]);
  }
  return kept;
}
