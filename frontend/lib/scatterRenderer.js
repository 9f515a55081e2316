// Canvas scatter plot for up to ~100k tracks: marks on canvas, axes in SVG, hover via a d3 quadtree.
import { easeCubicInOut, quadtree, scaleLinear, select, timer, zoom, zoomIdentity } from "d3";
import { MARGIN, paddedDomain, renderPlotAxes } from "./scatterAxes.js";
import { computeTiers, TIER } from "./scatterTiers.js";
import { paintMarks, paintOverlay } from "./scatterPaint.js";
import { handlePlotKey } from "./scatterKeys.js";
import { ShapeTool } from "./shapeTool.js";
import { shapeMask } from "./selection.js";

const ANIMATION_MS = 650;
// How far (in screen pixels) the pointer may be from a mark and still hover it; fingers need more.
const HOVER_RADIUS_PX = 12;
const TOUCH_RADIUS_PX = 24;

export class ScatterRenderer {
  /**
   * container: an empty element the renderer fills; callbacks:
   * onHover(index | -1, {x, y}) with container coordinates, onSelect(index | -1), onAnimationEnd(),
   * onShape(shape in data coordinates, op) when a lasso or box is drawn, onEscape().
   */
  constructor(container, { onHover = () => {}, onSelect = () => {}, onAnimationEnd = () => {}, describe = () => "",
    onShape = () => {}, onEscape = () => {} } = {}) {
    this.container = container;
    this.onHover = onHover;
    this.onSelect = onSelect;
    this.onShape = onShape;
    this.onEscape = onEscape;
    this.marks = {};
    this.onAnimationEnd = onAnimationEnd;
    this.describe = describe;
    this.dpr = Math.max(1, window.devicePixelRatio || 1);
    this.width = 0;
    this.height = 0;
    this.table = null;
    this.coding = null;
    this.visible = null;
    this.xName = null;
    this.yName = null;
    this.px = null;
    this.py = null;
    this.transform = zoomIdentity;
    this.tree = null;
    this.indexJob = 0;
    this.hoverIndex = -1;
    this.selectedIndex = -1;
    this.drawnCount = 0;
    this.visibleCount = 0;
    this.animation = null;
    this.frameRequest = 0;
    this.quietZoom = false;
    this.reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;

    this.svg = select(container).append("svg").attr("class", "scatter-axes").attr("aria-hidden", "true");
    this.gridX = this.svg.append("g").attr("class", "scatter-grid");
    this.gridY = this.svg.append("g").attr("class", "scatter-grid");
    this.axisX = this.svg.append("g").attr("class", "scatter-axis");
    this.axisY = this.svg.append("g").attr("class", "scatter-axis");
    this.labelX = this.svg.append("text").attr("class", "scatter-axis-label").attr("text-anchor", "middle");
    this.labelY = this.svg.append("text").attr("class", "scatter-axis-label").attr("text-anchor", "middle");

    this.canvas = document.createElement("canvas");
    this.canvas.className = "scatter-marks";
    this.overlay = document.createElement("canvas");
    this.overlay.className = "scatter-overlay";
    // The overlay takes pointer and keyboard input; arrow keys walk through the points.
    this.overlay.tabIndex = 0;
    this.overlay.setAttribute("role", "img");
    container.append(this.canvas, this.overlay);
    this.ctx = this.canvas.getContext("2d");
    this.overlayCtx = this.overlay.getContext("2d");

    this.zoom = zoom()
      .scaleExtent([1, 256])
      // One finger scrolls the page and taps pick points; two fingers pinch and pan the plot.
      // In lasso/box mode a drag draws a shape; the wheel still zooms.
      .filter((event) => (event.type.startsWith("touch") ? event.touches.length >= 2 : (!event.ctrlKey || event.type === "wheel") && !event.button
        && (event.type === "wheel" || this.shapes.mode === "pan")))
      .on("zoom", (event) => {
        this.transform = event.transform;
        if (this.quietZoom) return;
        this.renderAxes(0);
        this.requestDraw();
      });
    // d3-zoom sets touch-action: none; allow vertical page scrolling so a phone is not trapped by the plot.
    select(this.overlay).call(this.zoom).on("dblclick.zoom", null).style("touch-action", "pan-y");

    this.shapes = new ShapeTool(this.overlay, {
      onRedraw: () => this.drawOverlay(),
      onShape: (shape, op) => this.onShape(this.toDataShape(shape), op),
    });
    this.overlay.addEventListener("pointermove", (event) => this.handlePointerMove(event));
    this.overlay.addEventListener("pointerleave", () => this.setHover(-1));
    this.overlay.addEventListener("click", (event) => this.handleClick(event));
    this.overlay.addEventListener("keydown", (event) => handlePlotKey(this, event));

    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.shapes.cancel();
    this.animation?.stop();
    if (this.indexJob) (window.cancelIdleCallback ?? clearTimeout)(this.indexJob);
    cancelAnimationFrame(this.frameRequest);
    this.container.replaceChildren();
  }

  // ---- data --------------------------------------------------------------------------------

  /** New tracks (a TrackTable), their colouring ({codes, categories}) and axis fields; no animation. */
  setData(table, coding, xName, yName) {
    this.animation?.stop();
    this.animation = null;
    this.table = table;
    this.selectedIndex = -1;
    this.hoverIndex = -1;
    this.setColoring(coding, false);
    this.xName = xName;
    this.yName = yName;
    this.resetZoomQuietly();
    this.computeScales();
    [this.px, this.py] = this.positions();
    this.invalidateIndex();
    this.renderAxes(0);
    this.draw();
  }

  /** Another colouring of the same tracks; every category starts visible. */
  setColoring(coding, redraw = true) {
    this.coding = coding;
    this.visible = new Uint8Array(coding.categories.length).fill(1);
    this.updateTiers();
    if (redraw) this.draw();
  }

  /** Show or hide categories: visibleFlags[c] truthy = drawn and hoverable. */
  setVisibility(visibleFlags) {
    this.visible = Uint8Array.from(visibleFlags, (v) => (v ? 1 : 0));
    this.updateTiers();
    this.draw();
  }

  /** Filter and selection masks (Uint8Array per track, or null) and whether filtered-out tracks hide. */
  setMarks({ passes = null, selected = null, hideFiltered = false } = {}) {
    this.marks = { passes, selected, hideFiltered };
    this.updateTiers();
    this.draw();
  }

  /** Re-derives every track's tier and the draw order; drops hover/focus on tracks that vanished. */
  updateTiers() {
    if (!this.coding) return;
    const marks = this.marks.passes?.length === this.coding.codes.length || this.marks.selected?.length === this.coding.codes.length
      ? this.marks : {};
    Object.assign(this, computeTiers(this.coding.codes, this.visible, marks));
    this.invalidateIndex();
    if (this.hoverIndex >= 0 && !this.isVisible(this.hoverIndex)) this.setHover(-1);
    if (this.selectedIndex >= 0 && !this.isVisible(this.selectedIndex)) this.select(-1);
  }

  /** "pan", "lasso" or "box": what a drag on the plot does. */
  setTool(mode) {
    this.shapes.setMode(mode);
  }

  /** A shape drawn on screen → the same shape in data coordinates of the current axes (6 digits). */
  toDataShape({ kind, points }) {
    const zx = this.transform.rescaleX(this.x);
    const zy = this.transform.rescaleY(this.y);
    const data = [];
    for (let i = 0; i < points.length; i += 2) {
      data.push(+zx.invert(points[i]).toPrecision(6), +zy.invert(points[i + 1]).toPrecision(6));
    }
    return { kind, x: this.xName, y: this.yName, points: data };
  }

  /**
   * The tracks inside a data-coordinate shape as a 0/1 mask. On the current axes the test runs over
   * the unzoomed pixel positions (Float32Array); on other axes (a restored link) over the data columns.
   */
  maskForShape(shape) {
    if (shape.x === this.xName && shape.y === this.yName && !this.animation) {
      const pixels = shape.points.map((v, i) => (i % 2 ? this.y(v) : this.x(v)));
      return shapeMask({ kind: shape.kind, points: pixels }, this.px, this.py);
    }
    const xs = this.table.column(shape.x);
    const ys = this.table.column(shape.y);
    if (!xs || !ys) return new Uint8Array(this.table.count);
    return shapeMask(shape, xs, ys);
  }

  /** Change the axes; the points glide to their new places (as the seed's SVG circles did). */
  setAxes(xName, yName, { animate = true } = {}) {
    if (!this.table || (xName === this.xName && yName === this.yName)) return;
    const [fromX, fromY] = [this.px, this.py];
    this.xName = xName;
    this.yName = yName;
    this.resetZoomQuietly();
    this.computeScales();
    const [toX, toY] = this.positions();
    this.invalidateIndex();
    this.setHover(-1);
    this.animation?.stop();
    const duration = animate && !this.reducedMotion ? ANIMATION_MS : 0;
    this.renderAxes(duration);
    if (!duration) {
      [this.px, this.py] = [toX, toY];
      this.draw();
      this.onAnimationEnd();
      return;
    }
    const n = toX.length;
    const curX = new Float32Array(n);
    const curY = new Float32Array(n);
    this.px = curX;
    this.py = curY;
    const step = (t) => {
      for (let i = 0; i < n; i++) {
        const ax = fromX[i];
        const ay = fromY[i];
        // A point without an old position appears at its new one instead of flying in from NaN.
        curX[i] = ax === ax ? ax + (toX[i] - ax) * t : toX[i];
        curY[i] = ay === ay ? ay + (toY[i] - ay) * t : toY[i];
      }
      this.draw();
    };
    this.animation = timer((elapsed) => {
      const t = Math.min(1, elapsed / duration);
      step(easeCubicInOut(t));
      if (t >= 1) {
        this.animation.stop();
        this.animation = null;
        [this.px, this.py] = [toX, toY];
        this.invalidateIndex();
        this.draw();
        this.onAnimationEnd();
      }
    });
  }

  get isAnimating() {
    return this.animation !== null;
  }

  computeScales() {
    const plotWidth = Math.max(10, this.width - MARGIN.left - MARGIN.right);
    const plotHeight = Math.max(10, this.height - MARGIN.top - MARGIN.bottom);
    this.plotWidth = plotWidth;
    this.plotHeight = plotHeight;
    const xValues = this.table?.column(this.xName) ?? new Float64Array();
    const yValues = this.table?.column(this.yName) ?? new Float64Array();
    this.x = scaleLinear().domain(paddedDomain(xValues)).range([0, plotWidth]);
    this.y = scaleLinear().domain(paddedDomain(yValues)).range([plotHeight, 0]);
  }

  /** Unzoomed pixel positions of every track (NaN where a value is missing). */
  positions() {
    const n = this.table.count;
    const xs = this.table.column(this.xName);
    const ys = this.table.column(this.yName);
    const px = new Float32Array(n);
    const py = new Float32Array(n);
    // Inline linear maps: calling the d3 scale 200k times is measurably slower.
    const [x0, x1] = this.x.domain();
    const [y0, y1] = this.y.domain();
    const kx = this.plotWidth / (x1 - x0);
    const ky = -this.plotHeight / (y1 - y0);
    for (let i = 0; i < n; i++) {
      px[i] = xs ? (xs[i] - x0) * kx : NaN;
      py[i] = ys ? this.plotHeight + (ys[i] - y0) * ky : NaN;
    }
    return [px, py];
  }

  isVisible(index) {
    return this.tier[index] !== TIER.HIDDEN && this.px[index] === this.px[index] && this.py[index] === this.py[index];
  }

  // ---- layout, axes and drawing -----------------------------------------------------------

  resize() {
    // A hidden tab reports width 0; keep the last layout until it is shown again.
    if (this.container.clientWidth === 0 && this.width) return;
    const width = Math.max(240, Math.floor(this.container.clientWidth));
    // Wide screens get a 3:2 plot, phones a taller one so points are not squashed.
    const height = Math.round(Math.min(620, Math.max(300, width < 600 ? width * 1.05 : width * 0.62)));
    if (width === this.width && height === this.height) return;
    this.width = width;
    this.height = height;
    this.container.style.height = `${height}px`;
    this.svg.attr("width", width).attr("height", height).attr("viewBox", `0 0 ${width} ${height}`);
    this.computeScales();
    for (const canvas of [this.canvas, this.overlay]) {
      canvas.width = Math.round(this.plotWidth * this.dpr);
      canvas.height = Math.round(this.plotHeight * this.dpr);
      canvas.style.width = `${this.plotWidth}px`;
      canvas.style.height = `${this.plotHeight}px`;
      canvas.style.left = `${MARGIN.left}px`;
      canvas.style.top = `${MARGIN.top}px`;
    }
    this.zoom.extent([[0, 0], [this.plotWidth, this.plotHeight]]).translateExtent([[0, 0], [this.plotWidth, this.plotHeight]]);
    if (this.table) {
      this.animation?.stop();
      this.animation = null;
      [this.px, this.py] = this.positions();
      this.invalidateIndex();
    }
    this.renderAxes(0);
    this.draw();
  }

  renderAxes(duration) {
    renderPlotAxes(this, duration);
  }

  requestDraw() {
    if (this.frameRequest) return;
    this.frameRequest = requestAnimationFrame(() => {
      this.frameRequest = 0;
      this.draw();
    });
  }

  /** Draws every visible mark by tier and category (see scatterPaint.js). */
  draw() {
    this.drawCalls = (this.drawCalls || 0) + 1;
    paintMarks(this);
    this.drawOverlay();
  }

  /** Rings around the hovered and the focused track and the shape being drawn, on the overlay canvas. */
  drawOverlay() {
    paintOverlay(this);
  }

  // ---- hover, selection, zoom ---------------------------------------------------------------

  /** Screen position of a track inside the marks canvas. */
  screenPosition(index) {
    return this.transform.apply([this.px[index], this.py[index]]);
  }

  /** Drops the hover index and rebuilds it when the browser is idle, so the first hover does not wait. */
  invalidateIndex() {
    this.tree = null;
    const idle = window.requestIdleCallback ?? ((callback) => setTimeout(callback, 30));
    const cancel = window.cancelIdleCallback ?? clearTimeout;
    if (this.indexJob) cancel(this.indexJob);
    this.indexJob = idle(() => {
      this.indexJob = 0;
      // Positions still moving: the animation's end invalidates again.
      if (this.table && !this.animation) this.ensureIndex();
    }, { timeout: 400 });
  }

  /** Quadtree over visible tracks in unzoomed pixels; zoom is a uniform scale, so nearest stays nearest. */
  ensureIndex() {
    if (this.tree) return this.tree;
    const indices = [];
    const { px, py, tier } = this;
    for (let i = 0; i < tier.length; i++) {
      if (tier[i] !== TIER.HIDDEN && px[i] === px[i] && py[i] === py[i]) indices.push(i);
    }
    this.tree = quadtree()
      .x((i) => px[i])
      .y((i) => py[i])
      .addAll(indices);
    return this.tree;
  }

  /** The visible track nearest to a point of the marks canvas within radiusPx, or -1. */
  nearest(sx, sy, radiusPx = HOVER_RADIUS_PX) {
    if (!this.table || this.animation) return -1;
    const [bx, by] = this.transform.invert([sx, sy]);
    const found = this.ensureIndex().find(bx, by, radiusPx / this.transform.k);
    return found === undefined ? -1 : found;
  }

  /** The track nearest to data coordinates (x value, y value), or -1: a test hook. */
  nearestToValues(xValue, yValue, radiusPx = HOVER_RADIUS_PX) {
    const zx = this.transform.rescaleX(this.x);
    const zy = this.transform.rescaleY(this.y);
    return this.nearest(zx(xValue), zy(yValue), radiusPx);
  }

  handlePointerMove(event) {
    if (this.shapes.active) return;
    const radius = event.pointerType === "touch" ? TOUCH_RADIUS_PX : HOVER_RADIUS_PX;
    this.setHover(this.nearest(event.offsetX, event.offsetY, radius));
  }

  handleClick(event) {
    if (this.shapes.justFinished) return;
    const radius = event.pointerType === "mouse" ? HOVER_RADIUS_PX : TOUCH_RADIUS_PX;
    const index = this.nearest(event.offsetX, event.offsetY, radius);
    this.select(index);
    this.setHover(index);
  }

  setHover(index) {
    if (index === this.hoverIndex) return;
    this.hoverIndex = index;
    this.drawOverlay();
    if (index < 0) this.onHover(-1, null);
    else {
      const [sx, sy] = this.screenPosition(index);
      this.onHover(index, { x: sx + MARGIN.left, y: sy + MARGIN.top });
    }
  }

  select(index) {
    this.selectedIndex = index;
    this.drawOverlay();
    this.onSelect(index);
  }

  zoomBy(factor) {
    select(this.overlay).transition().duration(this.reducedMotion ? 0 : 250).call(this.zoom.scaleBy, factor);
  }

  resetZoom() {
    select(this.overlay).transition().duration(this.reducedMotion ? 0 : 250).call(this.zoom.transform, zoomIdentity);
  }

  /** Back to the unzoomed view without an animation (axis or data changes). */
  resetZoomQuietly() {
    // Through d3 so the element's stored transform resets too and the next wheel starts from 1.
    this.quietZoom = true;
    select(this.overlay).interrupt().call(this.zoom.transform, zoomIdentity);
    this.quietZoom = false;
  }
}
