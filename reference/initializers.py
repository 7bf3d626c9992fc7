"""Weight initializers: Keras 3's `keras.initializers`, in NumPy.

Keras 3.15.1 (keras/src/initializers/) is the specification: class names, constructor arguments
and defaults, formulas, `get_config()` keys and error messages follow it. All random bits come
from `_draw`, which takes them from reference.random (TF's stateless Philox stream).
"""

from __future__ import annotations

import inspect
import math
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import config as _config
from . import random as _random

Shape = Sequence[int]
DTypeLike = str | np.dtype | type | None

# Std of N(0, 1) truncated to [-2, 2]: dividing by it gives truncated draws the intended variance.
_TRUNCATED_STD = 0.87962566103423978
_UNIFORM_DTYPES = ("float16", "float32", "float64", "int32", "int64")
_NORMAL_DTYPES = ("float16", "float32", "float64")


def _standardize_dtype(dtype: DTypeLike) -> np.dtype:
    # Keras reads None and the Python type `float` as floatx(), where NumPy says float64.
    return np.dtype(_config.floatx() if dtype is None or dtype is float else dtype)


def _draw(kind: str, shape: Shape, seed: int, dtype: np.dtype, a: float, b: float) -> np.ndarray:
    """Every random initializer's values, from reference.random (TF's stateless Philox stream).

    Computes: uniform: U[a, b) (integers in [int(a), int(b)) for int dtypes); normal: N(a, b^2);
      truncated_normal: N(a, b^2) restricted to |z| < 2.
    Keras: `tf.random.stateless_{uniform,normal,truncated_normal}(shape, seed=[s, 0], dtype)`
      with s = floormod(seed, 2**31 - 2): uniform values are bit-exact, normal ones within a few
      ulp (libm), see reference/random.py.
    """
    allowed = _UNIFORM_DTYPES if kind == "uniform" else _NORMAL_DTYPES
    if dtype.name not in allowed:
        if kind != "uniform" and dtype.kind != "f":
            # TF fails converting the float mean to the integer dtype: a TypeError.
            raise TypeError(f"Cannot draw {kind} values of dtype {dtype.name}. Received: mean={a}")
        raise ValueError(
            f"Argument `dtype` got invalid value {dtype.name}. Accepted dtypes are {allowed}."
        )
    draws = {"uniform": _random.uniform, "normal": _random.normal}
    draw = draws.get(kind, _random.truncated_normal)
    return draw(tuple(shape), a, b, dtype=dtype, seed=seed)


def compute_fans(
    shape: Shape, input_axes: Sequence[int] | None = None, output_axes: Sequence[int] | None = None
) -> tuple[int, int]:
    """The (fan_in, fan_out) of a weight shape.

    Computes: explicit axes: products of shape over them; else rank 0: (1, 1), rank 1: (n, n),
      rank 2: (s0, s1), rank >= 3: (s[-2] * rf, s[-1] * rf) with rf = prod(s[:-2]).
    Keras: `keras.src.initializers.random_initializers.compute_fans`.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = math.prod(shape[axis] for axis in input_axes)
        fan_out = math.prod(shape[axis] for axis in output_axes)
    elif len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field = math.prod(shape[:-2])  # channels-last conv kernel (..., in, out)
        fan_in, fan_out = shape[-2] * receptive_field, shape[-1] * receptive_field
    return int(fan_in), int(fan_out)


class Initializer:
    """Base class: a callable `(shape, dtype=None) -> array` with a config.

    Computes: nothing; subclasses implement `__call__`.
    Keras: `keras.initializers.Initializer`.
    """

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return self.__class__.from_config(self.get_config())


class Zeros(Initializer):
    """All zeros.

    Computes: x = 0
    Keras: `keras.initializers.Zeros()`.
    """

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        return np.zeros(tuple(shape), dtype=_standardize_dtype(dtype))


class Ones(Initializer):
    """All ones.

    Computes: x = 1
    Keras: `keras.initializers.Ones()`.
    """

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        return np.ones(tuple(shape), dtype=_standardize_dtype(dtype))


class Constant(Initializer):
    """A constant value, broadcast against the shape.

    Computes: x = cast(value, dtype) * ones(shape)
    Keras: `keras.initializers.Constant(value=0.0)`.
    Differences: `get("constant")` / `get("Constant")` give `Constant(0.0)`; Keras raises
      `KeyError: 'value'` because its `from_config` requires the key.
    """

    def __init__(self, value: Any = 0.0):
        self.value = value

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        dtype = _standardize_dtype(dtype)
        return np.asarray(self.value).astype(dtype) * np.ones(tuple(shape), dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        from .saving.serialization import serialize_keras_object  # the one serializer

        return {"value": serialize_keras_object(self.value)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constant:
        # Deliberate difference: a missing "value" means the default, so the bare name works.
        value = config.get("value", 0.0)
        if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):
            value = np.array(value["config"]["value"], dtype=value["config"]["dtype"])
        return cls(value)


class Identity(Initializer):
    """A scaled identity matrix (2-D only).

    Computes: x = gain * eye(rows, cols)
    Keras: `keras.initializers.Identity(gain=1.0)`.
    """

    # No get_config override, as in Keras: its config is {}, so a round trip resets gain to 1.0.
    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = _standardize_dtype(dtype)
        if dtype.kind in "iub" and type(self.gain) is float:
            # TF refuses to convert a Python float (even 1.0, the default) to an integer tensor.
            raise TypeError(f"Cannot convert {self.gain} to dtype {dtype.name}.")
        return (self.gain * np.eye(*shape, dtype=dtype)).astype(dtype)


class RandomInitializer(Initializer):
    """Base of the random initializers: holds an int seed, drawn once if not given.

    Computes: nothing; holds `seed` (Python `random.randint(1, 10**9)` at construction if None).
    Keras: `keras.src.initializers.random_initializers.RandomInitializer`.
    Differences: `seed` must be an int (not bool); Keras also accepts a `SeedGenerator`.
    """

    def __init__(self, seed: int | None = None):
        self._init_seed = seed
        if seed is None:
            # As Keras: one seed per instance, so every call of an instance returns the same values.
            seed = random.randint(1, 10**9)
        elif isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"`seed` argument should be an integer. Received: seed={seed}")
        self.seed = seed

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._init_seed}


class _MeanStddevInitializer(RandomInitializer):
    """Shared body of RandomNormal and TruncatedNormal, which differ only in `_kind`."""

    _kind: str

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        dtype = _standardize_dtype(dtype)
        return _draw(self._kind, shape, self.seed, dtype, self.mean, self.stddev)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomNormal(_MeanStddevInitializer):
    """Normal draws.

    Computes: x ~ N(mean, stddev^2)
    Keras: `keras.initializers.RandomNormal(mean=0.0, stddev=0.05, seed=None)`.
    """

    _kind = "normal"


class TruncatedNormal(_MeanStddevInitializer):
    """Normal draws truncated at two standard deviations (no variance correction).

    Computes: x = mean + stddev * z, z ~ N(0, 1) re-drawn while |z| >= 2
    Keras: `keras.initializers.TruncatedNormal(mean=0.0, stddev=0.05, seed=None)`.
    """

    _kind = "truncated_normal"


class RandomUniform(RandomInitializer):
    """Uniform draws; integers for int32/int64 dtypes.

    Computes: x ~ U[minval, maxval) (ints: U{int(minval), ..., int(maxval) - 1})
    Keras: `keras.initializers.RandomUniform(minval=-0.05, maxval=0.05, seed=None)`.
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        dtype = _standardize_dtype(dtype)
        return _draw("uniform", shape, self.seed, dtype, self.minval, self.maxval)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Draws scaled to the fan of the weight shape.

    Computes: s = scale / max(1, n), n = fan_in | fan_out | (fan_in + fan_out) / 2; then
      truncated_normal: std sqrt(s) / 0.8796..., untruncated_normal: std sqrt(s),
      uniform: U[-sqrt(3 s), sqrt(3 s))
    Keras: `keras.initializers.VarianceScaling(scale=1.0, mode="fan_in",
      distribution="truncated_normal", seed=None, input_axes=None, output_axes=None)`.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"  # Keras's legacy meaning of "normal"
        allowed_distributions = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed_distributions:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}."
                f"Please use one of {allowed_distributions}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        dtype = _standardize_dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_STD
            return _draw("truncated_normal", shape, self.seed, dtype, 0.0, stddev)
        if self.distribution == "untruncated_normal":
            return _draw("normal", shape, self.seed, dtype, 0.0, math.sqrt(scale))
        limit = math.sqrt(3.0 * scale)
        return _draw("uniform", shape, self.seed, dtype, -limit, limit)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed by the subclass."""

    _preset: tuple[float, str, str]

    def __init__(
        self,
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        scale, mode, distribution = self._preset
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self) -> dict[str, Any]:
        return {
            "seed": self._init_seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_VarianceScalingPreset):
    """Glorot (Xavier) uniform; the Dense and Conv kernel default.

    Computes: x ~ U[-limit, limit), limit = sqrt(6 / (fan_in + fan_out))
    Keras: `keras.initializers.GlorotUniform(seed=None, input_axes=None, output_axes=None)`.
    """

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Glorot (Xavier) truncated normal.

    Computes: x ~ TruncN(0, std, +-2 std), std = sqrt(2 / (fan_in + fan_out)) / 0.8796...
    Keras: `keras.initializers.GlorotNormal(seed=None, input_axes=None, output_axes=None)`.
    """

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """He uniform.

    Computes: x ~ U[-limit, limit), limit = sqrt(6 / fan_in)
    Keras: `keras.initializers.HeUniform(seed=None, input_axes=None, output_axes=None)`.
    """

    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_VarianceScalingPreset):
    """He truncated normal.

    Computes: x ~ TruncN(0, std, +-2 std), std = sqrt(2 / fan_in) / 0.8796...
    Keras: `keras.initializers.HeNormal(seed=None, input_axes=None, output_axes=None)`.
    """

    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """LeCun uniform.

    Computes: x ~ U[-limit, limit), limit = sqrt(3 / fan_in)
    Keras: `keras.initializers.LecunUniform(seed=None, input_axes=None, output_axes=None)`.
    """

    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """LeCun truncated normal.

    Computes: x ~ TruncN(0, std, +-2 std), std = sqrt(1 / fan_in) / 0.8796...
    Keras: `keras.initializers.LecunNormal(seed=None, input_axes=None, output_axes=None)`.
    """

    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix over the flattened shape (rows = prod(shape[:-1])).

    Computes: q, r = qr(a), a ~ N(0, 1) of shape (max(rows, cols), min(rows, cols));
      q *= sign(diag(r)); transposed if rows < cols; x = gain * reshape(q, shape)
    Keras: `keras.initializers.Orthogonal(gain=1.0, seed=None)`.
    Differences: the QR runs in float64 whatever the dtype (Keras: in the dtype).
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = _standardize_dtype(dtype)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _draw("normal", (max(rows, cols), min(rows, cols)), self.seed, dtype, 0.0, 1.0)
        q, r = np.linalg.qr(a.astype(np.float64))
        q *= np.sign(np.diag(r))  # makes the factorization unique, so q is Haar-distributed
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(tuple(shape))).astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gain": self.gain}


_CLASSES = (
    Initializer, Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform, HeNormal,
    HeUniform, LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform,
    TruncatedNormal, VarianceScaling,
)  # fmt: skip
# The names Keras 3 resolves (keras/src/initializers/__init__.py), less STFT / STFTInitializer.
_ALIASES: dict[str, type[Initializer]] = {
    **{cls.__name__: cls for cls in _CLASSES},
    **{re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower(): cls for cls in _CLASSES},
    "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
    "normal": RandomNormal,
    "uniform": RandomUniform,
    "one": Ones,
    "zero": Zeros,
}


def serialize(initializer: Initializer | None) -> dict[str, Any] | None:
    """An initializer as Keras's serialized dict.

    Computes: {"module": "keras.initializers", "class_name", "config", "registered_name": None}
      for a built-in; a user's class keeps its module and its registered (or class) name
      (reference.saving.serialize_keras_object, the one serializer of every kind).
    Keras: `keras.initializers.serialize(initializer)`.
    """
    if initializer is None or isinstance(initializer, (str, int, float)):
        return initializer  # Keras passes plain values through, e.g. serialize("zeros")
    if not isinstance(initializer, Initializer):
        raise ValueError(f"Expected an Initializer. Received: initializer={initializer!r}")
    from .saving.serialization import serialize_keras_object

    return serialize_keras_object(initializer)


def deserialize(config: dict[str, Any] | str | Initializer | None) -> Initializer | None:
    """An initializer from a name or a `{"class_name": ..., "config": ...}` dict.

    Computes: cls.from_config(config), cls the class a registered name ("package>Name",
      reference.saving.register_serializable) or _ALIASES gives.
    Keras: `keras.initializers.deserialize(config)`.
    Differences: an unknown name raises ValueError listing the names (Keras returns the string).
    """
    if config is None or isinstance(config, Initializer):
        return config
    if isinstance(config, str):
        name, cls_config = config, {}
    elif isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(f"Unknown `config` as a `dict`, config={config}")
        name, cls_config = config["class_name"], config.get("config") or {}
        from .saving import registry

        custom = registry.registered_object(config.get("registered_name"))
        if custom is not None:
            return custom.from_config(cls_config)
    else:
        raise ValueError(f"Could not interpret initializer identifier: {config}")
    if name not in _ALIASES:
        raise ValueError(
            f"Could not interpret initializer identifier: {config}. Unknown name {name!r}; "
            f"expected one of: {', '.join(sorted(_ALIASES))}."
        )
    return _ALIASES[name].from_config(cls_config)


def get(identifier: Any) -> Callable[..., np.ndarray] | None:
    """An initializer from a name, dict, class, instance, callable or array.

    Computes: None -> None; str/dict -> deserialize; class -> class(); array -> its cast copy.
    Keras: `keras.initializers.get(identifier)`.
    Differences: unknown names list the valid ones.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (dict, str)):
        obj = deserialize(identifier)
    elif isinstance(identifier, (np.ndarray, np.generic)):

        def initialize_fn(shape: Shape, dtype: DTypeLike = None) -> np.ndarray:
            if tuple(shape) != identifier.shape:
                raise ValueError(
                    f"Expected `shape` to be {identifier.shape} for direct tensor as "
                    f"initializer. Received shape={shape}"
                )
            return np.asarray(identifier).astype(_standardize_dtype(dtype))

        obj = initialize_fn
    else:
        obj = identifier
    if not callable(obj):
        raise ValueError(
            f"Could not interpret initializer identifier: {identifier}. Expected a name, a "
            "config dict, an Initializer (class or instance), a callable or an array."
        )
    return obj() if inspect.isclass(obj) else obj
