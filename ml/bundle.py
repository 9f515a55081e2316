"""The genre bundle format: file names, version, meta.json checks, hashes, the network reader."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from ml.network import Network, UnsupportedNetwork
from ml.network import read_network as _read_graph

# 2: meta.json records how closely the numpy forward pass reproduces Keras ("numpy_parity"),
# which the web workers rely on, since they never import TensorFlow or Keras.
# 3: model.keras is a Functional ensemble (branches averaged inside one model), which a
# version-2 reader (Sequential only) cannot run; version-2 bundles are retrained.
BUNDLE_VERSION = 3
MODEL_FILE = "model.keras"
SCALER_FILE = "scaler.joblib"
LABEL_ENCODER_FILE = "label_encoder.joblib"
META_FILE = "meta.json"
BUNDLE_FILES = (MODEL_FILE, SCALER_FILE, LABEL_ENCODER_FILE)
DEFAULT_MODELS_DIR = "models"  # relative to the working directory; the app passes MODELS_DIR
# Largest probability difference between the numpy pass and Keras that a bundle may show.
PARITY_TOLERANCE = 1e-5
PROBE_ROWS = 4  # random inputs whose Keras outputs meta.json keeps, re-checked at every load


class ModelUnavailable(RuntimeError):
    """The bundle is missing, truncated, or inconsistent (feature order, label set, versions)."""


def file_sha256(path: str) -> str:
    """Hex sha256 of a file (recorded in meta.json so that a truncated file is refused)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def probe_inputs(width: int) -> np.ndarray:
    """The fixed random rows whose Keras outputs training records and loading compares."""
    return np.random.default_rng(0).random((PROBE_ROWS, width), dtype=np.float32)


def read_meta(models_dir: str) -> dict:
    """meta.json, checked for everything loading and predicting read from it."""
    from ml.features import MODEL_FEATURES

    meta_path = os.path.join(models_dir, META_FILE)
    if not os.path.exists(meta_path):
        raise ModelUnavailable(f"no genre model bundle ({META_FILE} is missing)")
    try:
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
    except (OSError, ValueError) as error:
        raise ModelUnavailable(
            f"{META_FILE} cannot be read ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(meta, dict):
        raise ModelUnavailable(f"{META_FILE} is not a JSON object")
    if meta.get("bundle_version") != BUNDLE_VERSION:
        raise ModelUnavailable(
            f"bundle version {meta.get('bundle_version')} is not {BUNDLE_VERSION}; retrain"
        )
    shapes = {
        "features": list,
        "labels": list,
        "families": dict,
        "encoded_width": int,
        "files_sha256": dict,
        "numpy_parity": dict,
    }
    wrong = [key for key, kind in shapes.items() if not isinstance(meta.get(key), kind)]
    if wrong:
        raise ModelUnavailable(f"{META_FILE} lacks or garbles {', '.join(wrong)}")
    unknown = [f for f in meta["features"] if f not in MODEL_FEATURES]
    if unknown:
        raise ModelUnavailable(f"the bundle uses features this version does not know: {unknown}")
    if len(set(meta["labels"])) != len(meta["labels"]) or not meta["labels"]:
        raise ModelUnavailable(f"the label set in {META_FILE} is empty or repeats labels")
    no_family = [g for g in meta["labels"] if not isinstance(meta["families"].get(g), str)]
    if no_family:
        raise ModelUnavailable(
            f"{META_FILE} gives no genre family for {no_family[:5]} "
            "(the label set and families differ)"
        )
    if not isinstance(meta["numpy_parity"].get("probe_proba"), list):
        raise ModelUnavailable(f"{META_FILE} lacks the Keras outputs to check the network against")
    return meta


def load_file(models_dir: str, meta: dict, name: str, reader):
    """One bundle file, after checking it is the one meta.json describes."""
    path = os.path.join(models_dir, name)
    if not os.path.exists(path):
        raise ModelUnavailable(f"bundle file {name} is missing")
    if file_sha256(path) != meta["files_sha256"].get(name):
        raise ModelUnavailable(
            f"bundle file {name} does not match meta.json (truncated or replaced)"
        )
    try:
        return reader(path)
    except ModelUnavailable:
        raise
    except Exception as error:  # a damaged or foreign file fails inside joblib or h5py in any way
        raise ModelUnavailable(
            f"bundle file {name} cannot be loaded ({type(error).__name__})"
        ) from error


# -- the network, read from the Keras file without Keras ----------------------------------------


def read_network(path: str) -> Network:
    """The network of model.keras as numpy arrays (ml.network), or ModelUnavailable saying why."""
    try:
        return _read_graph(path)
    except UnsupportedNetwork as error:
        raise ModelUnavailable(f"{MODEL_FILE}: {error}") from error
