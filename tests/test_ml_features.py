"""Feature encoding: fit on training rows only, explicit handling of absent features."""

import pickle

import numpy as np
import pandas as pd

from ml.features import ALL_FEATURES, FeatureEncoder, minmax_matrix, without
from tests.support import DATASET_CSV


def frame(n, seed=0, **overrides):
    rng = np.random.default_rng(seed)
    data = {f: rng.random(n) for f in ALL_FEATURES}
    data.update(
        key=rng.integers(0, 12, n).astype(float),
        mode=rng.integers(0, 2, n).astype(float),
        time_signature=rng.choice([3.0, 4.0], n),
        explicit=rng.integers(0, 2, n).astype(float),
    )
    data.update(overrides)
    return pd.DataFrame(data)


def test_encoder_learns_bins_from_training_rows_only():
    train = frame(500)
    shifted = frame(500, seed=1, tempo=np.linspace(1000, 2000, 500))
    encoder = FeatureEncoder(n_bins=8).fit(train)
    assert encoder.edges_["tempo"].max() <= 1.0
    block = slice(*_block(encoder, "tempo"))
    # Values beyond the training range saturate instead of stretching the encoding.
    assert np.allclose(encoder.transform(shifted)[:, block], 1.0)


def _block(encoder, name):
    names = encoder.output_names()
    columns = [i for i, n in enumerate(names) if n.split("#")[0].split("=")[0] == name]
    return columns[0], columns[-1] + 1


def test_piecewise_linear_encoding_is_monotone_in_the_value():
    encoder = FeatureEncoder(features=("energy",), n_bins=10).fit(frame(1000))
    values = pd.DataFrame({"energy": np.linspace(0, 1, 50)})
    encoded = encoder.transform(values)
    assert encoded.shape == (50, 10)
    assert np.all(np.diff(encoded.sum(axis=1)) >= 0)


def test_feature_absent_from_training_is_dropped_and_absent_values_are_imputed():
    train = frame(300, time_signature=np.full(300, np.nan))
    encoder = FeatureEncoder().fit(train)
    assert "time_signature" in encoder.dropped_ and "time_signature" not in encoder.features
    row = train.iloc[:1].copy()
    row["tempo"] = np.nan
    assert encoder.imputed(row) == {"tempo": 1}
    filled = row.assign(tempo=encoder.fill_["tempo"])
    assert np.array_equal(encoder.transform(row), encoder.transform(filled))


def test_absent_popularity_is_flagged_not_imputed():
    train = frame(300)
    encoder = FeatureEncoder().fit(train)
    rows = train.iloc[:5].copy()
    encoded = encoder.transform(rows)
    columns = encoder.columns_of("popularity")
    assert encoder.output_names()[columns.stop - 1] == "popularity#absent"
    assert (encoded[:, columns.stop - 1] == 0).all()
    missing = encoder.transform(rows.assign(popularity=np.nan))
    assert np.array_equal(missing, encoder.mask(encoded, "popularity"))
    assert (missing[:, columns][:, :-1] == 0).all() and (missing[:, columns.stop - 1] == 1).all()
    assert encoder.imputed(rows.assign(popularity=np.nan)) == {}


def test_one_hot_key_and_unknown_category_falls_back_to_most_frequent():
    encoder = FeatureEncoder(features=("key",)).fit(frame(400))
    encoded = encoder.transform(pd.DataFrame({"key": [3.0, 99.0]}))
    assert encoded.shape == (2, 12) and encoded.sum() == 2
    assert encoded[0, 3] == 1


def test_dict_rows_encode_like_frames():
    train = frame(200)
    encoder = FeatureEncoder().fit(train)
    row = train.iloc[7].to_dict()
    assert np.allclose(encoder.transform(row), encoder.transform(train.iloc[[7]]))


def test_one_track_encodes_exactly_as_its_frame_row_on_real_data():
    # The web predictor encodes one dict per request through its own fast path: it must give the
    # very same float32 values as the frame path the model was trained and checked on.
    tracks = pd.read_csv(DATASET_CSV).sample(6000, random_state=3).reset_index(drop=True)
    encoder = FeatureEncoder().fit(tracks.iloc[:4000])
    rows = tracks.iloc[4000:].to_dict("records")
    rng = np.random.default_rng(5)
    odd = [None, np.nan, "", "fast", -3, 1e9, 7.5, 2.0]  # absent, unparsable, out of range
    for row in rows[::2]:
        for name in rng.choice(ALL_FEATURES, size=3, replace=False):
            row[name] = odd[rng.integers(len(odd))]
    as_frame = encoder.transform(pd.DataFrame(rows))
    one_by_one = np.vstack([encoder.transform(row) for row in rows])
    assert one_by_one.dtype == np.float32
    assert np.array_equal(as_frame, one_by_one)
    # The bundle keeps the encoder's fitted state only, not the one-row plan built from it.
    copy = pickle.loads(pickle.dumps(encoder))
    assert "_one_row_plan" not in vars(copy)
    assert np.array_equal(copy.transform(rows[1]), one_by_one[1:2])


def test_minmax_and_without():
    points, _ = minmax_matrix(frame(100))
    assert points.min() >= 0 and points.max() <= 1 + 1e-9
    assert without(("a", "b", "c"), ["b"]) == ("a", "c")
