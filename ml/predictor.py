"""Loads the genre bundle once per process, validates it, and ranks genres and families for tracks."""
from __future__ import annotations

import json
import os
import threading

import numpy as np
import pandas as pd

DEFAULT_MODELS_DIR = os.environ.get("MODELS_DIR", "models")  # the app passes its own setting


class ModelUnavailable(RuntimeError):
    """The bundle is missing, truncated, or inconsistent (feature order, label set, versions)."""


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _number(value):
    """A feature value as float, None when absent or not numeric (e.g. '' from a form)."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _read_meta(models_dir: str) -> dict:
    """meta.json, checked for everything load() and the predictor read from it."""
    from ml.features import ALL_FEATURES
    from ml.train import BUNDLE_VERSION, META_FILE

    meta_path = os.path.join(models_dir, META_FILE)
    if not os.path.exists(meta_path):
        raise ModelUnavailable(f"no genre model bundle ({META_FILE} is missing)")
    try:
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
    except (OSError, ValueError) as error:
        raise ModelUnavailable(f"{META_FILE} cannot be read ({type(error).__name__}: {error})") from error
    if not isinstance(meta, dict):
        raise ModelUnavailable(f"{META_FILE} is not a JSON object")
    if meta.get("bundle_version") != BUNDLE_VERSION:
        raise ModelUnavailable(f"bundle version {meta.get('bundle_version')} is not {BUNDLE_VERSION}; retrain")
    shapes = {"features": list, "labels": list, "families": dict, "encoded_width": int,
              "files_sha256": dict}
    wrong = [key for key, kind in shapes.items() if not isinstance(meta.get(key), kind)]
    if wrong:
        raise ModelUnavailable(f"{META_FILE} lacks or garbles {', '.join(wrong)}")
    unknown = [f for f in meta["features"] if f not in ALL_FEATURES]
    if unknown:
        raise ModelUnavailable(f"the bundle uses features this version does not know: {unknown}")
    if len(set(meta["labels"])) != len(meta["labels"]) or not meta["labels"]:
        raise ModelUnavailable(f"the label set in {META_FILE} is empty or repeats labels")
    no_family = [g for g in meta["labels"] if not isinstance(meta["families"].get(g), str)]
    if no_family:
        raise ModelUnavailable(f"{META_FILE} gives no genre family for {no_family[:5]} "
                               "(the label set and families differ)")
    return meta


def _load_file(models_dir: str, meta: dict, name: str, reader):
    """One bundle file, after checking it is the one meta.json describes."""
    from ml.train import file_sha256

    path = os.path.join(models_dir, name)
    if not os.path.exists(path):
        raise ModelUnavailable(f"bundle file {name} is missing")
    if file_sha256(path) != meta["files_sha256"].get(name):
        raise ModelUnavailable(f"bundle file {name} does not match meta.json (truncated or replaced)")
    try:
        return reader(path)
    except ModelUnavailable:
        raise
    except Exception as error:  # a damaged or foreign file fails inside joblib or keras in any way
        raise ModelUnavailable(f"bundle file {name} cannot be loaded ({type(error).__name__})") from error


def _joblib_load(path: str):
    import joblib

    return joblib.load(path)


def _keras_load(path: str):
    import keras

    return keras.models.load_model(path, compile=False)


class _DenseStack:
    """The network's Dense layers as numpy arrays: one track costs microseconds, not a TF call."""

    def __init__(self, model):
        self.layers = []
        for layer in model.layers:
            kind = type(layer).__name__
            if kind == "Dense":
                weights, bias = layer.get_weights()
                self.layers.append((weights.astype(np.float32), bias.astype(np.float32),
                                    layer.get_config()["activation"]))
            elif kind not in ("Dropout", "InputLayer"):
                raise ModelUnavailable(f"unsupported layer {kind} in the genre model")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for weights, bias, activation in self.layers:
            x = x @ weights + bias
            if activation == "relu":
                np.maximum(x, 0, out=x)
            elif activation == "softmax":
                x = np.exp(x - x.max(axis=1, keepdims=True))
                x /= x.sum(axis=1, keepdims=True)
            elif activation != "linear":
                raise ModelUnavailable(f"unsupported activation {activation!r}")
        return x


class GenrePredictor:
    """A validated bundle: encoder, network and label set. Build with GenrePredictor.load(dir)."""

    def __init__(self, meta: dict, encoder, network, label_encoder, models_dir: str):
        self.meta = meta
        self.encoder = encoder
        self.network = network
        self.labels = list(label_encoder.classes_)
        self.models_dir = models_dir
        self.family_of = meta["families"]
        self.families = sorted(set(self.family_of.values()))
        column = {f: i for i, f in enumerate(self.families)}
        self.family_matrix = np.zeros((len(self.labels), len(self.families)), dtype=np.float32)
        for row, genre in enumerate(self.labels):
            self.family_matrix[row, column[self.family_of[genre]]] = 1.0

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def load(cls, models_dir: str = DEFAULT_MODELS_DIR) -> "GenrePredictor":
        """Load and validate the bundle, or raise ModelUnavailable saying what is wrong.

        Messages name bundle files, never the folder, because the API shows them.
        """
        from ml.train import LABEL_ENCODER_FILE, MODEL_FILE, SCALER_FILE

        meta = _read_meta(models_dir)
        encoder = _load_file(models_dir, meta, SCALER_FILE, _joblib_load)
        label_encoder = _load_file(models_dir, meta, LABEL_ENCODER_FILE, _joblib_load)
        if [str(c) for c in getattr(label_encoder, "classes_", [])] != meta["labels"]:
            raise ModelUnavailable(f"the label set of {LABEL_ENCODER_FILE} differs from meta.json "
                                   "(files from different trainings)")
        if list(getattr(encoder, "features", [])) != meta["features"]:
            raise ModelUnavailable(f"the feature order of {SCALER_FILE} "
                                   f"{list(getattr(encoder, 'features', []))} differs from "
                                   f"meta.json {meta['features']} (files from different trainings)")

        model = _load_file(models_dir, meta, MODEL_FILE, _keras_load)
        n_inputs, n_outputs = model.input_shape[-1], model.output_shape[-1]
        if n_inputs != encoder.n_outputs or n_inputs != meta["encoded_width"]:
            raise ModelUnavailable(f"{MODEL_FILE} expects {n_inputs} inputs, {SCALER_FILE} gives "
                                   f"{encoder.n_outputs} and meta.json says {meta['encoded_width']}")
        if n_outputs != len(meta["labels"]):
            raise ModelUnavailable(f"{MODEL_FILE} has {n_outputs} outputs for "
                                   f"{len(meta['labels'])} labels in meta.json (other label set)")
        network = _DenseStack(model)
        probe = np.random.default_rng(0).random((4, n_inputs), dtype=np.float32)
        if not np.allclose(network(probe.copy()), np.asarray(model(probe, training=False)), atol=1e-5):
            raise ModelUnavailable("numpy forward pass disagrees with the Keras model")
        return cls(meta, encoder, network, label_encoder, models_dir)

    # -- predicting ---------------------------------------------------------------------------
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Fine-genre probabilities per row, columns in self.labels order."""
        return self.network(self.encoder.transform(frame))

    def _ranked(self, proba: np.ndarray, absent: list, top_k: int) -> dict:
        genre_order = np.argsort(-proba)[:top_k]
        family_proba = proba @ self.family_matrix
        family_order = np.argsort(-family_proba)[:top_k]
        optional = self.encoder.maskable
        return {
            "genres": [{"genre": self.labels[i], "family": self.family_of[self.labels[i]],
                        "probability": round(float(proba[i]), 4)} for i in genre_order],
            "families": [{"family": self.families[i], "probability": round(float(family_proba[i]), 4)}
                         for i in family_order],
            "absent": [f for f in absent if f in optional],
            "imputed": [f for f in absent if f not in optional],
        }

    def predict(self, features, top_k: int = 5):
        """Ranked genres and families for one track (dict) or each row of a DataFrame (list of results).

        An absent popularity is shown to the network as absent (it was trained that way) and listed
        under "absent"; any other absent feature takes its training median or most frequent value
        and is listed under "imputed".
        """
        if isinstance(features, dict):
            # One track skips pandas entirely: the encoder reads the dict directly. BLAS runs on one
            # thread: waking a pool for a single row costs more than the multiplication (measured
            # behind a Flask route: p50 1.1 ms → 0.9 ms on 2 busy cores).
            with _single_thread_blas():
                proba = self.network(self.encoder.transform(features))[0]
            absent = [f for f in self.encoder.features if not _present(_number(features.get(f)))]
            return self._ranked(proba, absent, top_k)
        frame = features.reset_index(drop=True)
        proba = self.predict_proba(frame)
        results = []
        for row, values in enumerate(proba):
            absent = [f for f in self.encoder.features
                      if f not in frame or not _present(_number(frame.at[row, f]))]
            results.append(self._ranked(values, absent, top_k))
        return results


_blas_controller = None


def _single_thread_blas():
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


_cache: dict[str, GenrePredictor] = {}
_lock = threading.Lock()


def get_predictor(models_dir: str = DEFAULT_MODELS_DIR) -> GenrePredictor:
    """The process-wide predictor for models_dir, loaded and validated on first use."""
    key = os.path.abspath(models_dir)
    with _lock:
        if key not in _cache:
            _cache[key] = GenrePredictor.load(models_dir)
        return _cache[key]


def forget(models_dir: str | None = None) -> None:
    """Drop cached predictors (after retraining), for one directory or all."""
    with _lock:
        if models_dir is None:
            _cache.clear()
        else:
            _cache.pop(os.path.abspath(models_dir), None)


def predict(features, top_k: int = 5, models_dir: str = DEFAULT_MODELS_DIR):
    """Module-level shortcut: get_predictor(models_dir).predict(features, top_k)."""
    return get_predictor(models_dir).predict(features, top_k)
