// Keeps the Playlist tab's view in the URL hash (#playlist?…) and hands a linked view back to the tab.
import { onBeforeUnmount, onMounted, watch } from "vue";
import { parseViewHash, viewHash } from "./viewHash.js";

/**
 * current(): the view to write (async: ids may wait for table.textReady); apply(view): restore one.
 * Writes with history.replaceState while the tab is active (no history entry per slider step); a
 * hashchange to a different #playlist?… link (pasted, or back/forward) applies that view.
 */
export function useViewLink({ active, current, apply, sources }) {
  let written = null;
  let pending = 0;

  async function write() {
    if (!active()) return;
    const job = ++pending;
    const view = await current();
    if (job !== pending || !view || !active()) return;
    const hash = viewHash(view);
    if (hash !== window.location.hash) {
      history.replaceState(null, "", `${window.location.pathname}${window.location.search}${hash}`);
    }
    written = hash;
  }

  function onHashChange() {
    const hash = window.location.hash;
    if (!hash.startsWith("#playlist?") || hash === written) return;
    written = hash;
    apply(parseViewHash(hash));
  }

  watch(sources, write, { deep: false });
  watch(active, (isActive) => isActive && write());
  onMounted(() => window.addEventListener("hashchange", onHashChange));
  onBeforeUnmount(() => window.removeEventListener("hashchange", onHashChange));
  return { initial: parseViewHash(window.location.hash), write };
}
