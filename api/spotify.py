"""The API's on-demand Spotify calls: predict's fallback look-up and search's remote suggestions."""

from __future__ import annotations

from flask import current_app

import store
from api.errors import APIError

# A person is waiting: one retry and a short rate-limit budget, as the app, never as a user.
INTERACTIVE = {"retries": 1, "max_wait": 5.0, "user_auth": False}


def configured() -> bool:
    """True when the app has Spotify credentials (otherwise nothing here is called)."""
    config = current_app.config
    return bool(config.get("SPOTIFY_CLIENT_ID") and config.get("SPOTIFY_CLIENT_SECRET"))


def brief(record: dict) -> dict:
    """Id, name and artists (joined by ';', as the catalogue gives them) of a track record."""
    artists = record.get("artists")
    return {
        "id": record["id"],
        "name": record.get("name"),
        "artists": ";".join(artists) if isinstance(artists, list) else artists,
    }


def _misconfigured(exc: Exception) -> APIError:
    current_app.logger.error("live ETL settings: %s", exc)
    return APIError(
        503, "spotify_misconfigured", "The Spotify look-up is misconfigured on the server."
    )


def _field_query(query: str | None, artist: str | None, title: str | None) -> str:
    # Field filters keep Spotify's search precise; the text is passed as data, never as a query
    # language of ours.
    if query:
        return query
    parts = (f"artist:{artist}" if artist else "", f"track:{title}" if title else "")
    return " ".join(part for part in parts if part)


def lookup_tracks(track_id: str | None, artist: str | None, title: str | None) -> list[dict]:
    """Tracks by id or search, stored with their features ([] when Spotify knows none).

    Raises APIError: 503 when misconfigured, 502 when Spotify fails.
    """
    from etl.auth import MissingCredentials
    from etl.calls import ApiError
    from etl.lookup import TrackLookup
    from web.settings import live_settings

    try:
        settings = live_settings(current_app.config, current_app.instance_path, **INTERACTIVE)
        lookup = TrackLookup(store.get_store(), settings)
    except ValueError as exc:  # e.g. ETL_HTTP_TIMEOUT=10s, an unknown provider name
        raise _misconfigured(exc) from None
    try:
        if track_id:
            return lookup.by_id(track_id)
        return lookup.search(_field_query(None, artist, title), limit=10)
    except MissingCredentials as exc:
        raise APIError(503, "spotify_unconfigured", str(exc)) from None
    except ApiError as exc:
        current_app.logger.warning("Spotify look-up failed: %s", exc)
        raise APIError(502, "upstream_failed", f"Spotify could not be searched: {exc}") from None


def suggestions(query, artist, title, limit: int) -> tuple[list[dict], dict]:
    """Spotify's search hits as suggestions (no features fetched, nothing stored), and a status.

    A failing Spotify leaves the local suggestions standing: the status says what happened.
    """
    from etl.auth import MissingCredentials
    from etl.calls import ApiError
    from etl.clients import Clients
    from etl.spotify import safe_track_record
    from web.settings import live_settings

    try:
        settings = live_settings(current_app.config, current_app.instance_path, **INTERACTIVE)
    except ValueError as exc:
        raise _misconfigured(exc) from None
    try:
        found = Clients(settings).spotify.search_tracks(_field_query(query, artist, title), limit)
    except MissingCredentials as exc:
        return [], {"status": "not_configured", "count": 0, "message": str(exc)}
    except ApiError as exc:
        current_app.logger.warning("Spotify search failed: %s", exc)
        return [], {"status": "failed", "count": 0, "message": "Spotify could not be searched."}
    records = [r for r in map(safe_track_record, found) if r]
    hits = [
        {
            **brief(r),
            "genre": None,
            "popularity": r.get("popularity"),
            "match": "remote",
            "score": None,
            "source": "spotify",
        }
        for r in records
    ]
    return hits, {"status": "ok", "count": len(hits)}
