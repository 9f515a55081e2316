"""Leak-free train/validation/test splits: grouped by primary artist (headline) or by track."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from ml.data import DatasetUnusable

SEED = 20261127
SPLITS = ("artist", "track")
# Below these a 70/10/20 grouped split leaves a side empty or a genre with nothing to learn from:
# a genre needs a few artists to appear on the training side and on a scored side, and the whole
# dataset a few rows per genre and side.
MIN_GROUPS_PER_CLASS = 5
MIN_ROWS = 100


@dataclass
class Split:
    """Row positions of one split; validation is carved out of training with the same grouping."""

    kind: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict:
        return {
            "train": int(len(self.train)),
            "val": int(len(self.val)),
            "test": int(len(self.test)),
        }


def split_groups(frame: pd.DataFrame, kind: str) -> np.ndarray:
    """Group key per row: the headline artist (a track without one is its own group) or track id."""
    if kind == "artist":
        return frame["primary_artist"].fillna("id:" + frame["id"].astype(str)).to_numpy()
    if kind == "track":
        return frame["id"].astype(str).to_numpy()
    raise ValueError(f"unknown split kind {kind!r}; expected one of {SPLITS}")


def rare_labels(frame: pd.DataFrame) -> list[str]:
    """Labels with fewer than MIN_GROUPS_PER_CLASS primary artists (too few to split by artist)."""
    groups = pd.Series(split_groups(frame, "artist"), index=frame.index)
    artists = groups.groupby(frame["label"].astype(str)).nunique()
    return sorted(artists.index[artists < MIN_GROUPS_PER_CLASS])


def check_splittable(frame: pd.DataFrame) -> None:
    """Raise DatasetUnusable, before any training, when the rows cannot make a fair split."""
    labels = frame["label"].astype(str).nunique() if len(frame) else 0
    if len(frame) < MIN_ROWS or labels < 2:
        raise DatasetUnusable(
            f"the dataset is too small to split for training: {len(frame):,} distinct tracks in "
            f"{labels} genre(s) with at least {MIN_GROUPS_PER_CLASS} artists each; "
            f"at least {MIN_ROWS} tracks in 2 or more such genres are needed"
        )


def make_split(
    frame: pd.DataFrame,
    kind: str = "artist",
    test_size: float = 0.2,
    val_size: float = 0.1,
    seed: int = SEED,
) -> Split:
    """Deterministic grouped split; no group (artist or track) appears on two sides.

    The frame must already be de-duplicated (ml.data.dedupe_tracks). Positions come back shuffled,
    because the source file is sorted by genre and early stopping needs a representative order.
    """
    groups = split_groups(frame, kind)
    positions = np.arange(len(frame))
    outer = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    rest, test = next(outer.split(positions, groups=groups))
    inner = GroupShuffleSplit(
        n_splits=1, test_size=val_size / (1 - test_size), random_state=seed + 1
    )
    train_in_rest, val_in_rest = next(inner.split(rest, groups=groups[rest]))
    rng = np.random.default_rng(seed)
    train, val = rest[train_in_rest], rest[val_in_rest]
    labels = frame["label"].astype(str).to_numpy() if "label" in frame else None
    if min(len(train), len(val), len(test)) == 0 or (
        labels is not None and len(set(labels[train])) < 2
    ):
        sizes = f"{len(train)}/{len(val)}/{len(test)}"
        raise DatasetUnusable(
            f"a {kind}-grouped split of {len(frame):,} tracks leaves a side "
            f"empty or one genre to train on ({sizes} train/validation/test "
            "rows); use a larger dataset"
        )
    return Split(kind, rng.permutation(train), rng.permutation(val), rng.permutation(test))
