"""Metrics, as keras.metrics: state in Variables, `update_state` / `result` / `reset_state`.

The mean-based metrics keep Keras's two variables, `total` (sum of weighted per-sample values)
and `count` (sum of sample weights, or the number of samples), in the metric dtype (floatx).
A per-sample value is the mean of a function's output over all but the first axis (Keras's
reduce_to_samplewise_values); result() = total / count (0 when count is 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import config
from . import losses as _losses
from .autodiff.tracked import TrackedArray
from .losses.functions import _same_rank
from .naming import to_snake_case, unique_name
from .variable import Variable


def _plain(x: Any) -> np.ndarray:
    """Metrics never take part in gradients: a tracked value is read off the tape."""
    return x.numpy() if isinstance(x, TrackedArray | Variable) else np.asarray(x)


class Metric:
    """Base class: stateful, `__call__` = update_state then result.

    Keras: keras.metrics.Metric(dtype=None, name=None).
    """

    def __init__(self, name: str | None = None, dtype: Any = None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.dtype = np.dtype(dtype or config.floatx()).name
        self._variables: list[Variable] = []

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None) -> Variable:
        value = np.zeros(shape, dtype=dtype or self.dtype)
        v = Variable(value, dtype=dtype or self.dtype, trainable=False, name=name,
                     path=f"{self.name.replace('/', '>')}/{name}")  # fmt: skip
        self._variables.append(v)
        return v

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def reset_state(self) -> None:
        for v in self._variables:
            v.assign(np.zeros(v.shape, v.dtype))

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


def _samplewise(values, sample_weight, reduce_fn, dtype):
    """Keras's reduce_to_samplewise_values: one value (and weight) per sample."""
    values = np.asarray(values).astype(dtype)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
        values, sample_weight = _same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """Computes: total += sum(values * sample_weight). Keras: keras.metrics.Sum(name="sum")."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = _samplewise(_plain(values), sample_weight, np.sum, self.dtype)
        self.total.assign(self.total.value + np.sum(values))

    def result(self):
        return self.total.numpy()


class Mean(Metric):
    """Computes: total += sum(w * v), count += sum(w) (or the batch size); result = total / count.

    Keras: keras.metrics.Mean(name="mean", dtype=None).
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = _samplewise(_plain(values), sample_weight, np.mean, self.dtype)
        self.total.assign(self.total.value + np.sum(values))
        if sample_weight is not None:
            n = np.sum(sample_weight)
        else:
            n = values.shape[0] if values.ndim >= 1 else 1
        self.count.assign(self.count.value + np.asarray(n, self.dtype))

    def result(self):
        count = self.count.value
        return (self.total.value / count) if count else np.zeros((), self.dtype)


class MeanMetricWrapper(Mean):
    """The running mean of fn(y_true, y_pred) per sample. Keras: keras.metrics.MeanMetricWrapper."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(_plain(y_true), _plain(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)


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

    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})


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

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _same_rank(
            _plain(y_true).astype(self.dtype), _plain(y_pred).astype(self.dtype)
        )
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return np.sqrt(super().result())


class _Confusion(Metric):
    """Counts at each threshold: a prediction is positive when y_pred > threshold (Keras's
    update_confusion_matrix_variables; y_true is cast to bool, sample weights broadcast)."""

    _KINDS: tuple = ()

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if top_k is not None:
            raise ValueError(f"{type(self).__name__}: top_k is not supported by the reference.")
        self.init_thresholds, self.class_id = thresholds, class_id
        listed = isinstance(thresholds, list | tuple)
        self.thresholds = (
            list(thresholds) if listed else [0.5 if thresholds is None else thresholds]
        )
        for t in self.thresholds:
            if not 0 <= t <= 1:
                raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
        self._scalar = not listed
        for kind in self._KINDS:
            setattr(self, kind, self.add_variable((len(self.thresholds),), name=kind))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _same_rank(_plain(y_true), _plain(y_pred).astype(self.dtype))
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        if np.any((y_pred < 0) | (y_pred > 1)):
            raise ValueError(f"{type(self).__name__}: predictions must be in [0, 1].")
        truth = y_true.astype(bool)
        w = (
            np.ones_like(y_pred)
            if sample_weight is None
            else np.broadcast_to(
                _same_rank(y_pred, np.asarray(sample_weight, self.dtype))[1], y_pred.shape
            )
        )
        for i, t in enumerate(self.thresholds):
            positive = y_pred > t
            counts = {"true_positives": truth & positive, "false_positives": ~truth & positive,
                      "false_negatives": truth & ~positive}  # fmt: skip
            for kind in self._KINDS:
                var = getattr(self, kind)
                value = var.numpy()
                value[i] += np.sum(w * counts[kind], dtype=self.dtype)
                var.assign(value)

    def _ratio(self, num, other):
        num, den = getattr(self, num).value, getattr(self, num).value + getattr(self, other).value
        out = np.where(den > 0, num / np.where(den > 0, den, 1), 0).astype(self.dtype)
        return out[0] if self._scalar else out


class Precision(_Confusion):
    """Computes: tp / (tp + fp) at each threshold (0.5 by default), tp and fp weighted counts.

    Keras: keras.metrics.Precision(thresholds=None, top_k=None, class_id=None, name=None).
    Differences: top_k is not supported.
    """

    _KINDS = ("true_positives", "false_positives")

    def result(self):
        return self._ratio("true_positives", "false_positives")


class Recall(_Confusion):
    """Computes: tp / (tp + fn) at each threshold (0.5 by default).

    Keras: keras.metrics.Recall(thresholds=None, top_k=None, class_id=None, name=None).
    Differences: top_k is not supported.
    """

    _KINDS = ("true_positives", "false_negatives")

    def result(self):
        return self._ratio("true_positives", "false_negatives")


_CLASSES = [Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError,
            Mean, Sum, Precision, Recall]  # fmt: skip
_FUNCTIONS = [accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
              top_k_categorical_accuracy]  # fmt: skip
_BY_NAME: dict[str, Any] = {c.__name__: c for c in _CLASSES}
_BY_NAME.update({to_snake_case(c.__name__): c for c in _CLASSES})
_BY_NAME.update({f.__name__: f for f in _FUNCTIONS})
_BY_NAME.update({"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
                 "MAE": MeanAbsoluteError})  # fmt: skip


def get(identifier: Any) -> Any:
    """A Metric instance or a metric function from a name, class, instance or callable.

    Keras: keras.metrics.get (a class name gives a new instance with its default name).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Could not interpret metric identifier: {identifier}")
        identifier = _BY_NAME[identifier]
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier}")
