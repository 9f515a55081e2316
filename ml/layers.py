"""The numpy layers of the genre network: activations, merges and the one-row sparse product."""

from __future__ import annotations

import numpy as np


def _relu(x):
    return np.maximum(x, 0, out=x)


def _softmax(x):
    # In place: every caller hands over an array of its own.
    x -= np.maximum.reduce(x, axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= np.add.reduce(x, axis=-1, keepdims=True)
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
# Layers that combine several inputs, by how.
MERGES = {"Average", "Add", "Concatenate"}


# A row whose zeros are at least this share of its values is multiplied by the kernel rows
# facing its non-zero values only.
SPARSE_ROW_SHARE = 0.25


def _matmul(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """x @ kernel; for one row, reading only the kernel rows that face non-zero values.

    A web request multiplies one row, and the ensemble's kernels (4.4 MB) do not fit a core's
    cache, so each request streams them from memory: that, not arithmetic, is its cost. After a
    ReLU most values are zero (about 90% in the first hidden layer) and so are half of the
    encoded inputs; skipping their rows halves the forward pass (170 → 90 µs). The sum is the
    same up to float32 rounding (the load-time parity check runs through this path too).
    """
    if x.ndim != 2 or x.shape[0] != 1:
        return x @ kernel
    row = x[0]
    present = row.nonzero()[0]  # flatnonzero's wrapper costs more than the search on one row
    if len(present) > (1.0 - SPARSE_ROW_SHARE) * len(row):
        return x @ kernel
    return (row[present] @ kernel[present])[None, :]


class Step:
    """One layer of the graph: what it computes and which earlier steps feed it."""

    def __init__(self, name: str, kind: str, inputs: list[str], **params):
        self.name, self.kind, self.inputs, self.params = name, kind, inputs, params

    def __call__(self, values: list[np.ndarray]) -> np.ndarray:
        if self.kind == "Dense":
            return ACTIVATIONS[self.params["activation"]](self._affine(values[0]))
        if self.kind == "Activation":
            return ACTIVATIONS[self.params["activation"]](values[0].copy())
        if self.kind == "Average":
            total = values[0].copy()
            for other in values[1:]:
                total += other
            return total / np.float32(len(values))
        if self.kind == "Add":
            total = values[0].copy()
            for other in values[1:]:
                total += other
            return total
        if self.kind == "Concatenate":
            return np.concatenate(values, axis=1)
        if self.kind == "AveragedDense":  # see ml.network_plan._average_in_one_layer
            x = self._affine(np.concatenate(values, axis=-1))
            x /= np.float32(self.params["members"])
            return x
        if self.kind == "Slice":  # one member's columns of a widened layer (a view)
            return values[0][..., self.params["start"] : self.params["stop"]]
        return values[0]  # pass-through

    def _affine(self, x: np.ndarray) -> np.ndarray:
        """x @ kernel + bias, in a new array."""
        y = _matmul(x, self.params["kernel"])
        if self.params["bias"] is not None:
            y += self.params["bias"]
        return y
