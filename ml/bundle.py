"""The genre bundle format: file names, version, meta.json checks, hashes, the network reader."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile

import numpy as np

# 2: meta.json records how closely the numpy forward pass reproduces Keras ("numpy_parity"),
# which the web workers rely on, since they never import TensorFlow or Keras.
BUNDLE_VERSION = 2
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
    from ml.features import ALL_FEATURES

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
    unknown = [f for f in meta["features"] if f not in ALL_FEATURES]
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


def _relu(x):
    return np.maximum(x, 0, out=x)


def _softmax(x):
    x = np.exp(x - x.max(axis=1, keepdims=True))
    x /= x.sum(axis=1, keepdims=True)
    return x


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gelu(x):
    # Keras's "gelu" string is the exact form (approximate=False), which needs erf.
    from scipy.special import erf

    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(x.dtype)


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(x.dtype)


# Keras activation names and their numpy equivalents; anything else is refused at load time.
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": _relu,
    "softmax": _softmax,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "gelu": _gelu,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "elu": _elu,
    "softplus": lambda x: np.logaddexp(x, 0).astype(x.dtype),
}
# Layers that change nothing at inference.
PASS_THROUGH = {"Dropout"}


class DenseNetwork:
    """A Sequential of Dense layers as numpy arrays: one track costs microseconds, not a TF call."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray | None, str]]):
        self.layers = layers
        self.n_inputs = layers[0][0].shape[0]
        self.n_outputs = layers[-1][0].shape[1]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        for kernel, bias, activation in self.layers:
            x = x @ kernel
            if bias is not None:
                x += bias
            x = ACTIVATIONS[activation](x)
        return x


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def read_network(path: str) -> DenseNetwork:
    """The network of a Keras 3 `.keras` file (config.json + model.weights.h5), checked.

    Only a Sequential of Dense and Dropout layers with the activations above is accepted; anything
    else raises ModelUnavailable naming what is not supported. Kernel and bias shapes must chain
    from the input width in the config.
    """
    import h5py

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if not {"config.json", "model.weights.h5"} <= names:
            raise ModelUnavailable(f"{MODEL_FILE} lacks config.json or model.weights.h5")
        config = json.loads(archive.read("config.json"))
        weights_bytes = archive.read("model.weights.h5")
    if config.get("class_name") != "Sequential":
        raise ModelUnavailable(f"{MODEL_FILE} holds a {config.get('class_name')}, not a Sequential")
    layer_configs = config.get("config", {}).get("layers") or []
    width = None
    for layer in layer_configs:
        if layer.get("class_name") == "InputLayer":
            width = (layer["config"].get("batch_shape") or [None])[-1]
    if width is None:
        width = ((config.get("build_config") or {}).get("input_shape") or [None])[-1]
    if not isinstance(width, int):
        raise ModelUnavailable(f"{MODEL_FILE} does not say its input width")

    layers = []
    used: dict[str, int] = {}
    with h5py.File(io.BytesIO(weights_bytes), "r") as weights:
        stored = weights.get("layers")
        if stored is None:
            raise ModelUnavailable(f"{MODEL_FILE} holds no layer weights")
        for layer in layer_configs:
            kind = layer.get("class_name")
            if kind == "InputLayer":
                continue
            # Keras stores each layer's variables under its snake-cased class name, numbered by
            # occurrence ("dense", "dense_1", …), not under the layer's own name.
            base = _snake(kind)
            count = used.get(base, 0)
            used[base] = count + 1
            group = base if count == 0 else f"{base}_{count}"
            if kind in PASS_THROUGH:
                continue
            if kind != "Dense":
                raise ModelUnavailable(f"unsupported layer {kind} in the genre model")
            settings = layer.get("config", {})
            activation = settings.get("activation")
            if activation not in ACTIVATIONS:
                raise ModelUnavailable(f"unsupported activation {activation!r} in the genre model")
            if settings.get("lora_rank") or settings.get("quantization_config"):
                raise ModelUnavailable("a LoRA or quantised Dense layer is not supported")
            variables = stored.get(f"{group}/vars")
            if variables is None or "0" not in variables:
                raise ModelUnavailable(f"{MODEL_FILE} lacks the weights of layer {group}")
            kernel = np.asarray(variables["0"], dtype=np.float32)
            units = settings.get("units")
            if kernel.shape != (width, units):
                raise ModelUnavailable(
                    f"layer {group} has weights {kernel.shape}, the config says ({width}, {units})"
                )
            bias = None
            if settings.get("use_bias", True):
                if "1" not in variables or variables["1"].shape != (units,):
                    raise ModelUnavailable(f"layer {group} lacks a bias of {units} values")
                bias = np.asarray(variables["1"], dtype=np.float32)
            layers.append((np.ascontiguousarray(kernel), bias, activation))
            width = units
    if not layers:
        raise ModelUnavailable(f"{MODEL_FILE} has no Dense layer")
    return DenseNetwork(layers)
