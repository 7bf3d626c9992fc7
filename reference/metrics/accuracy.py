"""Accuracy-style metrics: running means of a per-sample function (Keras's accuracy_metrics.py
and regression_metrics.py)."""

from __future__ import annotations

import numpy as np

from .. import config
from .. import losses as _losses
from ..losses.functions import _same_rank
from .base import Mean, MeanMetricWrapper, _plain


# -- per-sample functions (Keras's accuracy_metrics.py) -------------------------------------------
def accuracy(y_true, y_pred):
    """Computes: float(y_true == y_pred). Keras: keras.metrics.Accuracy's function."""
    y_pred = np.asarray(y_pred)
    y_true, y_pred = _same_rank(np.asarray(y_true, dtype=y_pred.dtype), y_pred)
    return (y_true == y_pred).astype(config.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Computes: float(y_true == (y_pred > threshold)). Keras: keras.metrics.binary_accuracy."""
    y_true, y_pred = _same_rank(np.asarray(y_true), np.asarray(y_pred))
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == y_pred).astype(config.floatx())


def categorical_accuracy(y_true, y_pred):
    """Computes: float(argmax(y_true) == argmax(y_pred)). Keras: categorical_accuracy."""
    return sparse_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred)


def sparse_categorical_accuracy(y_true, y_pred):
    """Computes: float(y_true == argmax(y_pred)) (y_true squeezed of a size-1 last axis).

    Keras: keras.metrics.sparse_categorical_accuracy (the first maximum wins ties, as argmax).
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).astype(y_pred.dtype)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = np.squeeze(y_true, -1)
    matches = (y_true == np.argmax(y_pred, axis=-1).astype(y_true.dtype)).astype(config.floatx())
    return np.squeeze(matches, -1) if matches.ndim > 1 and matches.shape[-1] == 1 else matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Computes: float(argmax(y_true) is among the k largest y_pred), as tf.math.in_top_k.

    Keras: keras.metrics.top_k_categorical_accuracy. in_top_k counts ties: the target is in the
    top k when fewer than k predictions are strictly larger than its own.
    """
    y_pred = np.asarray(y_pred)
    target = np.argmax(y_true, axis=-1)
    flat = y_pred.reshape(-1, y_pred.shape[-1])
    t = target.reshape(-1)
    own = flat[np.arange(len(t)), t]
    hits = (np.sum(flat > own[:, None], axis=-1) < k) & np.all(np.isfinite(flat), axis=-1)
    return hits.astype(config.floatx()).reshape(target.shape)


def _wrapper_class(cls_name: str, fn, default_name: str, doc: str, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        params = {**defaults, **kwargs}
        if set(params) != set(defaults):
            raise TypeError(
                f"{cls_name}: unexpected arguments {sorted(set(params) - set(defaults))}"
            )
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **params)

    # Keras's _direction: "up" for accuracies, "down" for errors (monitor mode="auto")
    direction = "down" if "Error" in cls_name else "up"
    namespace = {"__init__": __init__, "__doc__": doc, "_direction": direction}
    return type(cls_name, (MeanMetricWrapper,), namespace)


Accuracy = _wrapper_class("Accuracy", accuracy, "accuracy", "Keras: keras.metrics.Accuracy.")
BinaryAccuracy = _wrapper_class(
    "BinaryAccuracy", binary_accuracy, "binary_accuracy", "Keras: BinaryAccuracy(threshold=0.5).",
    threshold=0.5,
)  # fmt: skip
CategoricalAccuracy = _wrapper_class(
    "CategoricalAccuracy", categorical_accuracy, "categorical_accuracy",
    "Keras: keras.metrics.CategoricalAccuracy.",
)  # fmt: skip
SparseCategoricalAccuracy = _wrapper_class(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy",
    "Keras: keras.metrics.SparseCategoricalAccuracy.",
)  # fmt: skip
TopKCategoricalAccuracy = _wrapper_class(
    "TopKCategoricalAccuracy", top_k_categorical_accuracy, "top_k_categorical_accuracy",
    "Keras: keras.metrics.TopKCategoricalAccuracy(k=5).", k=5,
)  # fmt: skip
MeanSquaredError = _wrapper_class(
    "MeanSquaredError", _losses.mean_squared_error, "mean_squared_error",
    "Keras: keras.metrics.MeanSquaredError.",
)  # fmt: skip
MeanAbsoluteError = _wrapper_class(
    "MeanAbsoluteError", _losses.mean_absolute_error, "mean_absolute_error",
    "Keras: keras.metrics.MeanAbsoluteError.",
)  # fmt: skip


class RootMeanSquaredError(Mean):
    """Computes: sqrt(mean of (y_pred - y_true)**2 over all elements, sample-weighted).

    Keras: keras.metrics.RootMeanSquaredError(name="root_mean_squared_error").
    """

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _same_rank(
            _plain(y_true).astype(self.dtype), _plain(y_pred).astype(self.dtype)
        )
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return np.sqrt(super().result())
