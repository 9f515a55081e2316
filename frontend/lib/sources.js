// Shared, cached loading of the playlist/dataset listings and of track tables (one fetch per source).
import { reactive, markRaw } from "vue";
import { apiGet } from "./api.js";
import { buildTrackTable } from "./trackTable.js";

/** Listings every tab reads: playlists (with people) and labelled datasets. */
export const sources = reactive({
  loading: false,
  error: null,
  loaded: false,
  playlists: [],
  datasets: [],
});

let listingRequest = null;

/** Loads (once, unless force) the playlists and datasets listings into `sources`. */
export function loadSources({ force = false } = {}) {
  if (listingRequest && !force) return listingRequest;
  sources.loading = true;
  sources.error = null;
  listingRequest = Promise.all([apiGet("/playlists"), apiGet("/datasets")])
    .then(([playlistReply, datasetReply]) => {
      sources.playlists = playlistReply.playlists || [];
      sources.datasets = datasetReply.datasets || [];
      sources.loaded = true;
    })
    .catch((error) => {
      sources.error = error;
      listingRequest = null;
    })
    .finally(() => {
      sources.loading = false;
    });
  return listingRequest;
}

/** A source key: "playlist:ID", "dataset:NAME" or "catalogue". */
export function sourceParams(key) {
  if (key.startsWith("playlist:")) return { playlist: key.slice(9) };
  if (key.startsWith("dataset:")) return { dataset: key.slice(8) };
  return {};
}

const tableCache = new Map();

/** The TrackTable of a source, fetched once per page load (the server adds ETag for reloads). */
export function loadTrackTable(key) {
  if (!tableCache.has(key)) {
    const request = apiGet("/tracks", sourceParams(key)).then((payload) => {
      const arrived = performance.now();
      const table = buildTrackTable(payload);
      table.arrivedAt = arrived;
      if (payload.ids?.deferred) {
        table.textReady = loadDeferredIds(table, key, payload.ids.version);
        table.textReady.catch(() => {}); // awaited where needed; never an unhandled rejection
      }
      return markRaw(table);
    });
    // A failed request is not cached, so "Try again" really asks again.
    request.catch(() => tableCache.delete(key));
    tableCache.set(key, request);
  }
  return tableCache.get(key);
}

/**
 * Fills a table's ids from their own document (the scatter's columns leave them out: they do not
 * compress). The plot draws meanwhile; a track opened before they arrive waits for them.
 */
function loadDeferredIds(table, key, version) {
  return apiGet("/tracks", { ...sourceParams(key), part: "ids", version }).then(
    (reply) => {
      table.ids = reply.ids;
    },
    (error) => {
      // The tracks changed in between (409): the next visit reloads the table and its ids.
      tableCache.delete(key);
      throw error;
    },
  );
}
