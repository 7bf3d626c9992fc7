"""Weight regularizers: Keras 3's `keras.regularizers`, in NumPy.

Keras 3.15.1 (keras/src/regularizers/) is the specification: class names, constructor arguments
and defaults, formulas, `get_config()` values and error messages follow it. A regularizer maps a
weight to a scalar penalty; `Layer.losses` calls it on the current value of every trainable
regularized weight (docs/keras-facts.md#fact-2-6), so a GradientTape may be recording. The
penalties are therefore plain NumPy calls on the argument (no conversion, no `out=`), and
constants are Python floats so that a float32 weight gives a float32 penalty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._lookup import Lookup

# keras.backend.epsilon(): the lower bound of a norm in keras.ops.normalize.
_EPSILON = 1e-7


def _float32_rounded(value: float) -> float:
    # A Python float becomes a float32 tensor in Keras (`ops.convert_to_tensor`, and `ops.cast`
    # of a Python number converts it first), so every coefficient reaches x's dtype through
    # float32: float64 weights see 0.009999999776482582 for 0.01.
    return float(np.float32(value))


def validate_float_arg(value: Any, name: str) -> float:
    """A regularization factor as a float, or ValueError if it is not a finite number >= 0.

    Computes: float(value), for int/float (bool and np.float64 included) that are finite and >= 0.
    Keras: `keras.src.regularizers.regularizers.validate_float_arg` (same message, missing space
      included).
    """
    if not isinstance(value, (float, int)) or (math.isinf(value) or math.isnan(value)) or value < 0:
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float."
            f"Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """Base class of regularizers: a callable from a weight to a scalar penalty.

    Computes: 0.0 (subclasses override `__call__`).
    Keras: `keras.regularizers.Regularizer`.
    """

    def __call__(self, x: Any) -> Any:
        return 0.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{self} does not implement get_config()")


class L1L2(Regularizer):
    """L1 plus L2 penalty; a zero factor drops its term.

    Computes: l1 * sum(|x|) + l2 * sum(x^2), factors rounded to float32, then cast to x.dtype.
    Keras: `keras.regularizers.L1L2(l1=0.0, l2=0.0)` (None means 0.0).
    """

    def __init__(self, l1: float | None = 0.0, l2: float | None = 0.0) -> None:
        # L1L2() has no penalty at all, unlike L1() and L2() (Keras keeps this for compatibility).
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x: Any) -> Any:
        # Keras starts from a 0-d zero of x's dtype, so L1L2() still returns x's dtype.
        regularization = np.zeros((), dtype=x.dtype)
        if self.l1 != 0.0:
            regularization = regularization + _float32_rounded(self.l1) * np.sum(np.abs(x))
        if self.l2 != 0.0:
            regularization = regularization + _float32_rounded(self.l2) * np.sum(np.square(x))
        return regularization

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """L1 penalty.

    Computes: l1 * sum(|x|), l1 rounded to float32, then cast to x.dtype.
    Keras: `keras.regularizers.L1(l1=0.01)` (None means 0.01).
    """

    def __init__(self, l1: float | None = 0.01) -> None:
        l1 = validate_float_arg(0.01 if l1 is None else l1, name="l1")
        # Keras stores l1 as a float32 tensor, so get_config() too reports the rounded value.
        self.l1 = _float32_rounded(l1)

    def __call__(self, x: Any) -> Any:
        return self.l1 * np.sum(np.abs(x))

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """L2 penalty, with no 0.5 factor.

    Computes: l2 * sum(x^2), l2 rounded to float32, then cast to x.dtype.
    Keras: `keras.regularizers.L2(l2=0.01)` (None means 0.01).
    """

    def __init__(self, l2: float | None = 0.01) -> None:
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x: Any) -> Any:
        return _float32_rounded(self.l2) * np.sum(np.square(x))

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


def _l2_normalize(x: Any, axis: int) -> Any:
    # keras.ops.normalize(x, axis): x * min(rsqrt(sum(x^2)), 1 / epsilon); a zero vector stays 0.
    with np.errstate(divide="ignore"):
        inv_norm = 1.0 / np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    return x * np.minimum(inv_norm, 1.0 / _EPSILON)


class OrthogonalRegularizer(Regularizer):
    """Penalty on the cosine similarity between the rows (or columns) of a rank-2 weight.

    Computes: factor * 0.5 * sum_{i != j} |<u_i, u_j>| / (n (n - 1) / 2) (the mean |cosine| over
      pairs), u_i the L2-normalized rows ("rows") or columns ("columns"); NaN for n = 1, as Keras.
    Keras: `keras.regularizers.OrthogonalRegularizer(factor=0.01, mode="rows")`.
    Differences: Keras keeps `factor` as a tensor of its own dtype (float32 for a Python float,
      float64 for np.float64, int32 for an int) and fails unless x has that dtype; here the
      factor (the value get_config() reports, as in Keras) is cast to x.dtype, so float64
      weights and int factors work.
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        validate_float_arg(factor, name="factor")
        # `ops.convert_to_tensor(factor)` keeps np.float64 as float64, rounds the rest to float32.
        self.factor = float(factor) if isinstance(factor, np.floating) else _float32_rounded(factor)
        if mode not in {"rows", "columns"}:
            raise ValueError(
                "Invalid value for argument `mode`. Expected one of "
                f'{{"rows", "columns"}}. Received: mode={mode}'
            )
        self.mode = mode

    def __call__(self, inputs: Any) -> Any:
        if len(inputs.shape) != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: "
                f"inputs.shape={inputs.shape}"
            )
        if self.mode == "rows":
            normalized = _l2_normalize(inputs, axis=1)
            product = np.matmul(normalized, np.transpose(normalized))
            size = inputs.shape[0]
        else:
            normalized = _l2_normalize(inputs, axis=0)
            product = np.matmul(np.transpose(normalized), normalized)
            size = inputs.shape[1]
        product_no_diagonal = product * (1.0 - np.eye(size, dtype=inputs.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        # One row or column has no pairs: 0 / 0 is NaN in Keras too.
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.factor * 0.5 * np.sum(np.abs(product_no_diagonal)) / num_pairs

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


# Keras's function-style aliases: keras.regularizers.l1 is keras.regularizers.L1, and so on.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)

_LOOKUP = Lookup("regularizer", "keras.regularizers", Regularizer, _CLASSES)

# The names get() and deserialize() accept: class names and their snake_case forms.
ALL_OBJECTS_DICT: dict[str, type[Regularizer]] = _LOOKUP.objects


def serialize(regularizer: Regularizer | str | None) -> dict[str, Any] | str | None:
    """A regularizer as Keras's serialized dict.

    Computes: {"module": "keras.regularizers", "class_name": ..., "config": get_config(),
      "registered_name": None}; None and strings pass through.
    Keras: `keras.regularizers.serialize(regularizer)`.
    Differences: another class gives module = its module (None for __main__) and
      registered_name = its class name, as Keras does for unregistered classes; plain functions
      are not serialized (TypeError).
    """
    return _LOOKUP.serialize(regularizer)


def deserialize(
    config: dict[str, Any] | str | None, custom_objects: Mapping[str, Any] | None = None
) -> Any:
    """A regularizer from a name or a `{"class_name": ..., "config": ...}` dict.

    Computes: cls.from_config(config["config"] or {}), cls looked up by class_name (or
      registered_name) in custom_objects, then in the built-in names.
    Keras: `keras.regularizers.deserialize(config, custom_objects=None)`.
    Differences: an unknown name raises ValueError listing the valid names (Keras returns the
      name string itself); objects that are neither str nor dict pass through, as in Keras.
    """
    return _LOOKUP.deserialize(config, custom_objects)


def get(identifier: Any) -> Callable[[Any], Any] | None:
    """A regularizer from None, a name, a config dict, a class, an instance or a callable.

    Computes: None -> None; str -> ALL_OBJECTS_DICT[str](); dict -> deserialize; class -> class();
      callable -> itself.
    Keras: `keras.regularizers.get(identifier)`.
    Differences: the ValueError for an unknown identifier also lists the valid names.
    """
    return _LOOKUP.get(identifier)
