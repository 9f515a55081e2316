"""Endpoints that act on what the page shows: CSV export, saving to Spotify, comparing people."""

from __future__ import annotations

from flask import current_app, jsonify, request, url_for

import store
from api import bp
from api.errors import APIError, bad_request, not_found
from api.export import export_csv, parse_ids, safe_filename
from api.params import MAX_TEXT, check_text, text_param
from api.people import compare_people
from api.playlist_save import MAX_TRACKS, save_playlist
from api.routes import _with_colours
from web import login
from web.spotify_tokens import TokenEndpointDown, current_access_token, describe

NAME_MAX = 100
DESCRIPTION_MAX = 300
# Longer lists go by POST: servers refuse request lines over a few kB (gunicorn: 4094 bytes).
GET_IDS_MAX = 1000


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("send a JSON object")
    return body


def _optional_text(body: dict, key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise bad_request(f"'{key}' must be printable text of at most {limit} characters")
    return value.strip() or None


@bp.route("/export.csv", methods=["GET", "POST"])
def export():
    if request.method == "POST":
        body = _json_body()
        raw_ids = body.get("ids")
        playlist = _optional_text(body, "playlist", 200)
        filename = _optional_text(body, "filename", 200)
    else:
        raw_ids = text_param("ids", max_length=GET_IDS_MAX * 23)
        playlist = text_param("playlist")
        filename = None
    if raw_ids is None and not playlist:
        raise bad_request("give 'playlist', 'ids', or both")
    ids = parse_ids(raw_ids) if raw_ids is not None else None
    target = store.get_store()
    text, skipped = export_csv(target, ids, playlist)
    fallback = "plotify-selection"
    if playlist and ids is None:
        fallback = (target.get_playlist(playlist) or {}).get("name") or playlist
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    name = safe_filename(filename or fallback, "plotify-export")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Plotify-Skipped"] = str(skipped)
    return response


@bp.get("/playlists/<playlist_id>/people")
def playlist_people(playlist_id):
    check_text("playlist_id", playlist_id, MAX_TEXT)
    target = store.get_store()
    if target.get_playlist(playlist_id) is None:
        raise not_found(f"no playlist with id {playlist_id!r}")
    listed = [p for p in target.list_playlists() if p["id"] == playlist_id][0]
    tracks = target.read_tracks_frame(playlist=playlist_id)
    return jsonify(playlist=playlist_id, **compare_people(tracks, _with_colours(listed["people"])))


@bp.get("/me")
def me():
    record = login.login_store().read(login.login_id())
    body = {
        "configured": login.configured(),
        **describe(record),
        "login_url": url_for("auth.login"),
    }
    if record.get("refused"):
        body["message"] = record["refused"]
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"  # who is logged in changes without the URL
    return response


def _access_token() -> str:
    if not login.configured():
        raise APIError(503, "spotify_not_configured", login.NOT_CONFIGURED)
    current = login.login_id()
    try:
        token = current_access_token(login.login_store(), current, login.token_client())
    except TokenEndpointDown as exc:
        current_app.logger.warning("Spotify token refresh failed: %s", exc)
        raise APIError(502, "spotify_unavailable", "Spotify could not be reached.") from None
    if token is None:
        raise APIError(401, "not_logged_in", "Log in with Spotify first.")
    return token


@bp.post("/spotify/playlists")
def spotify_playlist():
    body = _json_body()
    name = _optional_text(body, "name", NAME_MAX)
    if not name:
        raise bad_request(f"'name' is required: printable text of at most {NAME_MAX} characters")
    description = _optional_text(body, "description", DESCRIPTION_MAX) or ""
    public = body.get("public", False)
    if not isinstance(public, bool):
        raise bad_request("'public' must be true or false")
    ids = parse_ids(body.get("ids"))
    if len(ids) > MAX_TRACKS:
        raise bad_request(f"a Spotify playlist holds at most {MAX_TRACKS} tracks")
    client = login.client_for(_access_token())
    saved = save_playlist(client, name, description, public, ids, login.refusal_message)
    return jsonify(saved), 201
