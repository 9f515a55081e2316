// Benchmark entry (never loaded by the page): times the app's canvas renderer beside an SVG baseline.
import { axisBottom, axisLeft, scaleLinear, select } from "d3";
import { ScatterRenderer } from "./lib/scatterRenderer.js";
import { buildTrackTable, categorize, colourFields } from "./lib/trackTable.js";
import { filterMask } from "./lib/filters.js";
import { combine, countSet } from "./lib/selection.js";

/** Resolves after the browser has painted the current frame (rAF runs before paint, the timeout after). */
const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, median_ms: at(0.5), p95_ms: at(0.95), max_ms: sorted[sorted.length - 1] };
}

/** Pseudo-random but repeatable hover positions inside a width × height box. */
function hoverPoints(count, width, height) {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: count }, () => [next() * width, next() * height]);
}

function freshStage(width, height) {
  const stage = document.getElementById("stage");
  stage.replaceChildren();
  stage.style.width = `${width}px`;
  const inner = document.createElement("div");
  stage.append(inner);
  return inner;
}

/** The app's way: typed arrays, canvas marks, SVG axes, quadtree hover. */
async function runCanvas(payload, { xName, yName, hovers = 500, width = 960 } = {}) {
  const tooltip = document.getElementById("tooltip");
  const stage = freshStage(width);
  const started = performance.now();
  const table = buildTrackTable(payload);
  const field = colourFields(table)[0] ?? "person";
  const coding = categorize(table, field, payload.people ?? []);
  const prepared = performance.now();
  const renderer = new ScatterRenderer(stage, {
    onHover: (index) => {
      tooltip.textContent = index < 0 ? "" : `${table.names[index]} — ${table.artists[index]}`;
    },
  });
  const constructed = performance.now();
  renderer.setData(table, coding, xName, yName);
  const drawn = performance.now();
  const drawCallsBefore = renderer.drawCalls;
  await afterPaint();
  const painted = performance.now();
  const extraDraws = renderer.drawCalls - drawCallsBefore;
  // The hover index is built on first use; time that separately from the per-hover look-ups.
  const indexStart = performance.now();
  renderer.ensureIndex();
  const indexMs = performance.now() - indexStart;
  const samples = [];
  let hits = 0;
  const loopStart = performance.now();
  for (const [x, y] of hoverPoints(hovers, renderer.plotWidth, renderer.plotHeight)) {
    const t0 = performance.now();
    const index = renderer.nearest(x, y);
    renderer.setHover(index);
    samples.push(performance.now() - t0);
    if (index >= 0) hits++;
  }
  const loopMs = performance.now() - loopStart;
  const result = {
    points: table.count,
    drawn: renderer.drawnCount,
    prepare_ms: prepared - started,
    setup_ms: constructed - prepared,
    draw_ms: drawn - constructed,
    paint_wait_ms: painted - drawn,
    first_full_draw_ms: painted - started,
    hover_index_build_ms: indexMs,
    // performance.now() is coarsened to 0.1 ms, so the mean over the whole loop is the sharper number.
    hover: { ...summary(samples), mean_ms: loopMs / samples.length },
    hover_hits: hits,
    draws_while_waiting_for_paint: extraDraws,
  };
  renderer.destroy();
  return result;
}

/** The seed's way: one SVG circle per track with its own mouseover handler; the browser hit-tests. */
async function runSvg(payload, { xName, yName, hovers = 500, width = 960, height = 595 } = {}) {
  const tooltip = document.getElementById("tooltip");
  const stage = freshStage(width);
  const started = performance.now();
  const columns = payload.columns;
  // The catalogue's ids are deferred (not in the scatter's columns); a row number keys the circle.
  const rows = columns.name.map((name, i) => ({ id: columns.id ? columns.id[i] : i, name, artists: columns.artists[i], x: columns[xName][i], y: columns[yName][i] }))
    .filter((d) => d.x !== null && d.y !== null);
  const margin = { top: 12, right: 14, bottom: 46, left: 58 };
  const w = width - margin.left - margin.right;
  const h = height - margin.top - margin.bottom;
  const x = scaleLinear().domain([Math.min(...rows.map((d) => d.x)), Math.max(...rows.map((d) => d.x))]).range([0, w]);
  const y = scaleLinear().domain([Math.min(...rows.map((d) => d.y)), Math.max(...rows.map((d) => d.y))]).range([h, 0]);
  const svg = select(stage).append("svg").attr("width", width).attr("height", height);
  const plot = svg.append("g").attr("transform", `translate(${margin.left},${margin.top})`);
  plot.append("g").attr("transform", `translate(0,${h})`).call(axisBottom(x));
  plot.append("g").call(axisLeft(y));
  plot.selectAll("circle").data(rows).enter().append("circle")
    .attr("cx", (d) => x(d.x)).attr("cy", (d) => y(d.y)).attr("r", 4).attr("fill", "#1DB954").attr("opacity", 0.7)
    .on("mouseover", (event, d) => {
      tooltip.textContent = `${d.name} — ${d.artists}`;
    });
  const built = performance.now();
  await afterPaint();
  const painted = performance.now();
  const box = plot.node().getBoundingClientRect();
  const samples = [];
  let hits = 0;
  const loopStart = performance.now();
  for (const [px, py] of hoverPoints(hovers, w, h)) {
    const t0 = performance.now();
    // What the browser does on every mousemove: hit-test the DOM, then run the circle's handler.
    const target = document.elementFromPoint(box.left + px, box.top + py);
    if (target && target.tagName === "circle") {
      target.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
      hits++;
    }
    samples.push(performance.now() - t0);
  }
  const loopMs = performance.now() - loopStart;
  const result = {
    points: rows.length,
    drawn: rows.length,
    draw_ms: built - started,
    paint_wait_ms: painted - built,
    first_full_draw_ms: painted - started,
    hover: { ...summary(samples), mean_ms: loopMs / samples.length },
    hover_hits: hits,
  };
  stage.replaceChildren();
  return result;
}

const median = (samples) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];

/** A free-hand-like lasso: `vertices` points around the plot's centre with a wobbling radius. */
function lassoPath(width, height, vertices = 240) {
  const points = [];
  for (let v = 0; v < vertices; v++) {
    const angle = (2 * Math.PI * v) / vertices;
    const radius = 0.33 * Math.min(width, height) * (1 + 0.18 * Math.sin(5 * angle) + 0.07 * Math.cos(13 * angle));
    points.push(width / 2 + radius * Math.cos(angle), height / 2 + radius * Math.sin(angle));
  }
  return points;
}

/**
 * Selection and filtering at scale, each repeated `repeats` times (median): the plain redraw, a lasso's
 * point-in-polygon over the pixel positions (plus combining it into a selection), and a filter change
 * (mask over the columns + tiers + redraw, then to the next paint).
 */
async function runSelection(payload, { xName, yName, repeats = 5, width = 960 } = {}) {
  const stage = freshStage(width);
  const table = buildTrackTable(payload);
  const coding = categorize(table, colourFields(table)[0] ?? "person", payload.people ?? []);
  const renderer = new ScatterRenderer(stage, {});
  renderer.setData(table, coding, xName, yName);
  await afterPaint();
  const draws = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    renderer.draw();
    draws.push(performance.now() - t0);
  }
  const shape = renderer.toDataShape({ kind: "lasso", points: lassoPath(renderer.plotWidth, renderer.plotHeight) });
  const lasso = [];
  const lassoWithCombine = [];
  let selected = 0;
  let previous = null;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const mask = renderer.maskForShape(shape);
    const t1 = performance.now();
    previous = combine(previous, mask, r % 2 ? "add" : "replace");
    selected = countSet(previous);
    lasso.push(t1 - t0);
    lassoWithCombine.push(performance.now() - t0);
  }
  const filterRedraw = [];
  const filterToPaint = [];
  const thresholds = [0.5, 0.6, 0.7, 0.4, 0.8, 0.55, 0.65];
  let passing = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const passes = filterMask(table, { ranges: { energy: [thresholds[r % thresholds.length], null], tempo: [90, 160] }, presets: [] });
    renderer.setMarks({ passes, selected: previous, hideFiltered: false });
    const t1 = performance.now();
    await afterPaint();
    filterRedraw.push(t1 - t0);
    filterToPaint.push(performance.now() - t0);
    passing = countSet(passes);
  }
  const result = {
    points: table.count,
    lasso_vertices: shape.points.length / 2,
    selected,
    passing_last: passing,
    draw_ms: median(draws),
    draw_ms_runs: draws,
    lasso_ms: median(lasso),
    lasso_ms_runs: lasso,
    lasso_and_combine_ms: median(lassoWithCombine),
    filter_redraw_ms: median(filterRedraw),
    filter_redraw_ms_runs: filterRedraw,
    filter_to_paint_ms: median(filterToPaint),
    filter_to_paint_ms_runs: filterToPaint,
  };
  renderer.destroy();
  return result;
}

/** Fetches a payload and runs one renderer on it; "data arrival" is when the parsed JSON is in hand. */
async function run(kind, url, options) {
  const payload = await (await fetch(url)).json();
  await afterPaint();
  if (kind === "selection") return runSelection(payload, options);
  return kind === "canvas" ? runCanvas(payload, options) : runSvg(payload, options);
}

window.plotifyBench = { run, ready: true };
