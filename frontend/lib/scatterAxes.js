// The scatter plot's SVG axes, grid and axis titles, and the padded data domains they show.
import { axisBottom, axisLeft, easeCubicInOut, format } from "d3";
import { featureLabel } from "./features.js";
import { columnExtent } from "./filters.js";

export const MARGIN = { top: 12, right: 14, bottom: 46, left: 58 };
const compactNumber = format("~g");

/** [min, max] of a column widened by 3% (NaN skipped; [0, 1] when empty). */
export function paddedDomain(values) {
  const extent = columnExtent(values);
  if (extent === null) return [0, 1];
  const [low, high] = extent;
  if (low === high) return [low - 0.5, high + 0.5];
  const pad = (high - low) * 0.03;
  return [low - pad, high + pad];
}

function tickFormat(name) {
  if (name === "duration_ms") return (v) => compactNumber(+(v / 60000).toFixed(2));
  return compactNumber;
}

/** Redraws a renderer's axes and grid for its zoom transform, gliding for `duration` ms. */
export function renderPlotAxes(renderer, duration) {
  const r = renderer;
  if (!r.x) return;
  const zx = r.transform.rescaleX(r.x);
  const zy = r.transform.rescaleY(r.y);
  const xTicks = Math.max(2, Math.round(r.plotWidth / 80));
  const yTicks = Math.max(2, Math.round(r.plotHeight / 60));
  const place = (selection, dx, dy) => selection.attr("transform", `translate(${dx},${dy})`);
  const run = (selection) => (duration ? selection.transition().duration(duration).ease(easeCubicInOut) : selection);
  place(r.axisX, MARGIN.left, MARGIN.top + r.plotHeight);
  place(r.axisY, MARGIN.left, MARGIN.top);
  place(r.gridX, MARGIN.left, MARGIN.top + r.plotHeight);
  place(r.gridY, MARGIN.left, MARGIN.top);
  run(r.axisX).call(axisBottom(zx).ticks(xTicks).tickFormat(tickFormat(r.xName)));
  run(r.axisY).call(axisLeft(zy).ticks(yTicks).tickFormat(tickFormat(r.yName)));
  run(r.gridX).call(axisBottom(zx).ticks(xTicks).tickSize(-r.plotHeight).tickFormat(""));
  run(r.gridY).call(axisLeft(zy).ticks(yTicks).tickSize(-r.plotWidth).tickFormat(""));
  r.labelX.attr("x", MARGIN.left + r.plotWidth / 2).attr("y", r.height - 8).text(r.xName ? featureLabel(r.xName) : "");
  r.labelY
    .attr("transform", `translate(14,${MARGIN.top + r.plotHeight / 2}) rotate(-90)`)
    .text(r.yName ? featureLabel(r.yName) : "");
  r.overlay.setAttribute("aria-label", r.describe());
}
