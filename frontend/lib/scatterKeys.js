// Keyboard control of the scatter plot: arrows walk through the tracks, Shift+arrows pan, + − 0 zoom.
import { select } from "d3";

/** Handles a keydown on the plot's overlay for the renderer. */
export function handlePlotKey(renderer, event) {
  const steps = { ArrowRight: ["x", 1], ArrowLeft: ["x", -1], ArrowUp: ["y", 1], ArrowDown: ["y", -1] };
  if (event.key in steps && event.shiftKey) {
    event.preventDefault();
    const [axis, direction] = steps[event.key];
    // Moving the view right means shifting the content left, hence the minus signs.
    const dx = axis === "x" ? (-direction * renderer.plotWidth) / 10 : 0;
    const dy = axis === "y" ? (direction * renderer.plotHeight) / 10 : 0;
    const k = renderer.transform.k;
    select(renderer.overlay).call(renderer.zoom.translateBy, dx / k, dy / k);
  } else if (event.key in steps) {
    event.preventDefault();
    const [axis, direction] = steps[event.key];
    stepFocus(renderer, axis, direction);
  } else if (event.key === "+" || event.key === "=") {
    event.preventDefault();
    renderer.zoomBy(1.6);
  } else if (event.key === "-" || event.key === "_") {
    event.preventDefault();
    renderer.zoomBy(1 / 1.6);
  } else if (event.key === "0") {
    event.preventDefault();
    renderer.resetZoom();
  } else if (event.key === "Escape") {
    renderer.shapes.cancel();
    renderer.select(-1);
    renderer.setHover(-1);
    renderer.onEscape();
  }
}

/** Moves the focused track to the next visible one along x (direction ±1) or y. */
function stepFocus(renderer, axis, direction) {
  if (!renderer.table || renderer.animation) return;
  const values = axis === "x" ? renderer.px : renderer.py;
  // Screen y grows downwards, so "up" means a smaller pixel value.
  const sign = axis === "x" ? direction : -direction;
  const current = renderer.selectedIndex >= 0 && renderer.isVisible(renderer.selectedIndex) ? renderer.selectedIndex : -1;
  let best = -1;
  let bestValue = sign > 0 ? Infinity : -Infinity;
  const start = current >= 0 ? values[current] : sign > 0 ? -Infinity : Infinity;
  for (let i = 0; i < values.length; i++) {
    if (i === current || !renderer.isVisible(i)) continue;
    const v = values[i];
    // Ties are broken by index so repeated presses visit tracks sharing a value one by one.
    const ahead = sign > 0 ? v > start || (v === start && i > current) : v < start || (v === start && i < current);
    if (!ahead) continue;
    const better = sign > 0 ? v < bestValue || (v === bestValue && i < best) : v > bestValue || (v === bestValue && i > best);
    if (better) {
      best = i;
      bestValue = v;
    }
  }
  if (best >= 0) {
    renderer.select(best);
    renderer.hoverIndex = -2; // force the tooltip to follow the keyboard
    renderer.setHover(best);
  }
}
