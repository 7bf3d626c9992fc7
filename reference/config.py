"""Global defaults, as `keras.config`: the default float dtype, the fuzz factor, the image layout.

Everything in the reference that reads one of Keras's defaults reads it from here: the default
dtype of `Layer` (and so of its compute dtype and of `add_weight`), of `Variable`s created from
an initializer, and of initializers called without a dtype; later, the epsilon of losses and the
data format of convolutions.

Layers read floatx through the global dtype policy, as Keras 3 does, and Keras 3 fixes that
policy the first time a layer asks for it: `set_floatx("float64")` changes new layers only if no
layer was created before it (or after `set_dtype_policy`). Measured on Keras 3.15.1:

    keras.layers.Layer(); keras.config.set_floatx("float64")
    keras.layers.Layer().dtype                 # 'float32': the policy was fixed at float32
    keras.initializers.GlorotUniform()((2,))   # float64: initializers read floatx() itself

So call `set_floatx` first thing, or `set_dtype_policy(name)` to change the layers' default at
any time (the same two calls work on `keras.config`). Keras 2 (tf_keras) reads floatx each time.

Keras: keras.config.floatx / set_floatx, epsilon / set_epsilon, image_data_format /
    set_image_data_format (keras/src/backend/config.py), dtype_policy / set_dtype_policy
    (keras/src/dtype_policies/dtype_policy.py).
Differences: NumPy has no bfloat16, so `set_floatx("bfloat16")` raises ValueError; `set_epsilon`
    accepts only a finite number >= 0 (Keras stores whatever it is given, even a string); the
    dtype policy is a dtype name (no DTypePolicy objects, no mixed precision).
"""

from __future__ import annotations

import math
import numbers

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DTYPE_POLICY: str | None = None  # fixed from floatx() at its first read, as Keras 3's

_FLOATX_CHOICES = ("float16", "float32", "float64")
_DATA_FORMATS = ("channels_first", "channels_last")


def floatx() -> str:
    """The default float dtype: "float32" unless `set_floatx` changed it.

    Keras: keras.config.floatx.
    """
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype: "float16", "float32" or "float64".

    Keras: keras.config.set_floatx (which also accepts "bfloat16").
    """
    global _FLOATX
    if value == "bfloat16":
        raise ValueError(
            "reference.config.set_floatx: NumPy has no bfloat16. Received: value='bfloat16'. "
            f"Expected one of {list(_FLOATX_CHOICES)}"
        )
    if not isinstance(value, str) or value not in _FLOATX_CHOICES:
        raise ValueError(
            f"reference.config.set_floatx: unknown `floatx` value. Received: value={value!r}. "
            f"Expected one of {list(_FLOATX_CHOICES)}"
        )
    _FLOATX = value


def dtype_policy() -> str:
    """The layers' default dtype: fixed from floatx() at the first call, unless set.

    Keras: keras.config.dtype_policy (which returns a DTypePolicy; here its name).
    """
    global _DTYPE_POLICY
    if _DTYPE_POLICY is None:
        _DTYPE_POLICY = _FLOATX
    return _DTYPE_POLICY


def set_dtype_policy(policy: str) -> None:
    """Set the layers' default dtype: "float16", "float32" or "float64".

    Keras: keras.config.set_dtype_policy (which also takes mixed policies and DTypePolicy
        objects).
    """
    global _DTYPE_POLICY
    name = getattr(policy, "name", policy)
    if not isinstance(name, str) or name not in _FLOATX_CHOICES:
        raise ValueError(
            "reference.config.set_dtype_policy: expected the name of a float dtype. "
            f"Received: policy={policy!r}. Expected one of {list(_FLOATX_CHOICES)}"
        )
    _DTYPE_POLICY = name


def epsilon() -> float:
    """The fuzz factor of numeric expressions (1e-7 unless `set_epsilon` changed it).

    Keras: keras.config.epsilon.
    """
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor: a finite number >= 0.

    Keras: keras.config.set_epsilon.
    """
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "reference.config.set_epsilon: expected a real number. "
            f"Received: value={value!r} (of type {type(value).__name__})"
        )
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(
            "reference.config.set_epsilon: expected a finite number >= 0. "
            f"Received: value={value!r}"
        )
    _EPSILON = float(value)


def image_data_format() -> str:
    """The default image layout: "channels_last" unless `set_image_data_format` changed it.

    Keras: keras.config.image_data_format.
    """
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout: "channels_first" or "channels_last" (any case).

    Keras: keras.config.set_image_data_format (same lower-casing and same error text).
    """
    global _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in _DATA_FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}"
        )
    _IMAGE_DATA_FORMAT = value


def standardize_data_format(data_format: str | None) -> str:
    """`data_format` lower-cased and checked, or the global default for None.

    Keras: keras.src.backend.config.standardize_data_format.
    """
    if data_format is None:
        return image_data_format()
    value = str(data_format).lower()
    if value not in _DATA_FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}"
        )
    return value


__all__ = [
    "dtype_policy",
    "epsilon",
    "floatx",
    "image_data_format",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_data_format",
]
