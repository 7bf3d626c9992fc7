"""Metrics, as keras.metrics: state in Variables, `update_state` / `result` / `reset_state`.

The mean-based metrics keep Keras's two variables, `total` (sum of weighted per-sample values)
and `count` (sum of sample weights, or the number of samples), in the metric dtype (floatx).
A per-sample value is the mean of a function's output over all but the first axis (Keras's
reduce_to_samplewise_values); result() = total / count (0 when count is 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import config
from ..autodiff.tracked import TrackedArray
from ..losses.functions import _same_rank
from ..naming import to_snake_case, unique_name
from ..variable import Variable


def _plain(x: Any) -> np.ndarray:
    """Metrics never take part in gradients: a tracked value is read off the tape."""
    return x.numpy() if isinstance(x, TrackedArray | Variable) else np.asarray(x)


class Metric:
    """Base class: stateful, `__call__` = update_state then result.

    Keras: keras.metrics.Metric(dtype=None, name=None). `_direction` ("up", "down" or None)
    is what a monitoring callback's mode="auto" reads, as Keras's.
    """

    _direction: str | None = None

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

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        """Keras: Metric.from_config: cls(**config)."""
        return cls(**config)


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

    def get_config(self) -> dict:
        """Keras: the base config, then the function's keyword arguments (threshold, k)."""
        return {**super().get_config(), **self._fn_kwargs}
