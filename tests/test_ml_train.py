"""Train a small genre model on a real-data slice; the saved bundle round-trips and is validated."""

import json
import os
import shutil

import numpy as np
import pytest

from ml.bundle import META_FILE, MODEL_FILE, PARITY_TOLERANCE
from ml.data import default_dataset_csv, load_labelled_tracks
from ml.evaluate import majority_baseline, top_k_accuracy
from ml.features import ARTIST_TRACKS
from ml.predictor import GenrePredictor, ModelUnavailable
from ml.train import TrainConfig, predict_proba, train_bundle, without_optional

DATASET_CSV = default_dataset_csv()
pytestmark = pytest.mark.skipif(DATASET_CSV is None, reason="shared dataset not present")
GENRES = ["black-metal", "classical", "country", "deep-house", "hip-hop", "j-pop", "salsa", "sleep"]


@pytest.fixture(scope="module")
def slice_frame():
    frame = load_labelled_tracks(DATASET_CSV)
    return frame[frame["label"].isin(GENRES)].reset_index(drop=True)


@pytest.fixture(scope="module")
def bundle(slice_frame, tmp_path_factory):
    models_dir = str(tmp_path_factory.mktemp("models"))
    config = TrainConfig(hidden=(64, 32), max_epochs=4, patience=2, batch_size=256)
    meta = train_bundle(slice_frame, models_dir, config=config, echo=lambda line: None)
    return models_dir, meta


def copy_bundle(bundle, tmp_path):
    target = str(tmp_path / "copy")
    shutil.copytree(bundle[0], target)
    return target


def test_meta_records_what_the_bundle_needs(bundle):
    models_dir, meta = bundle
    for key in (
        "labels",
        "taxonomy_version",
        "library_versions",
        "training_data_sha256",
        "created",
        "features",
        "files_sha256",
        "test_metrics",
    ):
        assert meta[key]
    assert meta["labels"] == sorted(GENRES)
    assert "popularity" in meta["features"] and meta["optional_features"] == ["popularity"]
    on_disk = json.loads(open(os.path.join(models_dir, META_FILE)).read())
    assert on_disk == json.loads(json.dumps(meta))


def test_small_model_beats_the_majority_class(bundle, slice_frame):
    _, meta = bundle
    fine = meta["test_metrics"]["with_popularity"]["fine"]
    assert fine["top1"] > 1.5 / len(GENRES)
    assert fine["top3"] > fine["top1"]


def test_bundle_round_trips_to_the_same_predictions(bundle, slice_frame):
    import keras

    models_dir, meta = bundle
    predictor = GenrePredictor.load(models_dir)
    rows = slice_frame.sample(64, random_state=0).reset_index(drop=True)
    proba = predictor.predict_proba(rows)
    # Same numbers from the saved Keras file through its own saved encoder.
    model = keras.models.load_model(os.path.join(models_dir, MODEL_FILE))
    encoded = predictor.encoder.transform(rows)
    assert np.allclose(proba, predict_proba(model, encoded), atol=1e-5)
    # Rows without popularity encode exactly like masked rows, the way the model was trained.
    no_popularity = rows.assign(popularity=np.nan)
    assert np.array_equal(
        predictor.encoder.transform(no_popularity), without_optional(predictor.encoder, encoded)
    )
    # And a second load gives identical answers.
    assert np.array_equal(proba, GenrePredictor.load(models_dir).predict_proba(rows))
    truth = predictor_labels(predictor, rows)
    assert top_k_accuracy(truth, proba, 3) > top_k_accuracy(
        truth, majority_baseline(np.arange(len(GENRES)), len(rows), len(GENRES)), 3
    )


def test_numpy_predictions_equal_keras_on_the_whole_test_split(bundle, slice_frame):
    """The workers' numpy pass gives the Keras model's probabilities, with/without popularity."""
    import keras

    from ml.split import SEED, make_split
    from ml.train import prepare

    models_dir, meta = bundle
    assert meta["numpy_parity"]["max_abs_diff"] <= PARITY_TOLERANCE
    assert meta["numpy_parity"]["n_rows"] == meta["rows"]["val"]
    tracks, _, _, usable = prepare(slice_frame)
    test = make_split(tracks, "artist", seed=SEED).test
    test_rows = tracks.iloc[test]
    assert len(test_rows) == meta["rows"]["test"]
    predictor = GenrePredictor.load(models_dir)
    assert predictor.encoder.uses_context and meta["artist_context"]
    context = usable["pool"].context(predictor.encoder)[test]
    model = keras.models.load_model(os.path.join(models_dir, MODEL_FILE), compile=False)
    for rows in (test_rows, test_rows.assign(popularity=np.nan)):
        ours = predictor.predict_proba(rows, context)
        theirs = predict_proba(model, predictor.encoder.transform(rows, context))
        assert np.max(np.abs(ours - theirs)) <= PARITY_TOLERANCE
        assert np.array_equal(ours.argmax(axis=1), theirs.argmax(axis=1))


def test_loading_the_bundle_never_imports_tensorflow(bundle):
    """A web worker loads and predicts with numpy and h5py alone."""
    import subprocess
    import sys

    models_dir, _ = bundle
    code = (
        "import sys; from ml.predictor import GenrePredictor; "
        f"p = GenrePredictor.load({models_dir!r}); p.predict({{'energy': 0.5}}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert out.strip() == "[]"


def predictor_labels(predictor, rows):
    return np.array([predictor.labels.index(label) for label in rows["label"]])


def test_predict_ranks_genres_and_families_and_copes_without_popularity(bundle, slice_frame):
    models_dir, _ = bundle
    predictor = GenrePredictor.load(models_dir)
    track = slice_frame.iloc[0][
        [
            "danceability",
            "energy",
            "key",
            "loudness",
            "mode",
            "speechiness",
            "acousticness",
            "instrumentalness",
            "liveness",
            "valence",
            "tempo",
            "time_signature",
            "duration_ms",
            "explicit",
            "popularity",
        ]
    ].to_dict()
    track[ARTIST_TRACKS] = 0  # alone: no other track of its artist is known
    result = predictor.predict(track, top_k=3)
    assert len(result["genres"]) == 3 and result["absent"] == [] and result["imputed"] == []
    probabilities = [g["probability"] for g in result["genres"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert result["families"][0]["probability"] >= probabilities[0]
    track.pop("popularity")
    track["time_signature"] = None
    result = predictor.predict(track)
    assert result["absent"] == ["popularity"]
    assert result["imputed"] == ["time_signature"]
    assert (
        abs(sum(g["probability"] for g in predictor.predict(track, top_k=8)["genres"]) - 1) < 0.01
    )


def test_truncated_model_file_is_refused(bundle, tmp_path):
    target = copy_bundle(bundle, tmp_path)
    path = os.path.join(target, MODEL_FILE)
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)
    with pytest.raises(ModelUnavailable, match="truncated"):
        GenrePredictor.load(target)


def test_other_feature_order_or_label_set_is_refused(bundle, tmp_path):
    target = copy_bundle(bundle, tmp_path)
    meta_path = os.path.join(target, META_FILE)
    meta = json.loads(open(meta_path).read())
    swapped = json.loads(json.dumps(meta))
    swapped["features"][0], swapped["features"][1] = swapped["features"][1], swapped["features"][0]
    open(meta_path, "w").write(json.dumps(swapped))
    with pytest.raises(ModelUnavailable, match="feature order"):
        GenrePredictor.load(target)
    relabelled = json.loads(json.dumps(meta))
    relabelled["labels"][0] = "polka"
    open(meta_path, "w").write(json.dumps(relabelled))
    with pytest.raises(ModelUnavailable, match="label set"):
        GenrePredictor.load(target)


def test_missing_bundle_is_refused(tmp_path):
    with pytest.raises(ModelUnavailable, match="no genre model bundle"):
        GenrePredictor.load(str(tmp_path))


def test_train_missing_builds_only_what_is_absent(bundle, slice_frame, tmp_path):
    from ml.cli import train_missing

    target = copy_bundle(bundle, tmp_path)
    small = slice_frame.sample(600, random_state=0)
    csv = tmp_path / "slice.csv"
    small.rename(columns={"id": "track_id", "label": "track_genre"}).to_csv(csv)
    assert train_missing(str(csv), target, echo=lambda line: None) == ["clusters"]
    assert train_missing(str(csv), target, echo=lambda line: None) == []
