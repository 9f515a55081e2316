"""What the stand-in knows, from the real shared data: tracks, features, artists, playlists."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field

from etl.demo import PEOPLE_FILE as PEOPLE_JSON
from store.records import AUDIO_FEATURES
from tests.support import (
    DATASET_CSV,
    PLAYLIST_CSV,
    PLOTIFY_PLAYLIST_ID,
    PLOTIFY_PLAYLIST_NAME,
    RECOMMENDATIONS_CSV,
)

# The seed data does not say who owns the playlist; the seed repository belongs to Pauly
# Richmeier, who also added the most tracks, so the stand-in makes him the owner.
PLOTIFY_OWNER_ID = "5x3jsdd20gyv86pg2naw63zwp"

# Spotify's audio-feature fields, which the stand-in serves as Spotify does.
FEATURES = AUDIO_FEATURES
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def synthetic_id(kind: str, text: str) -> str:
    """A deterministic 22-character base-62 id for things the data names but does not identify.

    The shared data has artist names but no artist ids (and no album ids); the stand-in derives
    ids from the names so every run and every test sees the same ones. They are not Spotify's.
    """
    number = int.from_bytes(hashlib.sha256(f"{kind}:{text}".encode()).digest()[:17], "big")
    digits = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(digits)


def synthetic_uuid(text: str) -> str:
    """A deterministic UUID-shaped id (ReccoBeats names its tracks by UUID, not Spotify id)."""
    h = hashlib.md5(text.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


@dataclass
class Entry:
    """One row of a playlist: a track, or the oddities real playlists hold."""

    kind: str  # "track" | "local" | "episode" | "null"
    track_id: str | None = None
    added_by: str | None = None
    added_at: str | None = None


@dataclass
class Playlist:
    id: str
    name: str
    owner_id: str
    collaborative: bool
    entries: list[Entry] = field(default_factory=list)

    @property
    def snapshot_id(self) -> str:
        """Changes whenever the entries change, like Spotify's version identifier."""
        digest = hashlib.sha256(
            json.dumps(
                [(e.kind, e.track_id, e.added_by, e.added_at) for e in self.entries]
            ).encode()
        )
        return "MTY" + digest.hexdigest()[:29]


@dataclass
class Catalog:
    tracks: dict[str, dict]
    features: dict[str, dict]
    artists: dict[str, dict]
    genre_tracks: dict[str, list[str]]
    recommendations: dict[str, list[str]]
    people: dict[str, str]
    playlists: dict[str, Playlist]

    def copy(self) -> Catalog:
        """A catalog sharing the big read-only tables but with its own playlists to edit."""
        return Catalog(
            self.tracks,
            self.features,
            self.artists,
            self.genre_tracks,
            self.recommendations,
            self.people,
            copy.deepcopy(self.playlists),
        )

    def add_playlist(
        self,
        playlist_id: str,
        name: str,
        track_ids: list[str],
        people: list[str],
        owner_id: str | None = None,
    ) -> Playlist:
        """A playlist of known tracks, added in turn by the given people."""
        entries = [
            Entry("track", t, people[i % len(people)], _added_at(i))
            for i, t in enumerate(track_ids)
        ]
        playlist = Playlist(playlist_id, name, owner_id or people[0], True, entries)
        self.playlists[playlist_id] = playlist
        return playlist


def _added_at(index: int) -> str:
    # The seed export has no timestamps; these are synthetic, one hour apart in list order.
    return f"2021-05-{1 + index // 24:02d}T{index % 24:02d}:00:00Z"


def _number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Build the catalog once per process from ../shared/data (about two seconds)."""
    import pandas as pd

    tracks: dict[str, dict] = {}
    features: dict[str, dict] = {}
    artist_genres: dict[str, set] = {}
    genre_tracks: dict[str, list[str]] = {}

    dataset = pd.read_csv(DATASET_CSV, index_col=0)
    dataset["artists"] = dataset["artists"].fillna("")
    for row in dataset.itertuples(index=False):
        genre_tracks.setdefault(row.track_genre, []).append(row.track_id)
        names = [a for a in row.artists.split(";") if a]
        for name in names:
            artist_genres.setdefault(name, set()).add(row.track_genre)
        if row.track_id in tracks:
            continue  # the same track listed under another genre: identical otherwise
        tracks[row.track_id] = {
            "name": row.track_name if isinstance(row.track_name, str) else "",
            "artists": names,
            "album": row.album_name if isinstance(row.album_name, str) else "",
            "release_date": None,
            "duration_ms": int(row.duration_ms),
            "explicit": bool(row.explicit),
            "popularity": int(row.popularity),
        }
        features[row.track_id] = {f: _number(getattr(row, f)) for f in FEATURES}

    # The seed's recommendations: metadata for tracks the 114k set lacks, features without
    # key/mode (the seed did not keep them), and the seed → recommended links themselves.
    recommended = pd.read_csv(RECOMMENDATIONS_CSV, index_col=0)
    recommendations: dict[str, list[str]] = {}
    for row in recommended.to_dict("records"):
        track_id = row["Recommended Track ID"]
        recommendations.setdefault(row["Original Playlist Track ID"], []).append(track_id)
        _merge_seed_row(tracks, features, track_id, row)

    playlist_rows = pd.read_csv(PLAYLIST_CSV, index_col=0)
    with open(PEOPLE_JSON, encoding="utf-8") as handle:
        people = json.load(handle)
    entries = []
    for index, row in enumerate(playlist_rows.to_dict("records")):
        # The seed's playlist rows have no valence/key/mode; where the 114k set knows the track,
        # its complete features stay.
        _merge_seed_row(tracks, features, row["id"], row, prefer_metadata=True)
        entries.append(Entry("track", row["id"], str(row["user_id"]), _added_at(index)))
    playlists = {
        PLOTIFY_PLAYLIST_ID: Playlist(
            PLOTIFY_PLAYLIST_ID, PLOTIFY_PLAYLIST_NAME, PLOTIFY_OWNER_ID, True, entries
        )
    }

    for info in tracks.values():
        for name in info["artists"]:
            artist_genres.setdefault(name, set())
    artists = {
        synthetic_id("artist", name): {"name": name, "genres": sorted(genres)}
        for name, genres in artist_genres.items()
    }
    return Catalog(tracks, features, artists, genre_tracks, recommendations, people, playlists)


def _merge_seed_row(tracks, features, track_id, row, prefer_metadata=False):
    """Add one seed-plotify row's metadata and features where the catalog lacks them."""
    if track_id not in tracks or prefer_metadata:
        known = tracks.get(track_id, {})
        tracks[track_id] = {
            "name": row["name"],
            "artists": [row["artist"]],
            "album": row["album"],
            "release_date": str(row["release_date"]),
            "duration_ms": int(row["length"]),
            "explicit": known.get("explicit", False),
            "popularity": int(row["popularity"]),
        }
        if known.get("artists") and len(known["artists"]) > 1:
            tracks[track_id]["artists"] = known["artists"]  # the seed kept only the first artist
    if track_id not in features:
        features[track_id] = {f: _number(row.get(f)) for f in FEATURES if f in row}
