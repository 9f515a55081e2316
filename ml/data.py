"""The single entry point through which ML code reads labelled tracks (store or dataset CSV)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.shapes import DEMO_DATASET, SPOTIFY_TRACKS_DATASET
from store.records import AUDIO_FEATURES

DEFAULT_DATASET = DEMO_DATASET

NUMERIC_COLUMNS = (*AUDIO_FEATURES, "duration_ms", "popularity")

# The public 114k CSV names a few columns differently from the store's frame: the importer's
# shape of that file says how, and its label column becomes `label`.
CSV_RENAMES = {
    **{
        headers[0]: name
        for name, headers in SPOTIFY_TRACKS_DATASET.columns.items()
        if headers[0] != name
    },
    SPOTIFY_TRACKS_DATASET.label: "label",
}


class DatasetUnusable(ValueError):
    """The labelled dataset cannot be trained or evaluated on (too small, no usable features)."""


# Two recordings count as the same when every audio feature and the duration agree: the
# dataset carries the same master under several ids (album, single, compilation).
RECORDING_KEY = (*AUDIO_FEATURES, "duration_ms")


def load_labelled_tracks(source, dataset: str = DEFAULT_DATASET) -> pd.DataFrame:
    """One row per (track, label) with the store's frame columns, from a store or a CSV path.

    `source` is a store object (anything with read_tracks_frame) or a path to a CSV laid out like
    the public Spotify Tracks dataset. Rows without a label or without any audio feature are
    dropped.
    """
    if isinstance(source, (str, os.PathLike)):
        frame = _read_dataset_csv(source)
    else:
        frame = source.read_tracks_frame(dataset=dataset)
        if "label" not in frame:
            raise ValueError(f"store returned no label column for dataset {dataset!r}")
    return _normalise(frame)


def _read_dataset_csv(path) -> pd.DataFrame:
    frame = pd.read_csv(path, index_col=0)
    frame = frame.rename(columns=CSV_RENAMES)
    frame["features_source"] = os.path.basename(str(path))
    return frame


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in NUMERIC_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    if "explicit" in frame:
        frame["explicit"] = frame["explicit"].map(_as_flag).astype("float64")
    else:
        frame["explicit"] = np.nan
    for column in ("id", "name", "artists", "album", "label"):
        if column not in frame:
            frame[column] = None
    frame["label"] = frame["label"].astype("object")
    # The public file has one broken row (no names, zero duration): a zero-length track is not
    # music.
    frame.loc[frame["duration_ms"] <= 0, "duration_ms"] = np.nan
    has_label = frame["label"].notna() & (frame["label"].astype(str).str.len() > 0)
    has_audio = frame[list(AUDIO_FEATURES)].notna().any(axis=1)
    frame = frame[has_label & has_audio & frame["id"].notna()]
    frame["primary_artist"] = primary_artists(frame["artists"])
    return frame.reset_index(drop=True)


def _as_flag(value):
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return 1.0
        if lowered in ("false", "0", "no"):
            return 0.0
        return np.nan
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    return float(bool(value))


def primary_artists(artists: pd.Series) -> pd.Series:
    """The headline artist (first of the ';'-joined names), case-folded; None when unknown."""
    first = artists.fillna("").astype(str).str.split(";").str[0].str.strip().str.casefold()
    return first.where(first.str.len() > 0, None)


@dataclass
class DedupeReport:
    """How many rows each de-duplication step removed."""

    rows_in: int = 0
    label_rows_collapsed: int = 0
    multi_label_tracks: int = 0
    duplicate_recordings: int = 0
    rows_out: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "rows_in",
                "label_rows_collapsed",
                "multi_label_tracks",
                "duplicate_recordings",
                "rows_out",
            )
        }


def _stable_rank(keys: pd.Series) -> pd.Series:
    # A hash rather than file order: the public file is sorted by genre, so "keep first" would
    # always hand ambiguous tracks to alphabetically early genres.
    return keys.map(lambda key: hashlib.blake2b(key.encode(), digest_size=8).hexdigest())


def collapse_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per track id; `label` is one of its labels (stable hash of id and label).

    `all_labels` holds all of them.
    """
    labels_per_id = frame.groupby("id", sort=False)["label"].agg(lambda s: sorted(set(s)))
    keys = frame["id"].astype(str) + "\x1f" + frame["label"].astype(str)
    ranked = frame.assign(_rank=_stable_rank(keys))
    one_per_id = (
        ranked.sort_values("_rank").drop_duplicates("id", keep="first").drop(columns=["_rank"])
    )
    one_per_id["all_labels"] = one_per_id["id"].map(labels_per_id)
    return one_per_id.sort_values("id").reset_index(drop=True)


def dedupe_tracks(frame: pd.DataFrame) -> tuple[pd.DataFrame, DedupeReport]:
    """One row per distinct recording: collapse (track, label) rows, then identical recordings.

    A track listed under several labels keeps one of them, chosen by a stable hash of (id, label);
    all its labels stay in `all_labels`. Different ids with identical audio features and duration
    are one recording and keep a single row, so a split can never put a twin on both sides.
    """
    report = DedupeReport(rows_in=len(frame))
    one_per_id = collapse_labels(frame)
    report.multi_label_tracks = int((one_per_id["all_labels"].map(len) > 1).sum())
    report.label_rows_collapsed = len(frame) - len(one_per_id)
    one_per_id = one_per_id.assign(_rank=_stable_rank(one_per_id["id"].astype(str))).sort_values(
        "_rank"
    )
    # Rounded so float noise from different sources cannot hide a twin; NaNs compare equal here.
    twin = one_per_id[list(RECORDING_KEY)].round(6).duplicated(keep="first")
    distinct = one_per_id[~twin.to_numpy()]
    report.duplicate_recordings = int(twin.sum())
    distinct = distinct.drop(columns=["_rank"]).sort_values("id").reset_index(drop=True)
    report.rows_out = len(distinct)
    return distinct, report


def frame_fingerprint(frame: pd.DataFrame, columns=("id", "label", *NUMERIC_COLUMNS)) -> str:
    """sha256 of the training rows (ids, labels, features) in a fixed order (the data hash)."""
    present = [c for c in columns if c in frame]
    ordered = frame[present].sort_values(present[:2] if len(present) >= 2 else present)
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(ordered, index=False).values.tobytes())
    return digest.hexdigest()


def default_dataset_csv() -> str | None:
    """The shared public CSV when it sits beside the checkout (dev and tests), else None."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidate = os.path.join(here, "..", "shared", "data", DEMO_DATASET, "dataset.csv")
    return os.path.normpath(candidate) if os.path.exists(candidate) else None
