"""Leak-free train/validation/test splits: grouped by primary artist (headline) or by track."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

SEED = 20261127
SPLITS = ("artist", "track")


@dataclass
class Split:
    """Row positions of one split; validation is carved out of training with the same grouping."""

    kind: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict:
        return {"train": int(len(self.train)), "val": int(len(self.val)), "test": int(len(self.test))}


def split_groups(frame: pd.DataFrame, kind: str) -> np.ndarray:
    """Group key per row: the headline artist (a track without one is its own group) or the track id."""
    if kind == "artist":
        return frame["primary_artist"].fillna("id:" + frame["id"].astype(str)).to_numpy()
    if kind == "track":
        return frame["id"].astype(str).to_numpy()
    raise ValueError(f"unknown split kind {kind!r}; expected one of {SPLITS}")


def make_split(frame: pd.DataFrame, kind: str = "artist", test_size: float = 0.2,
               val_size: float = 0.1, seed: int = SEED) -> Split:
    """Deterministic grouped split; no group (artist or track) appears on two sides.

    The frame must already be de-duplicated (ml.data.dedupe_tracks). Positions come back shuffled,
    because the source file is sorted by genre and early stopping needs a representative order.
    """
    groups = split_groups(frame, kind)
    positions = np.arange(len(frame))
    outer = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    rest, test = next(outer.split(positions, groups=groups))
    inner = GroupShuffleSplit(n_splits=1, test_size=val_size / (1 - test_size), random_state=seed + 1)
    train_in_rest, val_in_rest = next(inner.split(rest, groups=groups[rest]))
    rng = np.random.default_rng(seed)
    train, val = rest[train_in_rest], rest[val_in_rest]
    return Split(kind, rng.permutation(train), rng.permutation(val), rng.permutation(test))
