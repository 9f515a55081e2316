"""The genre network read from a Keras `.keras` file with h5py and run in numpy (no TensorFlow)."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np

from ml.layers import ACTIVATIONS, MERGES, PASS_THROUGH, Step
from ml.network_plan import fold_rising_runs, plan_steps


class UnsupportedNetwork(ValueError):
    """The file holds a network this reader cannot reproduce exactly (ml.bundle refuses it)."""


class Network:
    """A graph of Dense, Dropout, Activation and merge layers as numpy arrays, one input.

    A Sequential is the chain case. One track costs microseconds, not a TensorFlow call.
    """

    def __init__(self, steps: list[Step], input_name: str, output_name: str, n_inputs: int):
        self.steps = steps
        self.input_name = input_name
        self.output_name = output_name
        self.n_inputs = n_inputs
        self.n_outputs = _widths(steps, input_name, n_inputs)[output_name]
        # Input columns taken as each value minus the next (see fold_rising_runs), and those next.
        self._differenced = self._following = None
        self._plan, self._output = plan_steps(steps, input_name, output_name)

    @property
    def dense_layers(self) -> list[Step]:
        return [step for step in self.steps if step.kind == "Dense"]

    def fold_rising_runs(self, runs: list[slice]) -> bool:
        """Rewrite the layers reading the input for inputs whose runs of columns rise in steps.

        A piecewise-linear encoding gives each feature a run of columns reading 1, …, 1, a
        fraction, 0, …, 0: half of an encoded row is ones, and the one-row product reads every
        kernel row facing them. For D the difference operator within each run (a value minus the
        next), x @ W = (x D) @ (D⁻¹ W), where D⁻¹ W sums each run's kernel rows cumulatively and
        x D has at most two non-zero values a run: the first layer then reads a fifth of its
        rows. The algebra holds for any input (only the speed depends on the encoding); float32
        rounding aside, the outputs are the same. False, and nothing changed, when a layer other
        than Dense reads the input.
        """
        folded = fold_rising_runs(self._plan, self.input_name, runs)
        if folded is None:
            return False
        self._differenced, self._following = folded
        return True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if self._differenced is not None:
            x = x.copy()
            x[..., self._differenced] -= x[..., self._following]
        values = {self.input_name: x}
        for step, inputs in self._plan:
            values[step.name] = step([values[name] for name in inputs])
        return values[self._output]


def _widths(steps: list[Step], input_name: str, n_inputs: int) -> dict[str, int]:
    """Output width of every step, checking that kernels and merges fit what feeds them."""
    widths = {input_name: n_inputs}
    for step in steps:
        incoming = [widths[name] for name in step.inputs]
        if step.kind == "Dense":
            kernel = step.params["kernel"]
            if kernel.shape[0] != incoming[0]:
                raise UnsupportedNetwork(
                    f"layer {step.name} has weights {kernel.shape} for {incoming[0]} inputs"
                )
            widths[step.name] = kernel.shape[1]
        elif step.kind == "Concatenate":
            widths[step.name] = sum(incoming)
        elif step.kind in MERGES:
            if len(set(incoming)) != 1:
                raise UnsupportedNetwork(f"{step.kind} {step.name} merges widths {incoming}")
            widths[step.name] = incoming[0]
        else:
            widths[step.name] = incoming[0]
    return widths


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _inbound_names(layer: dict) -> list[str]:
    """Names of the layers feeding one layer of a Functional config."""
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) != 1:
        raise UnsupportedNetwork(f"layer {layer.get('name')} is shared or unconnected")
    args = nodes[0].get("args") or []
    tensors = args[0] if args and isinstance(args[0], list) else args
    names = []
    for tensor in tensors:
        history = (tensor or {}).get("config", {}).get("keras_history")
        if not history or history[1:] != [0, 0]:
            raise UnsupportedNetwork(f"layer {layer.get('name')} has an input this reader skips")
        names.append(history[0])
    return names


def _input_width(layer: dict) -> int | None:
    width = (layer.get("config", {}).get("batch_shape") or [None])[-1]
    return width if isinstance(width, int) else None


def _check_config(kind: str, settings: dict, name: str) -> None:
    if kind == "Concatenate" and settings.get("axis", -1) not in (-1, 1):
        raise UnsupportedNetwork(f"Concatenate {name} joins along axis {settings.get('axis')}")
    if kind in ("Dense", "Activation") and settings.get("activation") not in ACTIVATIONS:
        raise UnsupportedNetwork(
            f"unsupported activation {settings.get('activation')!r} in the genre model"
        )
    if kind == "Dense" and (settings.get("lora_rank") or settings.get("quantization_config")):
        raise UnsupportedNetwork("a LoRA or quantised Dense layer is not supported")


def read_network(path: str) -> Network:
    """The network of a Keras 3 `.keras` file (config.json + model.weights.h5), checked.

    A Sequential or a single-input, single-output Functional model of Dense, Dropout, Activation,
    Average, Add and Concatenate layers with the activations above is accepted (an ensemble of
    branches averaged inside one model is such a graph); anything else raises UnsupportedNetwork
    naming what is not supported. Kernel and bias shapes must chain from the input width.
    """
    import h5py

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if not {"config.json", "model.weights.h5"} <= names:
            raise UnsupportedNetwork("the file lacks config.json or model.weights.h5")
        config = json.loads(archive.read("config.json"))
        weights_bytes = archive.read("model.weights.h5")
    kind_of_model = config.get("class_name")
    if kind_of_model not in ("Sequential", "Functional"):
        raise UnsupportedNetwork(
            f"the file holds a {kind_of_model}, not a Sequential or Functional"
        )
    model_config = config.get("config", {})
    layer_configs = model_config.get("layers") or []
    if kind_of_model == "Functional":
        ins, outs = model_config.get("input_layers"), model_config.get("output_layers")
        if not (_is_one_tensor(ins) and _is_one_tensor(outs)):
            raise UnsupportedNetwork("only a model with one input and one output is supported")
    input_name, width = "input", None
    for layer in layer_configs:
        if layer.get("class_name") == "InputLayer":
            input_name, width = layer.get("name", "input"), _input_width(layer)
    if width is None and kind_of_model == "Sequential":
        width = ((config.get("build_config") or {}).get("input_shape") or [None])[-1]
    if not isinstance(width, int):
        raise UnsupportedNetwork("the file does not say its input width")

    steps: list[Step] = []
    used: dict[str, int] = {}
    known = {input_name}
    previous = input_name
    with h5py.File(io.BytesIO(weights_bytes), "r") as weights:
        stored = weights.get("layers")
        if stored is None:
            raise UnsupportedNetwork("the file holds no layer weights")
        for layer in layer_configs:
            kind = layer.get("class_name")
            if kind == "InputLayer":
                continue
            # Keras stores each layer's variables under its snake-cased class name, numbered by
            # occurrence in the config's layer order ("dense", "dense_1", …), not under the
            # layer's own name.
            base = _snake(kind)
            count = used.get(base, 0)
            used[base] = count + 1
            group = base if count == 0 else f"{base}_{count}"
            if kind not in PASS_THROUGH | MERGES | {"Dense", "Activation"}:
                raise UnsupportedNetwork(f"unsupported layer {kind} in the genre model")
            settings = layer.get("config", {})
            name = layer.get("name") or settings.get("name") or group
            if kind_of_model == "Sequential":
                inputs = [previous]
            else:
                inputs = _inbound_names(layer)
            if not inputs or not set(inputs) <= known:
                raise UnsupportedNetwork(f"layer {name} reads layers not computed before it")
            if kind not in MERGES and len(inputs) != 1:
                raise UnsupportedNetwork(f"layer {name} ({kind}) has {len(inputs)} inputs")
            _check_config(kind, settings, name)
            params = {"activation": settings.get("activation")}
            if kind == "Dense":
                params.update(_dense_weights(stored, group, settings))
            steps.append(Step(name, kind, inputs, **params))
            known.add(name)
            previous = name
    output_name = previous
    if kind_of_model == "Functional":
        output_name = _tensor_name(model_config["output_layers"])
    if not any(step.kind == "Dense" for step in steps):
        raise UnsupportedNetwork("the file has no Dense layer")
    if output_name not in known:
        raise UnsupportedNetwork(f"the output layer {output_name} is not in the graph")
    return Network(steps, input_name, output_name, width)


def _is_one_tensor(spec) -> bool:
    # Keras writes one input as ["name", 0, 0] and several as [["a", 0, 0], ["b", 0, 0]].
    if isinstance(spec, list) and len(spec) == 1 and isinstance(spec[0], list):
        spec = spec[0]
    return isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str)


def _tensor_name(spec) -> str:
    return spec[0][0] if isinstance(spec[0], list) else spec[0]


def _dense_weights(stored, group: str, settings: dict) -> dict:
    variables = stored.get(f"{group}/vars")
    if variables is None or "0" not in variables:
        raise UnsupportedNetwork(f"the file lacks the weights of layer {group}")
    kernel = np.ascontiguousarray(np.asarray(variables["0"], dtype=np.float32))
    units = settings.get("units")
    if kernel.ndim != 2 or kernel.shape[1] != units:
        raise UnsupportedNetwork(
            f"layer {group} has weights {kernel.shape}, the config says {units} units"
        )
    bias = None
    if settings.get("use_bias", True):
        if "1" not in variables or variables["1"].shape != (units,):
            raise UnsupportedNetwork(f"layer {group} lacks a bias of {units} values")
        bias = np.asarray(variables["1"], dtype=np.float32)
    return {"kernel": kernel, "bias": bias}
