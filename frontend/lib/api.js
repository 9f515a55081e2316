// The JSON API client: one fetch wrapper that turns {"error","message"} replies into ApiError.

/** An API or network failure with the server's error code and a sentence to show. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

// The page is served by the same app, so every path is relative to the site root.
const API_ROOT = document.querySelector("meta[name='plotify-api-root']")?.content || "/api";

/** GET an API path with query parameters (null/empty ones are dropped); resolves to parsed JSON. */
export async function apiGet(path, params = {}, { signal } = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, value);
  }
  const url = `${API_ROOT}${path}${query.toString() ? `?${query}` : ""}`;
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The server could not be reached. Is the app still running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const code = body?.error || `http_${response.status}`;
    let message = body?.message || `The server answered ${response.status} ${response.statusText}.`;
    if (code === "store_unavailable") message = await storeProblem(message);
    throw new ApiError(response.status, code, message);
  }
  if (body === null) throw new ApiError(response.status, "bad_json", "The server sent something that is not JSON.");
  return body;
}

// /healthz sits beside the API root and names what is wrong with the database.
const HEALTHZ = `${API_ROOT.replace(/\/api\/?$/, "")}/healthz`;

/** The sentence /healthz gives for the database's problem (read-only, locked, full …), else fallback. */
async function storeProblem(fallback) {
  try {
    const response = await fetch(HEALTHZ, { headers: { Accept: "application/json" } });
    const health = await response.json();
    return health?.store?.message || fallback;
  } catch {
    return fallback;
  }
}

/** The Spotify web player address of a track. */
export function spotifyTrackUrl(trackId) {
  return `https://open.spotify.com/track/${encodeURIComponent(trackId)}`;
}

/** Artists as one readable string whether the API sent a list or a ";"-joined string (the dataset's way). */
export function artistText(artists) {
  if (Array.isArray(artists)) return artists.join(", ");
  return (artists ?? "").split(/\s*;\s*/).filter(Boolean).join(", ");
}
