"""The OpenAPI 3.1 document of the JSON API (kept true by tests/test_api.py)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


# Text parameters: at most 200 characters and no control characters (C0, DEL, C1), which the
# pattern states; surrogate, private-use and unassigned code points are refused too (400), which a
# pattern cannot state portably, so the description does.
TEXT = {
    "type": "string",
    "maxLength": 200,
    "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
    "description": "printable text, at most 200 characters; control, surrogate, private-use "
    "and unassigned characters are refused with 400; blank means absent",
}
TRACK_ID = {"type": "string", "pattern": "^[0-9A-Za-z]{22}$"}
PATH_TRACK_ID = {
    "name": "track_id",
    "in": "path",
    "required": True,
    "schema": TRACK_ID,
    "description": "Spotify track id",
}
OBJECT = {"type": "object"}

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Plotify API",
        "version": "1.0.0",
        "description": "Tracks, playlists, recommendations, genre prediction and clusters. "
        'Every error is JSON: {"error": code, "message": text}.',
    },
    "paths": {
        "/healthz": {
            "get": {
                "summary": "Store and model status",
                "responses": {
                    "200": _ok("healthy", OBJECT),
                    "503": _ok("store unavailable", OBJECT),
                },
            }
        },
        "/api/playlists": {
            "get": {
                "summary": "Stored playlists with track counts and their people (with colours)",
                "responses": {
                    "200": _ok(
                        "playlists",
                        {
                            "type": "object",
                            "required": ["playlists"],
                            "properties": {
                                "playlists": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Playlist"},
                                }
                            },
                        },
                    ),
                    "503": _error("database unavailable"),
                },
            }
        },
        "/api/datasets": {
            "get": {
                "summary": "Labelled datasets",
                "responses": {
                    "200": _ok("datasets", OBJECT),
                    "503": _error("database unavailable"),
                },
            }
        },
        "/api/tracks": {
            "get": {
                "summary": "Tracks as column arrays: a playlist, a labelled dataset or all",
                "description": "gzip when accepted; ETag/If-None-Match answers 304. Give at "
                "most one of playlist and dataset (both: 400); neither: the whole catalogue. "
                "An unknown playlist or dataset is a 404. A dataset's or the catalogue's "
                "columns leave the ids out (they do not compress) and name, in ids.version, "
                "the version whose part=ids document lists them row for row; a version the "
                "tracks have moved on from is a 409, and a version without part=ids a 400.",
                "parameters": [
                    _query("playlist", "playlist id", TEXT),
                    _query("dataset", "labelled dataset name", TEXT),
                    _query("part", "ids: the ids of the rows, in their order", {"enum": ["ids"]}),
                    _query("version", "with part=ids: the ids.version of the columns", TEXT),
                ],
                "responses": {
                    "200": _ok(
                        "columns, or with part=ids the ids",
                        {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Tracks"},
                                {"$ref": "#/components/schemas/TrackIds"},
                            ]
                        },
                    ),
                    "304": {"description": "unchanged since the ETag"},
                    "400": _error("bad parameters"),
                    "404": _error("unknown playlist/dataset"),
                    "409": _error("part=ids of a version the tracks have moved on from"),
                    "503": _error("database unavailable"),
                },
            }
        },
        "/api/tracks/{track_id}": {
            "get": {
                "summary": "One stored track with its genres",
                "parameters": [PATH_TRACK_ID],
                "responses": {
                    "200": _ok("track", OBJECT),
                    "400": _error("malformed id"),
                    "404": _error("unknown track"),
                    "503": _error("database unavailable"),
                },
            }
        },
        "/api/tracks/{track_id}/recommendations": {
            "get": {
                "summary": "Stored recommendations for a track, else the nearest by audio features",
                "parameters": [
                    PATH_TRACK_ID,
                    _query(
                        "limit",
                        "at most this many",
                        {"type": "integer", "minimum": 1, "maximum": 100},
                    ),
                ],
                "responses": {
                    "200": _ok(
                        "recommendations",
                        {
                            "type": "object",
                            "required": ["seed", "kind", "recommendations"],
                            "properties": {
                                "kind": {"enum": ["stored", "similar"]},
                                "seed": OBJECT,
                                "recommendations": {"type": "array"},
                                "total": {"type": "integer"},
                            },
                        },
                    ),
                    "400": _error("bad parameters"),
                    "404": _error("unknown track"),
                    "503": _error("database unavailable"),
                },
            }
        },
        "/api/predict": {
            "get": {
                "summary": "Predict a track's genre from its audio features",
                "description": "Give artist and/or track text, or a track_id: at least one of the "
                "three is required (none: 400). The track is looked up in the local "
                "catalogue by the same resolver as /api/search (case, accents, "
                "punctuation, word order, typos and suffixes such as ' - Remastered' "
                "forgiven; the boxes may also hold 'artist title' in one), then on "
                "Spotify when credentials are configured. match_quality says how "
                "the track matched; a weak best match (fuzzy below 85) is a 404 "
                "no_close_match whose message says 'did you mean …' and whose "
                "alternatives list those tracks (id, name, artists, score); no match at all "
                "is a 404.",
                "parameters": [
                    _query("artist", "artist name", TEXT),
                    _query("track", "track title", TEXT),
                    _query("track_id", "Spotify track id", TRACK_ID),
                    _query(
                        "top_k", "how many genres", {"type": "integer", "minimum": 1, "maximum": 20}
                    ),
                ],
                "responses": {
                    "200": _ok("prediction", {"$ref": "#/components/schemas/Prediction"}),
                    "400": _error("missing or malformed input"),
                    "404": _error("no match"),
                    "502": _error("upstream API failed"),
                    "503": _error("model missing or database unavailable"),
                },
            }
        },
        "/api/search": {
            "get": {
                "summary": "Type-ahead search: catalogue tracks and artists, then Spotify's",
                "description": "Give q (one box: 'artist title' in either order, or either alone) "
                "or artist and/or track (two boxes), not both (400); none: 400. "
                "Ranked exact, then prefix, then all words, then fuzzy (rapidfuzz), "
                "ties by popularity; case, accents, punctuation, word order, "
                "'(feat. …)' and ' - Remastered …' suffixes do not matter. With "
                "Spotify credentials its hits (at most 10) follow, source 'spotify'. "
                "Nothing matching is a 404.",
                "parameters": [
                    _query("q", "one box: artist and/or title", TEXT),
                    _query("artist", "artist name", TEXT),
                    _query("track", "track title", TEXT),
                    _query(
                        "limit",
                        "at most this many catalogue results",
                        {"type": "integer", "minimum": 1, "maximum": 25},
                    ),
                ],
                "responses": {
                    "200": _ok("results", {"$ref": "#/components/schemas/Search"}),
                    "400": _error("missing or malformed input"),
                    "404": _error("nothing matches"),
                    "503": _error("database unavailable"),
                },
            }
        },
        "/api/search/examples": {
            "get": {
                "summary": "Three popular catalogue tracks (the predictor's placeholder examples)",
                "responses": {
                    "200": _ok(
                        "examples",
                        {
                            "type": "object",
                            "required": ["examples"],
                            "properties": {"examples": {"type": "array", "items": OBJECT}},
                        },
                    ),
                    "503": _error("database unavailable"),
                },
            }
        },
        "/api/clusters": {
            "get": {
                "summary": "The saved affinity-propagation clusters",
                "responses": {"200": _ok("clusters", OBJECT), "404": _error("not computed yet")},
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": _ok("OpenAPI document", OBJECT)},
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                    "alternatives": {
                        "type": "array",
                        "description": "no_close_match only: the near misses, best first",
                        "items": {"type": "object"},
                    },
                },
            },
            "Person": {
                "type": "object",
                "required": ["id", "display_name", "track_count", "color"],
                "properties": {
                    "id": {"type": "string"},
                    "display_name": {"type": "string"},
                    "track_count": {"type": "integer"},
                    "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
                },
            },
            "Playlist": {
                "type": "object",
                "required": ["id", "name", "track_count", "people"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "snapshot_id": {"type": ["string", "null"]},
                    "track_count": {"type": "integer"},
                    "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
                },
            },
            "Tracks": {
                "type": "object",
                "required": ["count", "features", "columns", "source"],
                "properties": {
                    "count": {"type": "integer"},
                    "features": {"type": "array", "items": {"type": "string"}},
                    "columns": {"type": "object", "additionalProperties": {"type": "array"}},
                    "source": OBJECT,
                    "people": {"type": "array"},
                    "ids": {
                        "type": "object",
                        "description": "present when the ids are deferred to part=ids",
                        "properties": {"deferred": {"type": "boolean"}, "version": TEXT},
                    },
                },
                "additionalProperties": False,
            },
            "TrackIds": {
                "type": "object",
                "required": ["count", "version", "ids"],
                "properties": {
                    "count": {"type": "integer"},
                    "version": TEXT,
                    "ids": {"type": "array", "items": {"type": "string"}},
                },
                "additionalProperties": False,
            },
            "SearchResult": {
                "type": "object",
                "required": ["id", "name", "artists", "match", "score", "source"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "artists": {"type": ["string", "null"]},
                    "genre": {"type": ["string", "null"]},
                    "popularity": {"type": ["number", "null"]},
                    "match": {"enum": ["exact", "prefix", "words", "fuzzy", "remote"]},
                    "score": {"type": ["number", "null"]},
                    "source": {"enum": ["catalogue", "spotify"]},
                },
            },
            "Search": {
                "type": "object",
                "required": ["query", "results", "artists", "remote"],
                "properties": {
                    "query": {"type": "string"},
                    "results": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/SearchResult"},
                    },
                    "artists": {"type": "array", "items": OBJECT},
                    "remote": {
                        "type": "object",
                        "required": ["status", "count"],
                        "properties": {
                            "status": {"enum": ["ok", "failed", "not_configured"]},
                            "count": {"type": "integer"},
                        },
                    },
                },
            },
            "Prediction": {
                "type": "object",
                "required": [
                    "match",
                    "match_quality",
                    "candidates",
                    "prediction",
                    "actual",
                    "features",
                    "similar",
                    "sources",
                ],
                "properties": {
                    "match": OBJECT,
                    "candidates": {"type": "array"},
                    "match_quality": {
                        "type": "object",
                        "required": ["kind", "score"],
                        "properties": {
                            "kind": {"enum": ["id", "exact", "prefix", "words", "fuzzy", "remote"]},
                            "score": {"type": ["number", "null"]},
                        },
                    },
                    "prediction": {"type": "object", "required": ["genres", "families"]},
                    "actual": OBJECT,
                    "features": OBJECT,
                    "similar": {"type": "array"},
                    "sources": OBJECT,
                },
            },
        }
    },
}

# The acting endpoints (export, Spotify login and saving, people) are described beside them.
from api.openapi_actions import PATHS as _ACTION_PATHS  # noqa: E402
from api.openapi_actions import SCHEMAS as _ACTION_SCHEMAS  # noqa: E402

SPEC["paths"].update(_ACTION_PATHS)
SPEC["components"]["schemas"].update(_ACTION_SCHEMAS)
