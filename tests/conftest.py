"""Shared pytest fixtures: the real data, a store loaded with it, flaskr-style app/client/runner."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import DATASET_CSV, PLAYLIST_CSV, RECOMMENDATIONS_CSV, import_demo, make_app

# TensorFlow's C++ start-up chatter hides test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_sessionstart(session):
    missing = [p for p in (DATASET_CSV, PLAYLIST_CSV, RECOMMENDATIONS_CSV) if not os.path.isfile(p)]
    if missing:
        raise pytest.UsageError(
            "The tests read the real data from ../shared/data (or PLOTIFY_SHARED_DATA); missing: "
            + ", ".join(missing)
        )


@pytest.fixture(scope="session")
def catalogue_db(tmp_path_factory) -> str:
    """A SQLite file holding the real demo data, imported once per session (read it, or copy it)."""
    from store import open_store

    path = str(tmp_path_factory.mktemp("catalogue") / "catalogue.sqlite3")
    target = open_store(path)
    import_demo(target)
    # Fold the write-ahead log into the main file so that a plain file copy is complete.
    target._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target.close()
    return path


@pytest.fixture(scope="session")
def trained_models_dir(catalogue_db, tmp_path_factory) -> str:
    """A real but quickly trained bundle and clusters, from the loaded catalogue (~30 s).

    Small network, few epochs, clusters on a sample: enough to exercise every path that reads
    models/, while the full training is measured by bench/bench_ml_train.py.
    """
    from ml.cluster import cluster_catalogue
    from ml.data import collapse_labels, load_labelled_tracks
    from ml.train import TrainConfig, train_bundle
    from store import open_store

    directory = str(tmp_path_factory.mktemp("models"))
    frame = load_labelled_tracks(open_store(catalogue_db))
    config = TrainConfig(hidden=(64, 32), max_epochs=3, patience=1, batch_size=1024)
    train_bundle(frame, directory, config=config, echo=lambda *a, **k: None)
    tracks = collapse_labels(frame).sample(3000, random_state=0)
    cluster_catalogue(tracks, directory, target_clusters=None, plot=False)
    return directory


@pytest.fixture(scope="session")
def app(catalogue_db, trained_models_dir):
    """The app on the loaded catalogue, shared by the session (its caches warm once): read only."""
    application = make_app(catalogue_db, MODELS_DIR=trained_models_dir)
    yield application
    application.extensions["store"].close()


@pytest.fixture
def writable_app(catalogue_db, tmp_path):
    """The app on a private copy of the loaded catalogue, so a test may write freely."""
    database = str(tmp_path / "plotify.sqlite3")
    shutil.copyfile(catalogue_db, database)
    application = make_app(database)
    yield application
    application.extensions["store"].close()


@pytest.fixture
def empty_app(tmp_path):
    """The app on an empty embedded store."""
    application = make_app(str(tmp_path / "empty.sqlite3"))
    yield application
    application.extensions["store"].close()


@pytest.fixture(scope="session")
def seed_app(tmp_path_factory):
    """The app on a store holding the seed playlist alone, as its file gives it."""
    from etl.demo import plotify_people
    from etl.files import import_file
    from store import open_store
    from tests.support import PLOTIFY_PLAYLIST_ID, PLOTIFY_PLAYLIST_NAME

    path = str(tmp_path_factory.mktemp("seed") / "seed.sqlite3")
    target = open_store(path)
    import_file(
        target,
        PLAYLIST_CSV,
        playlist_id=PLOTIFY_PLAYLIST_ID,
        playlist_name=PLOTIFY_PLAYLIST_NAME,
        people=plotify_people(),
    )
    target.close()
    application = make_app(path)
    yield application
    application.extensions["store"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
