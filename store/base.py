"""What every track store offers: idempotent bulk upserts and the reads the app and ML need."""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Iterator

from store.records import AUDIO_FEATURES, TRACK_FIELDS

# Columns of the frame read back for the scatter plot and the ML pipeline.
FRAME_COLUMNS = tuple(f for f in TRACK_FIELDS if f != "artist_ids")
PLAYLIST_TRACK_COLUMNS = ("playlist_id", "track_id", "position", "added_by", "added_at")
RECOMMENDATION_COLUMNS = ("seed_track_id", "track_id", "source", "rank")


# What can be wrong with a database, as a short code and a sentence safe to show anyone: no file
# paths, host names or credentials (those go into the detail, which is only logged or shown to the
# operator on the command line).
FAILURE_MESSAGES = {
    "unreachable": "The database cannot be reached.",
    "read_only": "The database is read-only: nothing can be loaded into it or changed.",
    "disk_full": (
        "The disk holding the database is full (or the database has reached its size limit)."
    ),
    "locked": "The database is locked by another process.",
    "corrupt": "The database file is damaged or is not a Plotify database.",
    "schema": "The database was set up by another program or version: its tables do not match.",
    "denied": "The database refused the configured credentials or permissions.",
    "misconfigured": "The database address in the configuration is not valid.",
    "io_error": "The disk holding the database failed to read or write.",
    "error": "The database answered with an unexpected error.",
}


class StoreUnavailable(RuntimeError):
    """The database cannot be reached, opened or written.

    reason is one of FAILURE_MESSAGES' codes and message its public sentence (optionally more
    specific); detail is what the driver said, with paths and hosts, for logs and the CLI.
    """

    def __init__(self, reason: str, detail: str = "", message: str | None = None):
        if reason not in FAILURE_MESSAGES:
            raise ValueError(f"unknown store failure reason {reason!r}")
        self.reason = reason
        self.message = message or FAILURE_MESSAGES[reason]
        self.detail = detail
        super().__init__(f"{self.message} ({detail})" if detail else self.message)


def chunked(rows: Iterable, size: int) -> Iterator[list]:
    """Yield lists of at most size items."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def clean_value(value):
    """None for NaN so that both back ends see a missing value the same way."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class TrackStore(abc.ABC):
    """A store of tracks, playlists, people, artists, recommendations and labelled datasets.

    Every upsert is keyed (tracks by Spotify id, memberships by (playlist, track), …), applies a
    whole batch or nothing, and returns how many rows it actually changed, so loading the same
    data twice reports 0. Fields absent from an incoming record never erase stored ones.
    """

    backend = "abstract"

    # -- writes ---------------------------------------------------------------------------
    @abc.abstractmethod
    def upsert_tracks(self, records: Iterable[dict]) -> int:
        """Insert or merge canonical track records (see store.records)."""

    @abc.abstractmethod
    def upsert_track_genres(self, rows: Iterable[tuple[str, str, str]]) -> int:
        """Add (track_id, genre, origin) labels; origin says where a label came from."""

    @abc.abstractmethod
    def upsert_playlist(self, playlist: dict) -> int:
        """Insert or merge a playlist (id, name, owner_id, snapshot_id, collaborative, source)."""

    @abc.abstractmethod
    def upsert_playlist_tracks(self, rows: Iterable[dict]) -> int:
        """Insert or merge memberships (playlist_id, track_id, position, added_by, added_at)."""

    @abc.abstractmethod
    def prune_playlist_tracks(self, playlist_id: str, keep_track_ids: Iterable[str]) -> int:
        """Remove memberships of tracks no longer in the playlist; returns rows removed."""

    @abc.abstractmethod
    def upsert_people(self, people: dict[str, str | None]) -> int:
        """Insert or rename people: {spotify user id: display name or None}."""

    @abc.abstractmethod
    def upsert_artists(self, artists: Iterable[dict]) -> int:
        """Insert or merge artists (id, name, genres list)."""

    @abc.abstractmethod
    def upsert_recommendations(self, rows: Iterable[dict]) -> int:
        """Add seed → recommended track links (seed_track_id, track_id, source, rank)."""

    @abc.abstractmethod
    def upsert_dataset(self, dataset: dict) -> int:
        """Insert or update a labelled dataset's description.

        The description has name, label_set, source and description.
        """

    @abc.abstractmethod
    def upsert_dataset_tracks(self, dataset: str, rows: Iterable[tuple[str, str]]) -> int:
        """Add (track_id, label) rows to a labelled dataset."""

    @abc.abstractmethod
    def set_state(self, key: str, value) -> None:
        """Persist a small JSON-able value (ETL checkpoints)."""

    @abc.abstractmethod
    def delete_state(self, key: str) -> None:
        """Forget a checkpoint."""

    # -- reads ----------------------------------------------------------------------------
    @abc.abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers a read of its own tables."""

    @abc.abstractmethod
    def check_writable(self, needed_bytes: int = 0) -> None:
        """Raise StoreUnavailable unless a write could start now; writes nothing.

        Callers that are about to load data (the ETL) call it first, so that a read-only, locked,
        full or unreachable database stops them before their first write rather than midway.
        needed_bytes is their estimate of how much the database will grow.
        """

    def write_problem(self) -> StoreUnavailable | None:
        """Why writes would fail, as far as can be told without taking a lock (for /healthz)."""
        return None

    @abc.abstractmethod
    def data_version(self) -> int:
        """A number that grows with every change, for cache keys and ETags."""

    @abc.abstractmethod
    def counts(self) -> dict[str, int]:
        """Rows per collection: tracks, playlists, people, recommendations, datasets, …"""

    @abc.abstractmethod
    def get_state(self, key: str, default=None):
        """A checkpoint stored by set_state, or default."""

    @abc.abstractmethod
    def get_tracks(self, track_ids: Iterable[str]) -> dict[str, dict]:
        """Track records by id (ids not stored are absent)."""

    @abc.abstractmethod
    def read_tracks_frame(
        self,
        dataset: str | None = None,
        playlist: str | None = None,
        track_ids: Iterable[str] | None = None,
    ):
        """All matching tracks as a pandas DataFrame with FRAME_COLUMNS (artists joined by ';').

        playlist adds added_by/added_at/position columns; dataset yields one row per
        (track, label) with a label column. With no filter: the whole catalogue.
        """

    @abc.abstractmethod
    def list_playlists(self) -> list[dict]:
        """Playlists with track_count and people [{id, display_name, track_count}]."""

    @abc.abstractmethod
    def get_playlist(self, playlist_id: str) -> dict | None:
        """One stored playlist, or None."""

    @abc.abstractmethod
    def get_people(self, person_ids: Iterable[str] | None = None) -> dict[str, str | None]:
        """{person id: display name} (all people when person_ids is None)."""

    @abc.abstractmethod
    def get_artists(self, artist_ids: Iterable[str]) -> dict[str, dict]:
        """Stored artists by id."""

    @abc.abstractmethod
    def get_recommendations(self, seed_track_id: str) -> list[dict]:
        """Stored recommendations for a seed, ordered by source then rank."""

    @abc.abstractmethod
    def recommendation_seed_ids(self) -> set[str]:
        """Seed track ids that have stored recommendations."""

    @abc.abstractmethod
    def get_track_genres(self, track_ids: Iterable[str]) -> dict[str, list[dict]]:
        """{track id: [{genre, origin}]} for the given tracks."""

    @abc.abstractmethod
    def dataset_labels(self, dataset: str) -> list[tuple[str, str]]:
        """(track_id, label) rows of a labelled dataset, ordered by track then label."""

    @abc.abstractmethod
    def list_datasets(self) -> list[dict]:
        """Labelled datasets with their row and track counts."""

    def close(self) -> None:  # noqa: B027 - optional: only back ends holding connections need it
        """Release connections (safe to call twice)."""

    # -- shared helpers ---------------------------------------------------------------------
    @staticmethod
    def track_row(record: dict) -> tuple:
        """A record as a tuple in TRACK_FIELDS order, None where absent."""
        return tuple(clean_value(record.get(field)) for field in TRACK_FIELDS)

    def is_empty(self) -> bool:
        """True when no track is stored."""
        return self.counts().get("tracks", 0) == 0


def frame_from_rows(rows, columns):
    """Build the read-back DataFrame with numeric features as float (NaN where absent)."""
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for field in (*AUDIO_FEATURES, "popularity", "duration_ms"):
        if field in frame:
            frame[field] = pd.to_numeric(frame[field], errors="coerce").astype("float64")
    return frame
