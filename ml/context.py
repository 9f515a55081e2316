"""A track's artist context: what its primary artist's other tracks sound like."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.data import primary_artists
from ml.features import CONTINUOUS, OPTIONAL_FEATURES, raw_matrix, without

# What a genre sounds like goes with who plays it: on artist-grouped validation rows the context
# was worth 11 points of the Keras model's top-1 (bench/results/ml_tuning.md). Audio only: the
# artist's mean popularity would reach the model even where popularity is meant to be absent.
CONTEXT_OF = without(CONTINUOUS, OPTIONAL_FEATURES)
# The tree baselines read the context as raw means (trees need no encoding).
ARTIST_MEANS = tuple(f"artist_{name}" for name in CONTEXT_OF)
# Rows encoded at a time when summing a pool's encoded tracks per artist.
CHUNK_ROWS = 8192


def _artist_keys(frame: pd.DataFrame) -> pd.Series:
    if "artists" not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return primary_artists(frame["artists"])


def primary_artist_of(track: dict) -> str | None:
    """A track's (dict's) headline artist as primary_artists spells it."""
    artists = track.get("artists")
    first = str(artists).split(";")[0].strip().casefold() if artists else ""
    return first or None


class ArtistPool:
    """The tracks of each primary artist in a pool: the labelled dataset when training, the
    catalogue when serving. Holds row positions (8 bytes a track) and the artists' names;
    encoded rows are made when asked for, so a web worker keeps no per-artist matrix."""

    def __init__(self, frame: pd.DataFrame):
        # Positions are rows of the frame itself: a catalogue's frame is kept, not copied.
        plain = frame.index.equals(pd.RangeIndex(len(frame)))
        self.frame = frame if plain else frame.reset_index(drop=True)
        codes, artists = pd.factorize(_artist_keys(self.frame))
        self.codes = codes.astype(np.int32)  # -1: the track names no artist
        self.index = {artist: i for i, artist in enumerate(artists)}
        self.tracks = np.bincount(codes[codes >= 0], minlength=len(artists))
        known = np.flatnonzero(codes >= 0)
        self.order = known[np.argsort(codes[known], kind="stable")].astype(np.int32)
        self.starts = np.concatenate([[0], np.cumsum(self.tracks)])

    def __len__(self) -> int:
        return len(self.frame)

    def others(self) -> np.ndarray:
        """Per pool row, how many other tracks of its artist the pool holds (0: no artist)."""
        others = np.zeros(len(self.codes), np.int64)
        known = self.codes >= 0
        others[known] = self.tracks[self.codes[known]] - 1
        return others

    def raw_means(self) -> pd.DataFrame:
        """Per pool row, the mean raw context features of its artist's other tracks (NaN where
        none has a value), for the tree baselines."""
        known = self.codes >= 0
        size = len(self.index)
        columns = {}
        for name, values in zip(CONTEXT_OF, raw_matrix(self.frame, CONTEXT_OF).T, strict=True):
            present = known & ~np.isnan(values)
            sums = np.bincount(self.codes[present], values[present], size)
            counts = np.bincount(self.codes[present], minlength=size).astype(np.float64)
            total, count = np.zeros(len(values)), np.zeros(len(values))
            total[known] = sums[self.codes[known]]
            count[known] = counts[self.codes[known]]
            total -= np.where(present, values, 0.0)
            count -= present
            columns[f"artist_{name}"] = np.divide(
                total, count, out=np.full(len(total), np.nan), where=count > 0
            )
        return pd.DataFrame(columns)

    # -- the network's context: the mean of the other tracks' encoded rows ---------------------
    def sums(self, encoder) -> np.ndarray:
        """Per artist, the sum of its pool tracks' context columns (encoder.context_columns)."""
        sums = np.zeros((len(self.index), len(encoder.context_columns())), np.float64)
        for start in range(0, len(self.order), CHUNK_ROWS):
            rows = self.order[start : start + CHUNK_ROWS]
            own = encoder.context_part(self.frame.iloc[rows])
            # The rows run artist by artist, so each artist's rows are one slice of the chunk.
            codes = self.codes[rows]
            firsts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
            sums[codes[firsts]] += np.add.reduceat(own.astype(np.float64), firsts, axis=0)
        return sums

    def context(self, encoder, rows=slice(None), sums=None, encoded=None) -> np.ndarray:
        """The context block of pool rows (all, or `rows`), each track left out of its own.

        `sums` (self.sums(encoder)) and the rows' `encoded` inputs (encoder.transform without
        context) can be passed to spare recomputing them per batch.
        """
        sums = self.sums(encoder) if sums is None else sums
        codes = self.codes[rows]
        known = codes >= 0
        if encoded is None:
            own = encoder.context_part(self.frame.iloc[rows][known])
        else:
            own = encoded[known][:, encoder.context_index()]
        own = own.astype(np.float64)
        others = np.zeros(len(codes), np.int64)
        totals = np.zeros((len(codes), sums.shape[1]))
        others[known] = self.tracks[codes[known]] - 1
        totals[known] = sums[codes[known]] - own
        return encoder.context_block(totals, others)

    def others_of(self, track: dict, leave_out: int | None = None) -> int:
        """How many pool tracks a track's (dict's) artist has, less its own row leave_out."""
        code = self.index.get(primary_artist_of(track))
        if code is None:
            return 0
        return int(self.tracks[code]) - (leave_out is not None and self.codes[leave_out] == code)

    def track_context(self, encoder, track: dict, leave_out: int | None = None):
        """(context block of one track (a dict with its artists), how many other pool tracks its
        artist has); leave_out: the track's own pool row."""
        code = self.index.get(primary_artist_of(track))
        if code is None:
            return encoder.no_context(1), 0
        rows = self.order[self.starts[code] : self.starts[code + 1]]
        if leave_out is not None:
            rows = rows[rows != leave_out]
        totals = encoder.context_part(self.frame.iloc[rows]).astype(np.float64).sum(axis=0)
        return encoder.context_block(totals[None, :], [len(rows)]), len(rows)
