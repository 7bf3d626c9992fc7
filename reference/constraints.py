"""Weight constraints: Keras 3's `keras.constraints`, in NumPy.

Keras 3.15.1 (keras/src/constraints/) is the specification: class names, constructor arguments
and defaults, formulas and `get_config()` values follow it. A constraint projects a weight; the
optimizer applies it after each update as `variable.assign(constraint(variable))`, never at
creation or on `assign` (docs/keras-facts.md#fact-2-7). The projections are plain NumPy calls
on the argument (no conversion, no in-place writes), so they also work on values a GradientTape
records, and constants are Python numbers so that float32 weights stay float32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._lookup import Lookup

# keras.backend.epsilon(): keeps the rescaling finite for an all-zero weight vector.
_EPSILON = 1e-7

Axis = int | Sequence[int] | None


def _norms(w: Any, axis: Axis) -> Any:
    # Keras accepts a list of axes (axis=[0, 1, 2] for a Conv2D kernel); np.sum needs a tuple.
    axis = tuple(axis) if isinstance(axis, list) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class of constraints: a callable that projects a weight.

    Computes: w (subclasses override `__call__`).
    Keras: `keras.constraints.Constraint`.
    """

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales each slice whose L2 norm over `axis` exceeds `max_value` down to it.

    Computes: w * (clip(n, 0, max_value) / (epsilon + n)), n = sqrt(sum(w^2, axis, keepdims)).
    Keras: `keras.constraints.MaxNorm(max_value=2, axis=0)`.
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        norms = _norms(w, self.axis)
        # float(): a NumPy float64 bound must not promote float32 weights (TF casts it to w.dtype).
        desired = np.clip(norms, 0, float(self.max_value))
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero.

    Computes: maximum(w, 0).
    Keras: `keras.constraints.NonNeg()`.
    """

    def __call__(self, w: Any) -> Any:
        return np.maximum(w, 0)


class UnitNorm(Constraint):
    """Rescales each slice to unit L2 norm over `axis`.

    Computes: w / (epsilon + n), n = sqrt(sum(w^2, axis, keepdims)).
    Keras: `keras.constraints.UnitNorm(axis=0)`.
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the L2 norm of each slice over `axis` towards [min_value, max_value] at `rate`.

    Computes: w * (d / (epsilon + n)), d = rate * clip(n, min_value, max_value) + (1 - rate) * n,
      n = sqrt(sum(w^2, axis, keepdims)).
    Keras: `keras.constraints.MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)`.
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0
    ) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        norms = _norms(w, self.axis)
        rate = float(self.rate)
        clipped = np.clip(norms, float(self.min_value), float(self.max_value))
        desired = rate * clipped + (1 - rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


# Keras's function-style aliases: keras.constraints.max_norm is keras.constraints.MaxNorm, ...
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

_CLASSES = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)

_LOOKUP = Lookup("constraint", "keras.constraints", Constraint, _CLASSES)

# The names get() and deserialize() accept: class names and their snake_case forms.
ALL_OBJECTS_DICT: dict[str, type[Constraint]] = _LOOKUP.objects


def serialize(constraint: Constraint | str | None) -> dict[str, Any] | str | None:
    """A constraint as Keras's serialized dict.

    Computes: {"module": "keras.constraints", "class_name": ..., "config": get_config(),
      "registered_name": None}; None and strings pass through.
    Keras: `keras.constraints.serialize(constraint)`.
    Differences: another class gives module = its module (None for __main__) and
      registered_name = its class name, as Keras does for unregistered classes; plain functions
      are not serialized (TypeError).
    """
    return _LOOKUP.serialize(constraint)


def deserialize(
    config: dict[str, Any] | str | None, custom_objects: Mapping[str, Any] | None = None
) -> Any:
    """A constraint from a name or a `{"class_name": ..., "config": ...}` dict.

    Computes: cls.from_config(config["config"] or {}), cls looked up by class_name (or
      registered_name) in custom_objects, then in the built-in names.
    Keras: `keras.constraints.deserialize(config, custom_objects=None)`.
    Differences: an unknown name raises ValueError listing the valid names (Keras returns the
      name string itself); objects that are neither str nor dict pass through, as in Keras.
    """
    return _LOOKUP.deserialize(config, custom_objects)


def get(identifier: Any) -> Callable[[Any], Any] | None:
    """A constraint from None, a name, a config dict, a class, an instance or a callable.

    Computes: None -> None; str -> ALL_OBJECTS_DICT[str](); dict -> deserialize; class -> class();
      callable -> itself.
    Keras: `keras.constraints.get(identifier)`.
    Differences: the ValueError for an unknown identifier also lists the valid names.
    """
    return _LOOKUP.get(identifier)
