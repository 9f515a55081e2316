// Painting the scatter plot: every mark by tier and category (canvas paths, or pixel stamps when many),
// and the overlay's rings and shape.
import { PixelCanvas } from "./pixelStamps.js";
import { TIER, tierStyle } from "./scatterTiers.js";

// Above this many visible tracks the marks are painted into a pixel buffer instead of canvas paths.
const PIXEL_PAINT_THRESHOLD = 2000;

/** Marks by how many tracks are visible: big dots for a playlist, small translucent ones for 100k. */
export function markStyle(visibleCount, zoomScale) {
  const grow = Math.min(Math.sqrt(zoomScale), 4);
  if (visibleCount <= PIXEL_PAINT_THRESHOLD) return { radius: 4.5 * Math.min(grow, 2), alpha: 0.9 };
  if (visibleCount <= 20000) return { radius: 2.4 * grow, alpha: 0.75 };
  return { radius: 1.4 * grow, alpha: 0.6 };
}

/** Draws every visible mark of a renderer: filtered-out lowest, selected on top. */
export function paintMarks(r) {
  const ctx = r.ctx;
  const { plotWidth: w, plotHeight: h } = r;
  ctx.setTransform(r.dpr, 0, 0, r.dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  r.drawnCount = 0;
  if (!r.table || !r.px) return;
  const { k, x: tx, y: ty } = r.transform;
  const { categories } = r.coding;
  const visibleCount = r.tierCounts[TIER.FILTERED] + r.tierCounts[TIER.SHOWN] + r.tierCounts[TIER.SELECTED];
  r.visibleCount = visibleCount;
  const base = markStyle(visibleCount, k);
  const { px, py, order, offsets, hasSelection } = r;
  const usePixels = visibleCount > PIXEL_PAINT_THRESHOLD;
  if (usePixels) {
    r.pixels = r.pixels || new PixelCanvas();
    r.pixels.begin(ctx, r.canvas.width, r.canvas.height);
  }
  const view = { k, x: tx, y: ty, scale: r.dpr };
  const groupCount = categories.length;
  let drawn = 0;
  let selectedDrawn = 0;
  // Unlabelled tracks first (underneath), then the legend from the largest category to the smallest.
  const sequence = categories.map((_, c) => c);
  const unlabelled = categories.findIndex((cat) => cat.key === null);
  if (unlabelled >= 0) sequence.unshift(sequence.splice(unlabelled, 1)[0]);
  // Filtered-out marks lowest, then the rest, selected marks on top.
  for (const t of [TIER.FILTERED, TIER.SHOWN, TIER.SELECTED]) {
    if (!r.tierCounts[t]) continue;
    const { radius, alpha } = tierStyle(t, base, hasSelection);
    ctx.globalAlpha = alpha;
    for (const c of sequence) {
      const start = offsets[t * groupCount + c];
      const end = offsets[t * groupCount + c + 1];
      if (start === end) continue;
      let painted = 0;
      if (usePixels) {
        painted = r.pixels.paint(px, py, order, start, end, categories[c].color, alpha, radius * r.dpr, view);
      } else {
        ctx.fillStyle = categories[c].color;
        ctx.beginPath();
        for (let j = start; j < end; j++) {
          const i = order[j];
          const sx = tx + k * px[i];
          const sy = ty + k * py[i];
          // NaN fails every comparison, so missing values drop out here too.
          if (!(sx >= -radius && sx <= w + radius && sy >= -radius && sy <= h + radius)) continue;
          ctx.moveTo(sx + radius, sy);
          ctx.arc(sx, sy, radius, 0, 2 * Math.PI);
          painted++;
        }
        ctx.fill();
        // Few marks: selected ones also get a light outline.
        if (t === TIER.SELECTED) {
          ctx.globalAlpha = 0.9;
          ctx.lineWidth = 1.2;
          ctx.strokeStyle = "#ffffff";
          ctx.stroke();
          ctx.globalAlpha = alpha;
        }
      }
      drawn += painted;
      if (t === TIER.SELECTED) selectedDrawn += painted;
    }
  }
  ctx.globalAlpha = 1;
  if (usePixels) r.pixels.finish(ctx);
  r.drawnCount = drawn;
  r.selectedDrawn = selectedDrawn;
}

/** Rings around the hovered and the focused track, and the shape being drawn. */
export function paintOverlay(r) {
  const ctx = r.overlayCtx;
  ctx.setTransform(r.dpr, 0, 0, r.dpr, 0, 0);
  ctx.clearRect(0, 0, r.plotWidth, r.plotHeight);
  if (!r.table || !r.px) return;
  const ring = (index, color, width) => {
    if (index < 0 || !r.isVisible(index)) return;
    const [sx, sy] = r.screenPosition(index);
    ctx.beginPath();
    ctx.arc(sx, sy, 7, 0, 2 * Math.PI);
    ctx.lineWidth = width;
    ctx.strokeStyle = color;
    ctx.stroke();
  };
  ring(r.selectedIndex, "#1DB954", 3);
  ring(r.hoverIndex, "#ffffff", 2);
  r.shapes.draw(ctx);
}
