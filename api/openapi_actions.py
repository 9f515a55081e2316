"""The OpenAPI paths and schemas of the acting endpoints: export, Spotify login state and saving,
people comparison (merged into api/openapi.py's SPEC)."""

from __future__ import annotations

from api.export import MAX_IDS

ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object"}
TEXT = {"type": "string", "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}
TRACK_ID = {"type": "string", "pattern": "^[0-9A-Za-z]{22}$"}
CSRF_HEADER = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": True,
    "description": "the page's token (meta csrf-token); without it: 403 csrf_failed",
    "schema": {"type": "string"},
}
NUMBERS = {"type": "object", "additionalProperties": {"type": ["number", "null"]}}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


CSV = {
    "description": "Exportify-compatible CSV (the header `flask etl import` detects as Exportify); "
    "header X-Plotify-Skipped counts unknown ids left out",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}
EXPORT_ERRORS = {
    "400": _error("no playlist or ids, malformed ids, or none of them stored"),
    "404": _error("unknown playlist"),
    "503": _error("database unavailable"),
}

PATHS = {
    "/api/export.csv": {
        "get": {
            "summary": "CSV of a playlist (its order, with Added By/At) or of tracks by id",
            "description": "Give playlist, ids, or both (ids in their order; Added By for those "
            "in the playlist); neither: 400. Ids none of which is a stored track: 400 listing "
            "them. At most 1000 ids here; POST takes longer lists.",
            "parameters": [
                {
                    "name": "playlist",
                    "in": "query",
                    "required": False,
                    "description": "playlist id",
                    "schema": TEXT,
                },
                {
                    "name": "ids",
                    "in": "query",
                    "required": False,
                    "description": "comma-separated Spotify track ids",
                    "schema": {
                        "type": "string",
                        "maxLength": 23000,
                        "pattern": "^([0-9A-Za-z]{22}(,[0-9A-Za-z]{22})*)?$",
                    },
                },
            ],
            "responses": {"200": CSV, **EXPORT_ERRORS},
        },
        "post": {
            "summary": "CSV of tracks by id (long selections)",
            "parameters": [CSRF_HEADER],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["ids"],
                            "properties": {
                                "ids": {"type": "array", "items": TRACK_ID, "maxItems": MAX_IDS},
                                "playlist": TEXT,
                                "filename": TEXT,
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": CSV,
                **EXPORT_ERRORS,
                "403": _error("missing or wrong X-CSRF-Token"),
            },
        },
    },
    "/api/playlists/{playlist_id}/people": {
        "get": {
            "summary": "Each person's feature profile and how alike the people are",
            "parameters": [
                {
                    "name": "playlist_id",
                    "in": "path",
                    "required": True,
                    "schema": TEXT,
                    "description": "playlist id",
                }
            ],
            "responses": {
                "200": _json("profiles and distances", {"$ref": "#/components/schemas/People"}),
                "400": _error("malformed playlist id"),
                "404": _error("unknown playlist"),
                "503": _error("database unavailable"),
            },
        }
    },
    "/api/me": {
        "get": {
            "summary": "Whether Spotify is set up and who is logged in (never a token)",
            "responses": {"200": _json("login state", {"$ref": "#/components/schemas/Me"})},
        }
    },
    "/api/spotify/playlists": {
        "post": {
            "summary": "Save tracks, in order, as a new playlist of the logged-in person",
            "description": "Creates it with POST /me/playlists and adds the tracks with POST "
            "/playlists/{id}/items, 100 a call.",
            "parameters": [CSRF_HEADER],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["name", "ids"],
                            "properties": {
                                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                                "description": {"type": "string", "maxLength": 300},
                                "public": {"type": "boolean", "default": False},
                                "ids": {"type": "array", "items": TRACK_ID, "maxItems": 10000},
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": _json(
                    "created",
                    {
                        "type": "object",
                        "required": ["id", "url", "name", "added"],
                        "properties": {
                            "id": {"type": "string"},
                            "url": {"type": ["string", "null"]},
                            "name": {"type": ["string", "null"]},
                            "added": {"type": "integer"},
                        },
                    },
                ),
                "400": _error("bad name or ids"),
                "401": _error("not logged in (or the login expired)"),
                "403": _error("missing X-CSRF-Token, or Spotify refused (developer-mode cap)"),
                "502": _error("Spotify failed or could not be reached"),
                "503": _error("Spotify not configured, or asking us to slow down"),
            },
        }
    },
}

PERSON_PROFILE = {
    "type": "object",
    "required": ["id", "display_name", "color", "count", "mean", "std", "quartiles", "min", "max"],
    "properties": {
        "id": {"type": "string"},
        "display_name": {"type": "string"},
        "color": {"type": "string"},
        "count": {"type": "integer"},
        "mean": NUMBERS,
        "std": NUMBERS,
        "quartiles": {"type": "object", "additionalProperties": {"type": ["array", "null"]}},
        "min": NUMBERS,
        "max": NUMBERS,
    },
}
SCHEMAS = {
    "People": {
        "type": "object",
        "required": ["playlist", "features", "people", "distances"],
        "properties": {
            "playlist": {"type": "string"},
            "features": {"type": "array", "items": {"type": "string"}},
            "people": {"type": "array", "items": PERSON_PROFILE},
            "distances": {
                "type": "object",
                "required": ["method", "matrix", "most_alike"],
                "properties": {
                    "method": {"type": "string"},
                    "matrix": {"type": "array", "items": {"type": "array"}},
                    "most_alike": {"type": ["object", "null"]},
                },
            },
        },
    },
    "Me": {
        "type": "object",
        "required": ["configured", "logged_in", "user", "login_url"],
        "properties": {
            "configured": {"type": "boolean"},
            "logged_in": {"type": "boolean"},
            "user": {"type": ["object", "null"]},
            "login_url": {"type": "string"},
            "message": {"type": "string"},
        },
    },
}
