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

/** The page's CSRF token (templates/index.html's meta tag), sent on every state-changing request. */
export function csrfToken() {
  return document.querySelector("meta[name='csrf-token']")?.content || "";
}

/**
 * fetch() for the app: Accept JSON, and on any method but GET/HEAD the X-CSRF-Token header.
 * Network failures become ApiError(0, "network").
 */
async function send(url, { method = "GET", body, headers = {}, signal } = {}) {
  const allHeaders = { Accept: "application/json", ...headers };
  if (method !== "GET" && method !== "HEAD") allHeaders["X-CSRF-Token"] = csrfToken();
  try {
    return await fetch(url, { method, body, headers: allHeaders, signal, credentials: "same-origin" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The server could not be reached. Is the app still running?");
  }
}

/** Turns a failed reply into ApiError with the server's {"error","message"} when it sent one. */
async function failure(response, body) {
  const code = body?.error || `http_${response.status}`;
  let message = body?.message || `The server answered ${response.status} ${response.statusText}.`;
  if (code === "store_unavailable") message = await storeProblem(message);
  return new ApiError(response.status, code, message);
}

async function jsonOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** GET an API path with query parameters (null/empty ones are dropped); resolves to parsed JSON. */
export async function apiGet(path, params = {}, { signal } = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, value);
  }
  const url = `${API_ROOT}${path}${query.toString() ? `?${query}` : ""}`;
  const response = await send(url, { signal });
  const body = await jsonOf(response);
  if (!response.ok) throw await failure(response, body);
  if (body === null) throw new ApiError(response.status, "bad_json", "The server sent something that is not JSON.");
  return body;
}

/** POST JSON to an API path (with the CSRF header); resolves to the parsed JSON reply. */
export async function apiPost(path, payload, { signal } = {}) {
  const response = await send(`${API_ROOT}${path}`, {
    method: "POST",
    body: JSON.stringify(payload),
    headers: { "Content-Type": "application/json" },
    signal,
  });
  const body = await jsonOf(response);
  if (!response.ok) throw await failure(response, body);
  if (body === null) throw new ApiError(response.status, "bad_json", "The server sent something that is not JSON.");
  return body;
}

/** POST JSON and take a file back: resolves to {blob, filename, headers}. */
export async function apiPostFile(path, payload) {
  const response = await send(`${API_ROOT}${path}`, {
    method: "POST",
    body: JSON.stringify(payload),
    headers: { "Content-Type": "application/json", Accept: "text/csv, application/json" },
  });
  if (!response.ok) throw await failure(response, await jsonOf(response));
  const disposition = response.headers.get("Content-Disposition") || "";
  const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1] || "plotify.csv";
  return { blob: await response.blob(), filename, headers: response.headers };
}

/** POST to a non-API path of the app (e.g. /auth/logout) with the CSRF header. */
export async function appPost(path) {
  const response = await send(`${APP_ROOT}${path}`, { method: "POST" });
  if (!response.ok) throw await failure(response, await jsonOf(response));
}

// /healthz sits beside the API root and names what is wrong with the database.
const APP_ROOT = API_ROOT.replace(/\/api\/?$/, "");
const HEALTHZ = `${APP_ROOT}/healthz`;

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
