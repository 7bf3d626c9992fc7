"""Weight constraints: Keras 3's `keras.constraints`, in NumPy.

Keras 3.15.1 (keras/src/constraints/) is the specification: class names, constructor arguments
and defaults, formulas and `get_config()` values follow it. A constraint projects a weight; the
optimizer applies it after each update as `variable.assign(constraint(variable))`, never at
creation or on `assign` (keras-notes 2.7). The projections are plain NumPy calls on the argument
(no conversion, no in-place writes), so they also work on values a GradientTape records, and
constants are Python numbers so that float32 weights stay float32.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

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


def _to_snake_case(name: str) -> str:
    # keras.src.utils.naming.to_snake_case: "MaxNorm" -> "max_norm".
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# The names get() and deserialize() accept: class names and their snake_case forms.
ALL_OBJECTS_DICT: dict[str, type[Constraint]] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({_to_snake_case(cls.__name__): cls for cls in _CLASSES})


def _unknown(identifier: Any) -> ValueError:
    return ValueError(
        f"Could not interpret constraint identifier: {identifier}. Expected None, a "
        "Constraint (class or instance), a callable, a config dict or one of: "
        f"{', '.join(sorted(ALL_OBJECTS_DICT))}."
    )


def _serialize_value(value: Any) -> Any:
    # serialize_keras_object: NumPy scalars become Python numbers; lists and tuples keep their type.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(_serialize_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _serialize_value(v) for k, v in value.items()}
    return value


def serialize(constraint: Constraint | str | None) -> dict[str, Any] | str | None:
    """A constraint as Keras's serialized dict.

    Computes: {"module": "keras.constraints", "class_name": ..., "config": get_config(),
      "registered_name": None}; None and strings pass through.
    Keras: `keras.constraints.serialize(constraint)`.
    Differences: another class gives module = its module (None for __main__) and
      registered_name = its class name, as Keras does for unregistered classes; plain functions
      are not serialized (TypeError).
    """
    if constraint is None or isinstance(constraint, str):
        return constraint
    if not hasattr(constraint, "get_config"):
        raise TypeError(
            f"Cannot serialize object {constraint} of type {type(constraint)}. To be "
            "serializable, a class must implement the `get_config()` method."
        )
    cls = type(constraint)
    config = _serialize_value(constraint.get_config())
    if cls in _CLASSES:
        module, registered_name = "keras.constraints", None
    else:
        module = None if cls.__module__ == "__main__" else cls.__module__
        registered_name = cls.__name__
    return {
        "module": module,
        "class_name": cls.__name__,
        "config": config,
        "registered_name": registered_name,
    }


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
    custom_objects = dict(custom_objects or {})
    if config is None:
        return None
    if isinstance(config, str):
        if config in custom_objects:
            return custom_objects[config]
        if config not in ALL_OBJECTS_DICT:
            raise _unknown(config)
        return ALL_OBJECTS_DICT[config].from_config({})
    if not isinstance(config, dict):
        return config
    if "class_name" not in config:
        raise ValueError(f"Unknown `config` as a `dict`, config={config}")
    class_name = config["class_name"]
    inner_config = config.get("config") or {}
    for key in (class_name, config.get("registered_name")):
        if key is not None and key in custom_objects:
            obj = custom_objects[key]
            return obj.from_config(inner_config) if hasattr(obj, "from_config") else obj
    if config.get("module", "_") is None:
        # Serialized from a class defined in __main__: only custom_objects can say what it is.
        raise TypeError(
            f"Cannot deserialize object of type `{class_name}`. If `{class_name}` is a custom "
            "class, pass it in `custom_objects`."
        )
    if class_name not in ALL_OBJECTS_DICT:
        raise _unknown(config)
    return ALL_OBJECTS_DICT[class_name].from_config(inner_config)


def get(identifier: Any) -> Callable[[Any], Any] | None:
    """A constraint from None, a name, a config dict, a class, an instance or a callable.

    Computes: None -> None; str -> ALL_OBJECTS_DICT[str](); dict -> deserialize; class -> class();
      callable -> itself.
    Keras: `keras.constraints.get(identifier)`.
    Differences: the ValueError for an unknown identifier also lists the valid names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if not callable(obj):
        raise _unknown(identifier)
    return obj() if inspect.isclass(obj) else obj
