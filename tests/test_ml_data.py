"""Loading, de-duplication and leak-free splits of the labelled 114k dataset."""

import numpy as np
import pandas as pd
import pytest

from etl.shapes import DEMO_DATASET
from ml.data import (
    RECORDING_KEY,
    collapse_labels,
    dedupe_tracks,
    default_dataset_csv,
    load_labelled_tracks,
)
from ml.split import make_split
from tests.support import DATASET_DISTINCT_IDS

DATASET_CSV = default_dataset_csv()
pytestmark = pytest.mark.skipif(DATASET_CSV is None, reason="shared dataset not present")


@pytest.fixture(scope="module")
def labelled():
    return load_labelled_tracks(DATASET_CSV)


@pytest.fixture(scope="module")
def deduped(labelled):
    return dedupe_tracks(labelled)


def test_csv_loads_in_the_store_frame_layout(labelled):
    assert len(labelled) == 114_000
    for column in (
        "id",
        "name",
        "artists",
        "album",
        "label",
        "popularity",
        "tempo",
        "explicit",
        "primary_artist",
    ):
        assert column in labelled
    assert labelled["label"].nunique() == 114
    # The broken row (index 65900) has duration 0, which is treated as absent.
    assert labelled["duration_ms"].isna().sum() == 1
    assert set(labelled["explicit"].dropna().unique()) <= {0.0, 1.0}


def test_collapse_keeps_every_distinct_track_and_all_its_labels(labelled):
    tracks = collapse_labels(labelled)
    assert len(tracks) == DATASET_DISTINCT_IDS
    assert (tracks["all_labels"].map(len) > 1).sum() == 16_299
    assert all(label in labels for label, labels in zip(tracks["label"], tracks["all_labels"]))


def test_dedupe_drops_duplicate_ids_and_recordings(deduped):
    tracks, report = deduped
    assert tracks["id"].is_unique
    assert not tracks[list(RECORDING_KEY)].round(6).duplicated().any()
    assert report.rows_out == len(tracks) == DATASET_DISTINCT_IDS - report.duplicate_recordings
    assert report.duplicate_recordings > 1000


def test_label_choice_does_not_follow_file_order(labelled):
    """The file is sorted by genre; a reversed file must pick the same labels."""
    forward = collapse_labels(labelled).set_index("id")["label"]
    backward = collapse_labels(labelled.iloc[::-1]).set_index("id")["label"]
    assert forward.sort_index().equals(backward.sort_index())


@pytest.mark.parametrize("kind, key", [("artist", "primary_artist"), ("track", "id")])
def test_splits_share_no_group_and_are_deterministic(deduped, kind, key):
    tracks, _ = deduped
    split = make_split(tracks, kind)
    parts = [
        set(tracks[key].iloc[p].fillna("")) - {""} for p in (split.train, split.val, split.test)
    ]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    assert len(split.train) + len(split.val) + len(split.test) == len(tracks)
    assert 0.17 < len(split.test) / len(tracks) < 0.23
    again = make_split(tracks, kind)
    assert np.array_equal(split.test, again.test) and np.array_equal(split.val, again.val)
    # Shuffled: the validation rows are not in genre (file) order.
    assert not pd.Series(tracks["label"].iloc[split.val].to_numpy()).is_monotonic_increasing


def test_store_like_source_goes_through_the_same_loader(labelled):
    class FakeStore:
        """Stands in for store.read_tracks_frame: returns store-layout rows for a dataset."""

        def read_tracks_frame(self, dataset=None, playlist=None, track_ids=None):
            assert dataset == DEMO_DATASET
            return labelled.head(50).drop(columns=["primary_artist"])

    frame = load_labelled_tracks(FakeStore())
    assert len(frame) == 50 and frame["primary_artist"].notna().all()
