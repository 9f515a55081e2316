// The Playlist tab's view in the URL hash: #playlist?src=…&x=…&y=…&c=…&f=…&p=…&hide=1&sort=…&sel=…|shapes=…
import { PRESETS_BY_NAME } from "./filters.js";

const OPS = { r: "replace", a: "add", d: "remove" };
const OP_CODES = { replace: "r", add: "a", remove: "d" };

/** The part of the hash after "#tab?" as URLSearchParams (empty when there is none). */
function hashParams(hash) {
  const at = hash.indexOf("?");
  return new URLSearchParams(at < 0 ? "" : hash.slice(at + 1));
}

const number = (text) => (text === "" || text === undefined ? null : Number.isFinite(+text) ? +text : null);

/**
 * The view a hash describes; absent parts are undefined so the tab keeps its defaults.
 * {source, x, y, colour, filters: {ranges, presets}, hideFiltered, sort: {key, dir}, selection: {ids} | {shapes}}
 */
export function parseViewHash(hash) {
  const params = hashParams(hash);
  const view = {};
  if (params.get("src")) view.source = params.get("src");
  if (params.get("x")) view.x = params.get("x");
  if (params.get("y")) view.y = params.get("y");
  if (params.get("c")) view.colour = params.get("c");
  if (params.has("f") || params.has("p")) {
    const ranges = {};
    for (const part of (params.get("f") || "").split(",").filter(Boolean)) {
      const [name, low, high] = part.split(":");
      if (name && (number(low) !== null || number(high) !== null)) ranges[name] = [number(low), number(high)];
    }
    const presets = (params.get("p") || "").split(",").filter((name) => PRESETS_BY_NAME[name]);
    view.filters = { ranges, presets };
  }
  if (params.get("hide") === "1") view.hideFiltered = true;
  if (params.get("sort")) {
    const [key, dir] = params.get("sort").split(":");
    view.sort = { key, dir: dir === "desc" ? "desc" : "asc" };
  }
  if (params.get("sel")) view.selection = { ids: params.get("sel").split(",").filter(Boolean) };
  else if (params.get("shapes")) {
    const shapes = [];
    for (const part of params.get("shapes").split("|")) {
      const [op, kind, x, y, coordinates] = part.split("~");
      const points = (coordinates || "").split("_").map(Number);
      if (!OPS[op] || !["lasso", "box"].includes(kind) || points.some((v) => !Number.isFinite(v))) continue;
      if ((kind === "box" && points.length !== 4) || (kind === "lasso" && points.length < 6)) continue;
      shapes.push({ op: OPS[op], kind, x, y, points });
    }
    if (shapes.length) view.selection = { shapes };
  }
  return view;
}

/** The hash for a view (same shape as parseViewHash returns); tab defaults to "playlist". */
export function viewHash(view, tab = "playlist") {
  const params = new URLSearchParams();
  if (view.source) params.set("src", view.source);
  if (view.x) params.set("x", view.x);
  if (view.y) params.set("y", view.y);
  if (view.colour) params.set("c", view.colour);
  const ranges = Object.entries(view.filters?.ranges || {})
    .filter(([, [low, high]]) => low !== null || high !== null)
    .map(([name, [low, high]]) => `${name}:${low ?? ""}:${high ?? ""}`);
  if (ranges.length) params.set("f", ranges.join(","));
  if (view.filters?.presets?.length) params.set("p", view.filters.presets.join(","));
  if (view.hideFiltered) params.set("hide", "1");
  if (view.sort?.key) params.set("sort", `${view.sort.key}:${view.sort.dir}`);
  if (view.selection?.ids?.length) params.set("sel", view.selection.ids.join(","));
  else if (view.selection?.shapes?.length) {
    params.set("shapes", view.selection.shapes
      .map((s) => [OP_CODES[s.op], s.kind, s.x, s.y, s.points.join("_")].join("~"))
      .join("|"));
  }
  const query = params.toString().replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%7C/g, "|").replace(/%7E/g, "~");
  return `#${tab}${query ? `?${query}` : ""}`;
}
