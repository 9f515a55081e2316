// The Playlist tab's selection: a 0/1 mask over track indices built from lasso/box shapes, kept across axes.
import { computed, shallowRef } from "vue";
import { combine, countSet } from "./selection.js";

// Up to this many selected tracks a link names them by id; more are described by the shapes drawn.
export const LINK_IDS_MAX = 100;

/**
 * Selection state and its operations. mask: Uint8Array (or null when nothing is selected); shapes:
 * the shapes that built it, in data coordinates, each with its op (replace/add/remove).
 */
export function useSelection() {
  const state = shallowRef({ mask: null, shapes: [], count: 0 });

  /** Applies one shape's mask (from the plot) with op "replace", "add" or "remove". */
  function applyShape(shape, op, mask) {
    const started = performance.now();
    const previous = state.value;
    const next = combine(previous.mask, mask, op);
    const count = countSet(next);
    const shapes = op === "replace" || !previous.mask ? [{ ...shape, op: "replace" }] : [...previous.shapes, { ...shape, op }];
    state.value = { mask: count ? next : null, shapes: count ? shapes : [], count };
    return performance.now() - started;
  }

  /** Selects exactly the given track indices (a restored link's ids). */
  function selectIndices(indices, count) {
    const mask = new Uint8Array(count);
    for (const i of indices) mask[i] = 1;
    const selected = countSet(mask);
    state.value = { mask: selected ? mask : null, shapes: [], count: selected };
  }

  function clear() {
    state.value = { mask: null, shapes: [], count: 0 };
  }

  const hasSelection = computed(() => state.value.count > 0);
  return { state, hasSelection, applyShape, selectIndices, clear };
}
