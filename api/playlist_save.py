"""Save tracks as a new Spotify playlist of the logged-in person (/me/playlists, then items)."""

from __future__ import annotations

import warnings

import requests
from spotipy.exceptions import SpotifyException

from api.errors import APIError

ITEMS_PER_CALL = 100  # POST /playlists/{id}/items takes at most 100 URIs a call
MAX_TRACKS = 10_000  # a Spotify playlist holds at most 10,000 items


def _refused(exc: SpotifyException, refusal_message) -> APIError:
    """Spotify's error as the API's own: who may act, and what the person can do about it."""
    status = exc.http_status
    if status == 401:
        return APIError(401, "not_logged_in", "Your Spotify login has expired: log in again.")
    if status == 403:
        return APIError(403, "spotify_refused", refusal_message(exc))
    if status == 429:
        return APIError(503, "spotify_busy", "Spotify asks us to slow down: try again in a minute.")
    return APIError(
        502, "spotify_unavailable", f"Spotify could not save the playlist (HTTP {status})."
    )


def save_playlist(
    client, name: str, description: str, public: bool, track_ids: list[str], refusal_message
) -> dict:
    """Create the playlist and add the tracks in order, 100 a call.

    Raises APIError; when the playlist exists but not every track could be added, the message
    says how far it got.
    """
    created = None
    added = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            created = client.current_user_playlist_create(
                name, public=public, collaborative=False, description=description
            )
            for start in range(0, len(track_ids), ITEMS_PER_CALL):
                chunk = track_ids[start : start + ITEMS_PER_CALL]
                client.playlist_add_items(created["id"], [f"spotify:track:{t}" for t in chunk])
                added += len(chunk)
        except (SpotifyException, requests.RequestException) as exc:
            if isinstance(exc, SpotifyException):
                error = _refused(exc, refusal_message)
            else:
                error = APIError(502, "spotify_unavailable", "Spotify could not be reached.")
            if created is not None:
                error.message += (
                    f" The playlist {created.get('name')!r} was created with {added} of "
                    f"{len(track_ids)} tracks."
                )
            raise error from None
    url = (created.get("external_urls") or {}).get("spotify")
    return {"id": created["id"], "url": url, "name": created.get("name"), "added": added}
