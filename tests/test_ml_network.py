"""The numpy reader of model.keras: ensembles and merges match Keras; other graphs are refused."""

import json
import os
import zipfile

import numpy as np
import pytest

from ml.bundle import PARITY_TOLERANCE, ModelUnavailable, read_network

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def save(model, tmp_path, name="model.keras"):
    path = str(tmp_path / name)
    model.save(path)
    return path


def rows(width, n=300):
    return np.random.default_rng(3).normal(size=(n, width)).astype(np.float32)


def test_averaged_branches_and_merges_match_keras(tmp_path):
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((7,))
    branches = []
    for activation in ("relu", "tanh", "gelu"):
        x = keras.layers.Dense(9, activation=activation)(inputs)
        x = keras.layers.Dropout(0.3)(x)
        branches.append(keras.layers.Dense(5)(x))
    averaged = keras.layers.Average()(branches)
    added = keras.layers.Add()([averaged, keras.layers.Dense(5, use_bias=False)(inputs)])
    joined = keras.layers.Concatenate()([added, branches[0]])
    output = keras.layers.Activation("softmax")(keras.layers.Dense(4)(joined))
    model = keras.Model(inputs, output)
    network = read_network(save(model, tmp_path))
    x = rows(7)
    assert (network.n_inputs, network.n_outputs) == (7, 4)
    assert np.max(np.abs(network(x) - np.asarray(model(x, training=False)))) <= PARITY_TOLERANCE


def test_the_trained_ensemble_shape_matches_keras(tmp_path):
    from ml.model import build_networks
    from ml.train import TrainConfig

    saved, trained = build_networks(11, 6, TrainConfig(members=3, hidden=(8, 4)))
    # Untrained weights are random enough; the training model shares every layer.
    assert len(trained.outputs) == 3
    network = read_network(save(saved, tmp_path))
    x = rows(11)
    assert np.max(np.abs(network(x) - np.asarray(saved(x, training=False)))) <= PARITY_TOLERANCE
    assert len(network.dense_layers) == 9


def test_summed_runs_of_first_layer_rows_give_the_same_outputs(tmp_path):
    """fold_rising_runs is algebra: the same outputs for any input, not only encoded rows."""
    import keras

    keras.utils.set_random_seed(2)
    inputs = keras.Input((9,))
    branches = [keras.layers.Dense(6, activation="relu")(inputs) for _ in range(2)]
    output = keras.layers.Dense(4, activation="softmax")(keras.layers.Average()(branches))
    path = save(keras.Model(inputs, output), tmp_path)
    plain, folded = read_network(path), read_network(path)
    assert folded.fold_rising_runs([slice(0, 4), slice(4, 5), slice(5, 9)])
    x = rows(9)
    assert np.max(np.abs(folded(x) - plain(x))) <= 1e-6
    one_by_one = np.vstack([folded(row[None, :]) for row in x])
    assert np.max(np.abs(one_by_one - plain(x))) <= 1e-6
    # A layer other than Dense reading the input would see the differences: nothing is folded.
    joined = keras.layers.Concatenate()([inputs, keras.layers.Dense(3)(inputs)])
    path = save(keras.Model(inputs, keras.layers.Dense(2)(joined)), tmp_path, "joined.keras")
    network = read_network(path)
    assert not network.fold_rising_runs([slice(0, 4)])
    assert np.array_equal(network(x), read_network(path)(x))


def test_the_served_pass_gives_the_saved_networks_outputs_on_real_tracks(
    catalogue_db, trained_models_dir
):
    """The predictor folds the encoder's runs and multiplies one row sparsely: same outputs."""
    from ml.predictor import GenrePredictor
    from store import open_store

    predictor = GenrePredictor.load(trained_models_dir)
    saved = read_network(os.path.join(trained_models_dir, "model.keras"))
    tracks = open_store(catalogue_db).read_tracks_frame().sample(2000, random_state=1)
    tracks.loc[tracks.index[::5], "popularity"] = np.nan
    encoded = predictor.encoder.transform(tracks)
    first = predictor.network.dense_layers[0].params["kernel"]
    assert not np.array_equal(first, saved.dense_layers[0].params["kernel"])  # folded
    expected = saved(encoded)
    assert np.max(np.abs(predictor.network(encoded) - expected)) <= 1e-6
    one_by_one = np.vstack([predictor.network(row[None, :]) for row in encoded[:300]])
    assert np.max(np.abs(one_by_one - expected[:300])) <= 1e-6


def rewrite_config(path, change):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def two_branch_model(tmp_path):
    import keras

    inputs = keras.Input((4,))
    a = keras.layers.Dense(3)(inputs)
    b = keras.layers.Dense(3)(inputs)
    return save(keras.Model(inputs, keras.layers.Average()([a, b])), tmp_path)


@pytest.mark.parametrize(
    "change, words",
    [
        (
            lambda c: c["config"]["layers"][1].__setitem__("class_name", "BatchNormalization"),
            "unsupported layer BatchNormalization",
        ),
        (
            lambda c: c["config"]["layers"][-1].__setitem__("class_name", "Multiply"),
            "unsupported layer Multiply",
        ),
        (lambda c: c.__setitem__("class_name", "MyModel"), "not a Sequential or Functional"),
        (
            lambda c: c["config"].__setitem__(
                "output_layers", [["dense", 0, 0], ["dense_1", 0, 0]]
            ),
            "one input and one output",
        ),
        (
            lambda c: c["config"]["layers"][-1]["inbound_nodes"][0]["args"][0][0]["config"][
                "keras_history"
            ].__setitem__(0, "nowhere"),
            "not computed before it",
        ),
    ],
    ids=["unknown-layer", "unknown-merge", "custom-model", "two-outputs", "dangling-input"],
)
def test_graphs_the_reader_cannot_reproduce_are_refused(tmp_path, change, words):
    path = two_branch_model(tmp_path)
    read_network(path)  # intact, it reads
    rewrite_config(path, change)
    with pytest.raises(ModelUnavailable) as refusal:
        read_network(path)
    assert words in str(refusal.value)
