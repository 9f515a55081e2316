"""ReccoBeats (free, keyless): audio features and recommendations by Spotify track id."""

from __future__ import annotations

import re

import requests

from etl.calls import CallGuard, MalformedAnswer, check_json_answer
from store.records import InvalidRecord, normalize_track

DEFAULT_API_BASE = "https://api.reccobeats.com"
FEATURES_BATCH = 40  # clients report that larger batches are silently truncated
MAX_SEEDS = 5

_SPOTIFY_HREF = re.compile(r"open\.spotify\.com/(?:intl-[\w-]+/)?(track|artist)/([0-9A-Za-z]{22})")


def spotify_id_from_href(href: str | None, kind: str = "track") -> str | None:
    """The Spotify id in an open.spotify.com link (ReccoBeats does not echo Spotify ids)."""
    match = _SPOTIFY_HREF.search(href or "")
    if match and match.group(1) == kind:
        return match.group(2)
    return None


class ReccoBeatsApi:
    """The two ReccoBeats endpoints the ETL needs, through requests under the shared CallGuard."""

    def __init__(
        self,
        guard: CallGuard,
        api_base: str = DEFAULT_API_BASE,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ):
        self.guard = guard
        self.base = api_base.rstrip("/") + "/v1/"
        if session is None:
            session = requests.Session()
            session.hooks["response"].append(check_json_answer)
        self.session = session
        self.timeout = timeout

    def _get(self, endpoint: str, path: str, params) -> dict:
        def fetch():
            response = self.session.get(
                self.base + path,
                params=params,
                timeout=self.timeout,
                headers={"Accept": "application/json"},
            )
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise MalformedAnswer(f"answer without a JSON object ({body!r:.40})")
            return body

        return self.guard.call(endpoint, fetch)

    def audio_features(self, track_ids: list[str]) -> dict[str, dict]:
        """{spotify id: features} for up to 40 ids; tracks ReccoBeats does not know are absent."""
        if len(track_ids) > FEATURES_BATCH:
            raise ValueError(f"at most {FEATURES_BATCH} ids per ReccoBeats /audio-features call")
        endpoint = "ReccoBeats GET /v1/audio-features"
        body = self._get(endpoint, "audio-features", {"ids": ",".join(track_ids)})
        found = {}
        for item in self.guard.drop_nulls(endpoint, body.get("content")):
            spotify_id = spotify_id_from_href(item.get("href"))
            if spotify_id:
                found[spotify_id] = item
        return found

    def recommendations(self, seeds: list[str], size: int = 20) -> list[dict]:
        """Recommended ReccoBeats track objects for ≤ 5 Spotify track ids."""
        if not 1 <= len(seeds) <= MAX_SEEDS:
            raise ValueError(f"ReccoBeats recommendations take 1 to {MAX_SEEDS} seeds")
        endpoint = "ReccoBeats GET /v1/track/recommendation"
        body = self._get(endpoint, "track/recommendation", {"seeds": ",".join(seeds), "size": size})
        items = self.guard.drop_nulls(endpoint, body.get("content"))
        for item in items:
            if isinstance(item.get("artists"), list):
                item["artists"] = self.guard.drop_nulls(endpoint, item["artists"])
        return items


def track_record(item: dict) -> dict | None:
    """A canonical record (metadata) from a ReccoBeats track, or None without a Spotify id."""
    if not isinstance(item, dict):
        return None
    spotify_id = spotify_id_from_href(item.get("href"))
    if spotify_id is None:
        return None
    artists = [a for a in item.get("artists") or [] if isinstance(a, dict)]
    artist_ids = [spotify_id_from_href(a.get("href"), "artist") for a in artists]
    raw = {
        "id": spotify_id,
        "name": item.get("trackTitle"),
        "artists": [a.get("name") or "" for a in artists],
        # artist_ids must line up with artists, so keep them only when every artist has one.
        "artist_ids": artist_ids if all(artist_ids) else None,
        "duration_ms": item.get("durationMs"),
        "popularity": item.get("popularity"),
    }
    # artists stays even when empty (every artist came back null), as Spotify records keep it:
    # the embedded store cannot read a track back whose artists are missing altogether.
    try:
        return normalize_track(
            {k: v for k, v in raw.items() if v is not None and (v != [] or k == "artists")}
        )
    except InvalidRecord:
        return None
