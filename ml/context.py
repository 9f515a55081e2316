"""A track's artist context: the mean audio features of its primary artist's other tracks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.data import primary_artists

# What a genre sounds like goes with who plays it: on artist-grouped validation rows the context
# was worth 7 points of the Keras model's top-1 (bench/results/ml_tuning.md). Audio only: the
# artist's mean popularity would reach the model even where popularity is meant to be absent.
CONTEXT_OF = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "loudness",
    "speechiness",
    "tempo",
    "valence",
    "duration_ms",
)
CONTEXT_FEATURES = (*(f"artist_{name}" for name in CONTEXT_OF), "artist_tracks")


def _values(frame: pd.DataFrame) -> np.ndarray:
    """The context features of each row as floats, NaN where absent."""
    return np.column_stack(
        [
            pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            if name in frame
            else np.full(len(frame), np.nan)
            for name in CONTEXT_OF
        ]
    ).reshape(len(frame), len(CONTEXT_OF))


def _artist_keys(frame: pd.DataFrame) -> pd.Series:
    if "artists" not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return primary_artists(frame["artists"])


def _number(value) -> float:
    try:
        return np.nan if value is None else float(value)
    except (TypeError, ValueError):
        return np.nan


class ArtistPool:
    """Per-artist sums and counts of the context features over a pool of tracks (a labelled
    dataset when training, the catalogue when serving), read for any track by its artists."""

    def __init__(self, frame: pd.DataFrame):
        keys = _artist_keys(frame)
        known = keys.notna().to_numpy()
        codes, artists = pd.factorize(keys[known])
        self.index = {artist: i for i, artist in enumerate(artists)}
        values = _values(frame)[known]
        present = ~np.isnan(values)
        size = len(artists)
        self.sums = np.column_stack(
            [np.bincount(codes, np.where(p, v, 0.0), size) for p, v in zip(present.T, values.T)]
        ).reshape(size, len(CONTEXT_OF))
        self.counts = np.column_stack([np.bincount(codes, p, size) for p in present.T]).reshape(
            size, len(CONTEXT_OF)
        )
        self.tracks = np.bincount(codes, minlength=len(artists)).astype(np.float64)

    def context(self, frame: pd.DataFrame, in_pool: bool = True) -> pd.DataFrame:
        """The context columns of each row; in_pool: the rows are the pool's own tracks, each of
        which leaves itself out.

        All NaN where the track names no artist; the means are NaN, and artist_tracks 0, where
        the pool holds no other track of its artist.
        """
        keys = _artist_keys(frame)
        known = keys.notna().to_numpy()
        rows = keys.map(self.index).fillna(-1).to_numpy(dtype=np.int64)
        pooled = rows >= 0
        sums = np.zeros((len(frame), len(CONTEXT_OF)))
        counts = np.zeros((len(frame), len(CONTEXT_OF)))
        tracks = np.zeros(len(frame))
        sums[pooled] = self.sums[rows[pooled]]
        counts[pooled] = self.counts[rows[pooled]]
        tracks[pooled] = self.tracks[rows[pooled]]
        if in_pool:
            itself = pooled
            own = _values(frame)
            own_present = ~np.isnan(own) & itself[:, None]
            sums -= np.where(own_present, own, 0.0)
            counts -= own_present
            tracks -= itself
        means = np.full(sums.shape, np.nan)
        np.divide(sums, counts, out=means, where=counts > 0)
        columns = {f"artist_{name}": means[:, i] for i, name in enumerate(CONTEXT_OF)}
        columns["artist_tracks"] = np.where(known, tracks, np.nan)
        return pd.DataFrame(columns, index=frame.index)

    def with_context(self, frame: pd.DataFrame, in_pool: bool = True) -> pd.DataFrame:
        """frame with its context columns added (replacing any it had)."""
        return pd.concat(
            [
                frame.drop(columns=list(CONTEXT_FEATURES), errors="ignore"),
                self.context(frame, in_pool),
            ],
            axis=1,
        )

    def track_context(self, track: dict, in_pool: bool) -> dict:
        """The context of one track (a dict with its artists), as context() gives it, without
        pandas (a web request's track); in_pool: the track is one of the pool's."""
        artists = track.get("artists")
        first = str(artists).split(";")[0].strip().casefold() if artists else ""
        if not first:
            return dict.fromkeys(CONTEXT_FEATURES)
        row = self.index.get(first)
        if row is None:
            sums, counts, tracks = np.zeros(len(CONTEXT_OF)), np.zeros(len(CONTEXT_OF)), 0.0
        else:
            sums, counts = self.sums[row].copy(), self.counts[row].copy()
            tracks = float(self.tracks[row])
            if in_pool:
                own = np.array([_number(track.get(name)) for name in CONTEXT_OF])
                present = ~np.isnan(own)
                sums[present] -= own[present]
                counts -= present
                tracks -= 1.0
        context = {
            f"artist_{name}": (float(sums[i] / counts[i]) if counts[i] > 0 else None)
            for i, name in enumerate(CONTEXT_OF)
        }
        context["artist_tracks"] = tracks
        return context
