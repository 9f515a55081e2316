"""The API's endpoints: each reads the store or per-process caches, never a query built of text."""

from __future__ import annotations

import gzip
import json
import os
import time

import orjson
from flask import Response, current_app, jsonify, request

import store
from api import bp, spotify
from api.errors import APIError, bad_request, not_found
from api.folding import fold
from api.model import ModelMissing
from api.params import check_track_id, int_param, text_param, track_id_param
from api.payloads import defer_ids, encoded, tracks_document
from api.rankings import catalogue_prediction
from api.search import index_for, resolve
from ml.features import ARTIST_TRACKS
from store.base import StoreUnavailable
from store.records import AUDIO_FEATURES

# What predict reads of a track: the audio features and the model's other inputs.
MODEL_INPUTS = (*AUDIO_FEATURES, "popularity", "duration_ms", "explicit")

# Stable, distinguishable colours for people, assigned in order of how many tracks they added.
PERSON_COLOURS = (
    "#1db954",
    "#509bf5",
    "#f573a0",
    "#ffc864",
    "#af2896",
    "#ff6437",
    "#7e8c8d",
    "#27856a",
    "#8d67ab",
    "#e8115b",
    "#148a08",
    "#dc148c",
)


def catalogue_now():
    """The catalogue answering requests now (replaced when the store changes)."""
    app = current_app
    return app.extensions["catalogue"].get(store.get_store(), app.config["MODELS_DIR"])


def search_index():
    """The search index of the catalogue now answering (so in step with the store)."""
    return index_for(catalogue_now())


def _with_colours(people: list[dict]) -> list[dict]:
    return [
        {
            **p,
            "display_name": p["display_name"] or p["id"],
            "color": PERSON_COLOURS[i % len(PERSON_COLOURS)],
        }
        for i, p in enumerate(people)
    ]


@bp.get("/playlists")
def playlists():
    found = store.get_store().list_playlists()
    return jsonify(playlists=[{**p, "people": _with_colours(p["people"])} for p in found])


@bp.get("/datasets")
def datasets():
    return jsonify(datasets=store.get_store().list_datasets())


@bp.get("/tracks")
def tracks():
    playlist = text_param("playlist")
    dataset = text_param("dataset")
    part = text_param("part")
    wanted_version = text_param("version")
    if playlist and dataset:
        raise bad_request("give either 'playlist' or 'dataset', not both")
    if part not in (None, "ids"):
        raise bad_request("part must be 'ids' (or left out for the scatter's columns)")
    if wanted_version is not None and part != "ids":
        raise bad_request("version goes with part=ids: the ids.version of the columns read")
    target = store.get_store()
    catalogue, version = current_app.extensions["catalogue"].current(
        target, current_app.config["MODELS_DIR"]
    )
    # Cached on the catalogue itself. Playlist and dataset documents also read the store, so they
    # are keyed by its version; the whole catalogue's only by the catalogue it is made of (while a
    # newer catalogue is built in the background, the current one keeps its document).
    key = tracks_key(playlist, dataset, version if (playlist or dataset) else catalogue.version)
    tag = str(key[-1])

    def build():
        document = _tracks_payload(target, catalogue, playlist, dataset)
        catalogue.payloads.put(("ids", *key), encoded(defer_ids(document, tag)))
        return encoded(document)

    etag, packed = catalogue.payloads.get_or_build(key, build)
    if part == "ids":
        # The ids must be those of the rows the client holds: same sort, same data.
        if wanted_version != tag:
            raise APIError(
                409,
                "stale_version",
                "that version of the tracks is gone (they changed since it was read): "
                "load /api/tracks again",
            )
        found = catalogue.payloads.get(("ids", *key))
        if found is None:  # pushed out of the small cache by other documents
            document = _tracks_payload(target, catalogue, playlist, dataset)
            found = encoded(defer_ids(document, tag))
            catalogue.payloads.put(("ids", *key), found)
        etag, packed = found
    return _gzipped_json(etag, packed)


def _gzipped_json(etag: str, packed: bytes) -> Response:
    """A pre-encoded document: gzip when the client takes it, ETag revalidation, no-cache."""
    if etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"', "Cache-Control": "no-cache"})
    gzipped = "gzip" in request.accept_encodings
    response = Response(packed if gzipped else gzip.decompress(packed), mimetype="application/json")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["ETag"] = f'"{etag}"'
    # The browser revalidates every time; an unchanged store answers 304 with no body.
    response.headers["Cache-Control"] = "no-cache"
    return response


def tracks_key(playlist, dataset, version) -> tuple:
    return ("tracks", playlist, dataset, version)


def prepare_catalogue(catalogue, target) -> None:
    """Encode the whole-catalogue document and build the search index of a catalogue built in the
    background, before it serves.

    Otherwise the first request after the swap would wait seconds for them.
    """
    key = tracks_key(None, None, catalogue.version)
    document = _tracks_payload(target, catalogue, None, None)
    catalogue.payloads.put(("ids", *key), encoded(defer_ids(document, str(key[-1]))))
    catalogue.payloads.put(key, encoded(document))
    index_for(catalogue)


def _tracks_payload(target, catalogue, playlist: str | None, dataset: str | None) -> dict:
    if playlist:
        info = target.get_playlist(playlist)
        if info is None:
            raise not_found(f"no playlist with id {playlist!r}")
        members = target.read_tracks_frame(playlist=playlist)
        extra = members[["id", "added_by", "added_at"]]
        people = [p for p in target.list_playlists() if p["id"] == playlist][0]["people"]
        return {
            **tracks_document(
                catalogue,
                list(members["id"]),
                extra,
                {"kind": "playlist", "id": playlist, "name": info["name"]},
            ),
            "people": _with_colours(people),
        }
    if dataset:
        if dataset not in {d["name"] for d in target.list_datasets()}:
            raise not_found(f"no labelled dataset named {dataset!r}")
        ids = list(dict.fromkeys(target.read_tracks_frame(dataset=dataset)["id"]))
        return tracks_document(
            catalogue, ids, None, {"kind": "dataset", "name": dataset}, keep_order=False
        )
    return tracks_document(
        catalogue, list(catalogue.frame["id"]), None, {"kind": "catalogue"}, keep_order=False
    )


def _track_or_404(track_id: str) -> tuple[object, int]:
    catalogue = catalogue_now()
    row = catalogue.row_of.get(check_track_id(track_id))
    if row is None:
        raise not_found(f"no stored track with id {track_id!r}")
    return catalogue, row


@bp.get("/tracks/<track_id>")
def track(track_id):
    catalogue, row = _track_or_404(track_id)
    record = catalogue.record(row)
    record["genres"] = store.get_store().get_track_genres([track_id]).get(track_id, [])
    return jsonify(track=record)


@bp.get("/tracks/<track_id>/recommendations")
def recommendations(track_id):
    catalogue, row = _track_or_404(track_id)
    limit = int_param("limit", 25, 1, 100)
    stored = store.get_store().get_recommendations(track_id)
    seed = catalogue.record(row)
    if stored:
        items = []
        for rec in stored[:limit]:
            rec_row = catalogue.row_of.get(rec["track_id"])
            details = catalogue.record(rec_row) if rec_row is not None else {"id": rec["track_id"]}
            items.append({**details, "source": rec["source"], "rank": rec["rank"]})
        return jsonify(seed=seed, kind="stored", recommendations=items, total=len(stored))
    similar = catalogue.nearest(seed, k=limit, exclude={track_id}, row=row)
    items = [
        {
            **catalogue.record(catalogue.row_of[s["id"]]),
            "distance": s["distance"],
            "source": "similar by audio features",
            "rank": i + 1,
        }
        for i, s in enumerate(similar)
    ]
    return jsonify(seed=seed, kind="similar", recommendations=items, total=len(items))


@bp.get("/predict")
def predict():
    track_id = track_id_param()
    artist = text_param("artist")
    title = text_param("track")
    top_k = int_param("top_k", 5, 1, 20)
    if not (track_id or artist or title):
        raise bad_request("give an artist and/or a track name, or a track_id")
    try:
        predictor = current_app.extensions["model"].get()
    except ModelMissing as exc:
        raise APIError(503, "model_unavailable", str(exc)) from None
    catalogue = catalogue_now()
    # Answers from the local catalogue depend only on the query, the catalogue (whose object is
    # replaced when the store changes) and the model, so repeated questions are served from memory.
    key = (id(predictor), track_id, fold(artist), fold(title), top_k)
    cached = catalogue.answers.get(key)
    if cached is None:
        body, from_catalogue = _prediction(predictor, catalogue, track_id, artist, title, top_k)
        # A right-sized copy: orjson's bytes keep their whole write buffer (4 kB or more for a
        # 2.3 kB answer), which across the answer cache grew every worker by 4 MB.
        cached = bytes(memoryview(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)))
        if from_catalogue:
            catalogue.answers.put(key, cached)
    return current_app.response_class(cached, mimetype="application/json")


def _prediction(predictor, catalogue, track_id, artist, title, top_k) -> tuple[dict, bool]:
    """The predict answer, and whether it came from the local catalogue alone."""
    source = "catalogue"
    if track_id:
        row = catalogue.row_of.get(track_id)
        found = [] if row is None else [row]
        quality, alternatives, near = {"kind": "id", "score": 100.0}, [], []
    else:
        # The same resolver as /api/search: typos, accents, word order and suffixes forgiven.
        index = search_index()
        resolution = resolve(index, artist, title)
        rows = [catalogue.row_of.get(index.ids[h.row]) for h in resolution.hits]
        found = [rows[0]] if resolution.best is not None and rows[0] is not None else []
        near = [index.brief(h) for h in resolution.hits]
        quality = {"kind": near[0]["match"], "score": near[0]["score"]} if found else None
        alternatives = near[1:]
    if found:
        match = catalogue.record(found[0])
        candidates = alternatives
    else:
        hits = _spotify_lookup(track_id, artist, title, near)
        match, candidates, source = hits[0], [spotify.brief(h) for h in hits[1:]], "spotify"
        quality = {"kind": "remote", "score": None}
    features = {f: match[f] for f in MODEL_INPUTS if match.get(f) is not None}
    row = found[0] if found else None  # the match's catalogue row
    # How many other catalogue tracks its artist has: the network reads their mean (ml.context).
    features[ARTIST_TRACKS] = catalogue.artist_pool.others_of(match, leave_out=row)
    if not any(f in features for f in AUDIO_FEATURES):
        raise APIError(
            404,
            "no_features",
            f"no audio features are known for {match.get('name')!r} "
            "(neither Spotify nor ReccoBeats has them)",
        )
    genres = store.get_store().get_track_genres([match["id"]]).get(match["id"], [])
    body = dict(
        match=match,
        match_quality=quality,
        candidates=candidates,
        prediction=catalogue_prediction(predictor, catalogue, row, features, match, top_k),
        actual={
            "labels": sorted({g["genre"] for g in genres if g["origin"].startswith("dataset:")}),
            "artist_genres": sorted({g["genre"] for g in genres if g["origin"] == "artist"}),
        },
        features=features,
        similar=catalogue.nearest(match, k=5, exclude={match["id"]}, row=row),
        sources={
            "track": source,
            "features": match.get("features_source"),
            "model": f"genre model trained {predictor.meta.get('created')}",
        },
    )
    return body, source == "catalogue"


def _did_you_mean(near: list[dict]) -> str:
    names = [f"\u201c{n['name']}\u201d by {', '.join(n['artists'].split(';'))}" for n in near[:3]]
    return f" Did you mean {' or '.join(names)}?" if names else ""


def _no_match(what: str, near: list[dict], where: str):
    """404 for text nothing matches: "did you mean …" with the near misses, when there are any."""
    if near:
        return APIError(
            404,
            "no_close_match",
            f"no track matches {what!r} closely {where}.{_did_you_mean(near)}",
            alternatives=near,
        )
    return not_found(f"no track matching {what!r} {where}")


def _spotify_lookup(
    track_id: str | None, artist: str | None, title: str | None, near: list[dict] = ()
) -> list[dict]:
    """Tracks from Spotify (features through the ETL providers), or a 404/502/503 APIError."""
    what = track_id or " – ".join(x for x in (artist, title) if x)
    if not spotify.configured():
        raise _no_match(
            what,
            near,
            "in the local catalogue (set SPOTIFY_CLIENT_ID and "
            "SPOTIFY_CLIENT_SECRET to search Spotify too)",
        )
    hits = spotify.lookup_tracks(track_id, artist, title)
    if not hits:
        raise _no_match(what, near, "in the local catalogue or on Spotify")
    return hits


@bp.get("/search")
def search():
    """Type-ahead: catalogue tracks (and artists) for one box or two, then Spotify's, if set up."""
    query = text_param("q")
    artist = text_param("artist")
    title = text_param("track")
    limit = int_param("limit", 10, 1, 25)
    if query and (artist or title):
        raise bad_request("give either 'q' or 'artist'/'track', not both")
    if not (query or artist or title):
        raise bad_request("give 'q', or an artist and/or a track")
    index = search_index()
    if query:
        hits = index.search(q=query, limit=limit)
    else:
        hits = index.search(artist=artist, track=title, limit=limit)
    text = query or " ".join(x for x in (artist, title) if x)
    results = [index.brief(h) for h in hits]
    remote = {"status": "not_configured", "count": 0}
    if spotify.configured():
        remote_hits, remote = spotify.suggestions(query, artist, title, min(limit, 10))
        known = {r["id"] for r in results}
        # After the local ones: a click on one fetches its features (predict by track_id).
        results += [r for r in remote_hits if r["id"] not in known]
    if not results:
        raise not_found(f"nothing in the catalogue matches {text!r}")
    artists = index.artists_matching(hits, fold(text))
    body = orjson.dumps(dict(query=text, results=results, artists=artists, remote=remote))
    return current_app.response_class(body, mimetype="application/json")  # orjson: per keystroke


@bp.get("/search/examples")
def search_examples():
    """A few popular catalogue tracks, for the predictor's placeholder and first suggestions."""
    count = 3
    index = search_index()
    if not len(index):
        return jsonify(examples=[])
    import numpy as np

    # Drawn from the 200 most popular, so every example is a track people know and is there.
    top = np.argsort(-index.popularity, kind="stable")[:200]
    picked = np.random.default_rng().choice(top, size=min(count, len(top)), replace=False)
    return jsonify(
        examples=[
            {
                "id": index.ids[r],
                "name": index.names[r],
                "artist": index.artists[r].split(";")[0],
                "artists": index.artists[r],
                "genre": index.genres[r],
            }
            for r in picked.tolist()
        ]
    )


@bp.get("/clusters")
def clusters():
    path = os.path.join(current_app.config["MODELS_DIR"], "clusters.json")
    if not os.path.isfile(path):
        raise APIError(404, "not_found", "No clusters yet: run `flask --app app ml cluster`.")
    with open(path, encoding="utf-8") as handle:
        return current_app.response_class(handle.read(), mimetype="application/json")


@bp.get("/openapi.json")
def openapi():
    from api.openapi import SPEC

    return jsonify(SPEC)


def healthz():
    """Cheap liveness and readiness: can the store be read and written, is the model loaded.

    503 when the store cannot be read (the page cannot work); 200 with "degraded" when it can be
    read but not written (the page works, loading data does not). Each problem is named by a
    short reason code and a sentence without paths or hosts; the detail goes to the log.
    """
    started = time.perf_counter()
    target = store.get_store()
    store_status = {"status": "ok", "backend": target.backend}
    try:
        target.ping()
        problem = target.write_problem()
        if problem is not None:
            current_app.logger.warning("healthz: writes refused: %s", problem)
            store_status.update(
                status="writes_refused", reason=problem.reason, message=problem.message
            )
    except StoreUnavailable as exc:
        current_app.logger.warning("healthz: %s", exc)
        store_status.update(status="unavailable", reason=exc.reason, message=exc.message)
    model = current_app.extensions["model"].status()
    readable = store_status["status"] != "unavailable"
    body = {
        "status": "ok" if store_status["status"] == "ok" else "degraded",
        "store": store_status,
        "model": model,
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    return current_app.response_class(
        json.dumps(body), status=200 if readable else 503, mimetype="application/json"
    )
