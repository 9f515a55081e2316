"""The Spotify Web API through spotipy, every call guarded and named; track-object transforms."""

from __future__ import annotations

import logging
import re
import warnings

import requests
import spotipy
from spotipy.oauth2 import SpotifyClientCredentials

from etl.calls import CallGuard, MalformedAnswer, Unauthorized, check_json_answer
from store.records import InvalidRecord, normalize_track

# spotipy logs every HTTP error at ERROR level; without a handler Python prints those to stderr
# next to our own, clearer message. Keep them available to anyone who configures logging.
logging.getLogger("spotipy").addHandler(logging.NullHandler())

DEFAULT_API_BASE = "https://api.spotify.com"
DEFAULT_TOKEN_URL = "https://accounts.spotify.com/api/token"
DEFAULT_AUTHORIZE_URL = "https://accounts.spotify.com/authorize"
ITEMS_PAGE_SIZE = 50  # /playlists/{id}/items allows at most 50 per page
FEATURES_BATCH = 100  # /audio-features takes at most 100 ids
RECOMMENDATIONS_MAX = 100
SEARCH_MAX = 10  # per page since Feb 2026 for development-mode apps (was 50)

_PLAYLIST_REF = re.compile(
    r"^(?:spotify:playlist:|https?://open\.spotify\.com/(?:intl-[\w-]+/)?playlist/)?"
    r"(?P<id>[0-9A-Za-z]{22})(?:[?#].*)?$"
)


def playlist_id_from(reference: str) -> str:
    """The playlist id in a Spotify URL, URI or bare id; ValueError otherwise."""
    match = _PLAYLIST_REF.match(reference.strip())
    if not match:
        raise ValueError(f"not a Spotify playlist URL, URI or id: {reference!r}")
    return match.group("id")


def plain_session() -> requests.Session:
    """A session whose adapter never retries by itself.

    spotipy's default session retries 429 and 5xx inside urllib3 and, once it gives up, reports
    a 429 "Max Retries" with no headers and no body reason — even when the real failures were
    500s — which hides Retry-After and QUOTA_EXCEEDED (see docs: status_forcelist). Dropping 429
    from status_forcelist still leaves 5xx mislabelled, so urllib3 retries nothing here and
    CallGuard applies one visible policy to every status. Every 2xx JSON answer is checked to
    parse (check_json_answer): spotipy would hand a cut-off body on as a None result.
    """
    session = requests.Session()
    session.hooks["response"].append(check_json_answer)
    adapter = requests.adapters.HTTPAdapter(max_retries=0, pool_maxsize=4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class SpotifyApi:
    """The handful of Spotify endpoints the ETL uses, through one spotipy client."""

    def __init__(
        self,
        auth_manager,
        guard: CallGuard,
        api_base: str = DEFAULT_API_BASE,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ):
        self.guard = guard
        self.client = spotipy.Spotify(
            auth_manager=auth_manager,
            requests_session=session or plain_session(),
            requests_timeout=timeout,
        )
        # spotipy has no base-URL argument; prefix is the documented instance attribute.
        self.client.prefix = api_base.rstrip("/") + "/v1/"

    def _get(self, endpoint: str, fn):
        def answered():
            result = fn()
            if not isinstance(result, (dict, list)):
                # spotipy's result for a body of `null` (or for JSON it could not parse).
                raise MalformedAnswer(f"answer without a JSON object ({result!r})")
            return result

        with warnings.catch_warnings():
            # spotipy warns that Spotify deprecated these endpoints; the fallbacks handle that.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                return self.guard.call(endpoint, answered)
            except Unauthorized:
                manager = self.client.auth_manager
                if not isinstance(manager, SpotifyClientCredentials):
                    raise
                # A cached app token can be revoked or belong to another client id: get a fresh
                # one once, then let a second refusal stand.
                self.guard.call(
                    "Spotify POST /api/token",
                    lambda: manager.get_access_token(as_dict=False, check_cache=False),
                )
                return self.guard.call(endpoint, answered)

    def _clean_track(self, endpoint: str, track):
        """The track with null artists dropped (and counted); non-objects pass through."""
        if isinstance(track, dict) and isinstance(track.get("artists"), list):
            track["artists"] = self.guard.drop_nulls(endpoint, track["artists"])
        return track

    def _clean_tracks(self, endpoint: str, tracks) -> list[dict]:
        """Track objects of a list answer: null entries and null artists dropped and counted."""
        return [self._clean_track(endpoint, t) for t in self.guard.drop_nulls(endpoint, tracks)]

    def _clean_page(self, endpoint: str, page: dict | None) -> dict | None:
        # Null rows stay (the ETL counts them as unavailable and keeps positions counting);
        # null artists inside a row's track are dropped here like everywhere else.
        for row in (page or {}).get("items") or []:
            if isinstance(row, dict):
                for key in ("item", "track"):
                    self._clean_track(endpoint, row.get(key))
        return page

    def playlist(self, playlist_id: str) -> dict:
        """The playlist object (with its first page of items when the app may see them)."""
        endpoint = "Spotify GET /playlists/{id}"
        meta = self._get(
            endpoint,
            lambda: self.client.playlist(playlist_id, additional_types=("track", "episode")),
        )
        for key in ("items", "tracks"):
            if isinstance(meta.get(key), dict):
                self._clean_page(endpoint, meta[key])
        return meta

    def playlist_items(self, playlist_id: str, offset: int) -> dict:
        """One page (50) of playlist items starting at offset."""
        endpoint = "Spotify GET /playlists/{id}/items"
        return self._clean_page(
            endpoint,
            self._get(
                endpoint,
                lambda: self.client.playlist_items(
                    playlist_id, limit=ITEMS_PAGE_SIZE, offset=offset
                ),
            ),
        )

    def next_page(self, page: dict) -> dict | None:
        """The page after this one (its absolute `next` URL), or None."""
        if not page.get("next"):
            return None
        endpoint = "Spotify GET /playlists/{id}/items"
        return self._clean_page(endpoint, self._get(endpoint, lambda: self.client.next(page)))

    def audio_features(self, track_ids: list[str]) -> list[dict | None]:
        """Audio features of up to 100 tracks (None for unknown ones)."""
        if len(track_ids) > FEATURES_BATCH:
            raise ValueError(f"at most {FEATURES_BATCH} ids per /audio-features call")
        return (
            self._get("Spotify GET /audio-features", lambda: self.client.audio_features(track_ids))
            or []
        )

    def artist(self, artist_id: str) -> dict:
        """One artist (multi-get /artists?ids= is gone for development-mode apps).

        Its genres are strings only: null entries are dropped and counted.
        """
        endpoint = "Spotify GET /artists/{id}"
        artist = self._get(endpoint, lambda: self.client.artist(artist_id))
        genres = artist.get("genres") or []
        kept = [g for g in genres if isinstance(g, str) and g]
        if len(kept) < len(genres):
            self.guard.null_entries[endpoint] += len(genres) - len(kept)
        artist["genres"] = kept
        return artist

    def user(self, user_id: str) -> dict:
        """A user's public profile."""
        return self._get("Spotify GET /users/{id}", lambda: self.client.user(user_id))

    def track(self, track_id: str) -> dict:
        """One track object."""
        endpoint = "Spotify GET /tracks/{id}"
        return self._clean_track(endpoint, self._get(endpoint, lambda: self.client.track(track_id)))

    def recommendations(self, seed_tracks=None, seed_genres=None, limit: int = 20) -> list[dict]:
        """Recommended track objects for ≤ 5 seeds in total."""
        seeds = len(seed_tracks or ()) + len(seed_genres or ())
        if not 1 <= seeds <= 5:
            raise ValueError("recommendations take 1 to 5 seeds")
        endpoint = "Spotify GET /recommendations"
        result = self._get(
            endpoint,
            lambda: self.client.recommendations(
                seed_tracks=seed_tracks,
                seed_genres=seed_genres,
                limit=min(limit, RECOMMENDATIONS_MAX),
            ),
        )
        return self._clean_tracks(endpoint, (result or {}).get("tracks"))

    def search_tracks(self, query: str, limit: int = SEARCH_MAX) -> list[dict]:
        """Track objects matching a search (at most 10: the development-mode maximum)."""
        endpoint = "Spotify GET /search"
        result = self._get(
            endpoint, lambda: self.client.search(query, limit=min(limit, SEARCH_MAX), type="track")
        )
        return self._clean_tracks(endpoint, ((result or {}).get("tracks") or {}).get("items"))

    def genre_seeds(self) -> list[str]:
        """Genres that /recommendations accepts as seeds."""
        result = self._get(
            "Spotify GET /recommendations/available-genre-seeds",
            self.client.recommendation_genre_seeds,
        )
        return list((result or {}).get("genres") or [])


def track_record(track: dict) -> dict:
    """A canonical record (metadata only) from a Spotify TrackObject; InvalidRecord if unusable."""
    if not isinstance(track, dict):
        raise InvalidRecord("not a track object")
    artists = [a for a in track.get("artists") or [] if isinstance(a, dict)]
    album = track.get("album") if isinstance(track.get("album"), dict) else {}
    raw = {
        "id": track.get("id"),
        "name": track.get("name"),
        "artists": [a.get("name") or "" for a in artists],
        "artist_ids": [a["id"] for a in artists if a.get("id")],
        "album": album.get("name"),
        "release_date": album.get("release_date"),
        "duration_ms": track.get("duration_ms"),
        "explicit": track.get("explicit"),
        # popularity was removed from dev-mode track objects in Feb 2026: absent, not 0.
        "popularity": track.get("popularity"),
    }
    return normalize_track({k: v for k, v in raw.items() if v is not None})


def safe_track_record(track: dict) -> dict | None:
    """track_record, or None for objects that are not valid tracks."""
    try:
        return track_record(track)
    except InvalidRecord:
        return None
