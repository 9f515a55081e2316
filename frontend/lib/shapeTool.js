// Free-hand lasso and box drawing on the plot's overlay; Shift adds to the selection, Alt removes from it.
import { simplifyPath } from "./selection.js";

// A drag shorter than this (screen pixels) is a click, not a shape.
const MIN_DRAG_PX = 4;

export class ShapeTool {
  /** overlay: the canvas taking input; onRedraw(): repaint the overlay; onShape(shape, op): a finished shape. */
  constructor(overlay, { onRedraw, onShape }) {
    this.overlay = overlay;
    this.onRedraw = onRedraw;
    this.onShape = onShape;
    this.mode = "pan";
    this.path = null;
    this.justFinished = false;
    overlay.addEventListener("pointerdown", (event) => this.start(event));
    overlay.addEventListener("pointermove", (event) => this.extend(event));
    overlay.addEventListener("pointerup", (event) => this.finish(event));
    overlay.addEventListener("pointercancel", () => this.cancel());
  }

  /** "pan" (drag zooms and pans), "lasso" or "box". */
  setMode(mode) {
    this.mode = mode;
    this.cancel();
    // In a drawing mode one finger draws; in pan mode it scrolls the page.
    this.overlay.style.touchAction = mode === "pan" ? "pan-y" : "none";
    this.overlay.classList.toggle("is-drawing-mode", mode !== "pan");
  }

  get active() {
    return this.path !== null;
  }

  start(event) {
    if (this.mode === "pan" || event.button !== 0) return;
    event.preventDefault();
    this.overlay.setPointerCapture?.(event.pointerId);
    this.path = [event.offsetX, event.offsetY];
    this.moved = 0;
    this.op = opOf(event);
  }

  extend(event) {
    if (!this.path) return;
    const [x0, y0] = this.path;
    this.moved = Math.max(this.moved, Math.hypot(event.offsetX - x0, event.offsetY - y0));
    if (this.mode === "box") this.path = [x0, y0, event.offsetX, event.offsetY];
    else this.path.push(event.offsetX, event.offsetY);
    this.onRedraw();
  }

  finish(event) {
    if (!this.path) return;
    this.extend(event);
    const path = this.path;
    const moved = this.moved;
    this.path = null;
    this.onRedraw();
    if (moved < MIN_DRAG_PX) return;
    // The click that follows pointerup must not pick a point.
    this.justFinished = true;
    setTimeout(() => { this.justFinished = false; }, 0);
    const points = this.mode === "box" ? path : simplifyPath(path, 2);
    if (this.mode === "lasso" && points.length < 6) return;
    this.onShape({ kind: this.mode, points }, opOf(event) === "replace" ? this.op : opOf(event));
  }

  cancel() {
    if (!this.path) return;
    this.path = null;
    this.onRedraw();
  }

  /** Draws the shape being dragged (screen coordinates of the overlay). */
  draw(ctx) {
    if (!this.path || this.path.length < 4) return;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = this.op === "remove" ? "#ff6b6b" : "#ffffff";
    ctx.fillStyle = this.op === "remove" ? "rgba(255,107,107,0.08)" : "rgba(255,255,255,0.08)";
    ctx.beginPath();
    if (this.mode === "box") {
      const [x0, y0, x1, y1] = this.path;
      ctx.rect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    } else {
      ctx.moveTo(this.path[0], this.path[1]);
      for (let i = 2; i < this.path.length; i += 2) ctx.lineTo(this.path[i], this.path[i + 1]);
      ctx.closePath();
    }
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }
}

/** Shift adds, Alt removes, neither replaces. */
function opOf(event) {
  if (event.shiftKey) return "add";
  if (event.altKey) return "remove";
  return "replace";
}
