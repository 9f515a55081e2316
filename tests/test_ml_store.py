"""The ML loader reads the same labelled rows from the store (after ETL import) as from the CSV."""

import numpy as np
import pandas as pd
import pytest

from etl.shapes import DEMO_DATASET
from ml.data import collapse_labels, default_dataset_csv, load_labelled_tracks

DATASET_CSV = default_dataset_csv()
pytestmark = pytest.mark.skipif(DATASET_CSV is None, reason="shared dataset not present")
GENRES = ["acoustic", "tango", "techno"]


@pytest.fixture(scope="module")
def slice_csv(tmp_path_factory):
    """A 3-genre slice of the public file, written outside the repo, in its original layout."""
    table = pd.read_csv(DATASET_CSV, index_col=0)
    table = table[table["track_genre"].isin(GENRES)]
    path = tmp_path_factory.mktemp("data") / "dataset.csv"
    table.to_csv(path)
    return str(path)


@pytest.fixture(scope="module")
def imported_store(slice_csv, tmp_path_factory):
    store_module = pytest.importorskip("store")
    files = pytest.importorskip("etl.files")
    store = store_module.open_store(str(tmp_path_factory.mktemp("instance") / "plotify.sqlite"))
    files.import_file(store, slice_csv, dataset=DEMO_DATASET)
    yield store
    store.close()


def test_store_and_csv_give_the_same_labelled_tracks(imported_store, slice_csv):
    from_store = (
        load_labelled_tracks(imported_store).sort_values(["id", "label"]).reset_index(drop=True)
    )
    from_csv = load_labelled_tracks(slice_csv).sort_values(["id", "label"]).reset_index(drop=True)
    assert len(from_store) == len(from_csv) > 2500
    assert from_store["label"].tolist() == from_csv["label"].tolist()
    for column in ("tempo", "popularity", "duration_ms", "energy", "key", "explicit"):
        assert np.allclose(
            from_store[column].to_numpy(dtype=float),
            from_csv[column].to_numpy(dtype=float),
            equal_nan=True,
        ), column
    assert from_store["primary_artist"].tolist() == from_csv["primary_artist"].tolist()
    assert len(collapse_labels(from_store)) == from_csv["id"].nunique()
