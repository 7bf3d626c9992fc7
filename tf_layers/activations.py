"""The twins' activation table, the `get` lookup and the `Activation` layer, in raw TensorFlow ops.

Every Keras 3 activation name (`keras.activations.get` accepts 30 names plus the aliases `swish` and
`hard_swish`) maps to a function here with the same name, signature and defaults, written with
`tf.nn` / `tf.math` ops. `keras.activations` is never called: the twins must be an independent
oracle, so a disagreement with stock Keras points at one side's misunderstanding.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from tensorflow import keras


def _to_tensor(x: Any) -> tf.Tensor:
    return tf.convert_to_tensor(x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras's three options.

    Computes: where(x > threshold, x, 0) clipped to [0, max_value], minus
        negative_slope * relu(threshold - x).
    Keras: keras.activations.relu. The branches follow Keras's `ReLU.static_call` so that each case
        runs the same TF kernel: leaky_relu when only a slope is set, relu6 for max_value == 6.
    """
    x = _to_tensor(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return tf.nn.leaky_relu(x, alpha=negative_slope)
        negative_part = tf.nn.relu(-x + threshold) if threshold != 0 else tf.nn.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = tf.where(x > tf.cast(threshold, x.dtype), x, tf.zeros_like(x))
    elif max_value == 6:
        x = tf.nn.relu6(x)
        clip_max = False
    else:
        x = tf.nn.relu(x)
    if clip_max:
        x = tf.clip_by_value(x, tf.cast(0.0, x.dtype), tf.cast(max_value, x.dtype))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU.

    Computes: x if x > 0 else negative_slope * x.
    Keras: keras.activations.leaky_relu.
    """
    return tf.nn.leaky_relu(_to_tensor(x), alpha=negative_slope)


def relu6(x):
    """ReLU capped at 6.

    Computes: min(max(x, 0), 6).
    Keras: keras.activations.relu6.
    """
    return tf.nn.relu6(_to_tensor(x))


def _attach_logits(output: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    # Keras's crossentropy losses read `_keras_logits` instead of the probabilities
    # (docs/keras-facts.md#fact-8-3); a twin without them would give different losses downstream.
    try:
        output._keras_logits = logits
    except AttributeError:
        pass
    return output


def _over_axes(fn: Callable, x: tf.Tensor, axis) -> tf.Tensor:
    """Applies a last-axis normalizer `fn` over `axis` (int, tuple or None) as Keras's ops do."""
    if axis is None:
        return tf.reshape(fn(tf.reshape(x, [-1]), axis=-1), tf.shape(x))
    if isinstance(axis, tuple):
        keep = [v for v in range(len(x.shape)) if v not in axis]
        moved = tf.transpose(x, (*keep, *axis))
        flat = tf.reshape(moved, (*[x.shape[v] for v in keep], -1))
        out = tf.reshape(fn(flat, axis=-1), moved.shape)
        combined = [*keep, *axis]
        return tf.transpose(out, sorted(range(len(combined)), key=combined.__getitem__))
    return fn(x, axis=axis)


def softmax(x, axis=-1):
    """Softmax over `axis`.

    Computes: exp(x - max(x)) / sum(exp(x - max(x))) along axis (int, tuple, or None for all).
    Keras: keras.activations.softmax (warns when the axis has size 1; attaches `_keras_logits`).
    """
    x = _to_tensor(x)
    if isinstance(axis, int) and -len(x.shape) <= axis < len(x.shape) and x.shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} "
            f"of a tensor of shape {x.shape}. This axis "
            "has size 1. The softmax operation will always return "
            "the value 1, which is likely not what you intended. "
            "Did you mean to use a sigmoid instead?",
            stacklevel=2,
        )
    return _attach_logits(_over_axes(tf.nn.softmax, x, axis), x)


def log_softmax(x, axis=-1):
    """Log of softmax.

    Computes: (x - max) - log(sum(exp(x - max))).
    Keras: keras.activations.log_softmax.
    """
    return _over_axes(tf.nn.log_softmax, _to_tensor(x), axis)


def elu(x, alpha=1.0):
    """Exponential linear unit.

    Computes: x if x > 0 else alpha * (exp(x) - 1).
    Keras: keras.activations.elu (tf.nn.elu, then a where() for alpha != 1).
    """
    x = _to_tensor(x)
    res = tf.nn.elu(x)
    if alpha == 1:
        return res
    return tf.where(x > 0, res, alpha * res)


def selu(x):
    """Scaled ELU.

    Computes: scale * (x if x > 0 else alpha * (exp(x) - 1)).
    Keras: keras.activations.selu.
    """
    return tf.nn.selu(_to_tensor(x))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU.

    Computes: max(x, 0) + alpha * expm1(min(x, 0) / alpha).
    Keras: keras.activations.celu.
    """
    x = _to_tensor(x)
    return tf.maximum(x, 0.0) + alpha * tf.math.expm1(tf.minimum(x, 0.0) / alpha)


def softplus(x):
    """Softplus.

    Computes: log(1 + exp(x)) (TF's thresholded kernel).
    Keras: keras.activations.softplus.
    """
    return tf.math.softplus(_to_tensor(x))


def softsign(x):
    """Softsign.

    Computes: x / (1 + |x|).
    Keras: keras.activations.softsign.
    """
    return tf.nn.softsign(_to_tensor(x))


def squareplus(x, b=4):
    """Squareplus.

    Computes: (x + sqrt(x^2 + b)) / 2.
    Keras: keras.activations.squareplus.
    """
    x = _to_tensor(x)
    b = tf.convert_to_tensor(b, dtype=x.dtype)
    return (x + tf.sqrt(tf.square(x) + b)) / 2


def soft_shrink(x, threshold=0.5):
    """Soft shrinkage.

    Computes: x - threshold if x > threshold, x + threshold if x < -threshold, else 0.
    Keras: keras.activations.soft_shrink.
    """
    x = _to_tensor(x)
    return tf.where(
        x > threshold,
        x - threshold,
        tf.where(x < -threshold, x + threshold, tf.zeros_like(x)),
    )


def sparse_plus(x):
    """SparsePlus.

    Computes: 0 if x <= -1, (x + 1)^2 / 4 if x < 1, else x.
    Keras: keras.activations.sparse_plus.
    """
    x = _to_tensor(x)
    return tf.where(x <= -1, tf.zeros_like(x), tf.where(x < 1, (1 / 4) * tf.pow(x + 1, 2), x))


def silu(x):
    """Sigmoid linear unit (swish).

    Computes: x * sigmoid(x).
    Keras: keras.activations.silu.
    """
    return tf.nn.silu(_to_tensor(x))


def gelu(x, approximate=False):
    """Gaussian error linear unit.

    Computes: 0.5 * x * erfc(-x / sqrt(2)); approximate=True:
        0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
    Keras: keras.activations.gelu (default approximate=False, unlike keras.ops.gelu).
    """
    x = _to_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(
            f"`features.dtype` must be a floating point tensor.Received:features.dtype={x.dtype}"
        )
    if approximate:
        coeff = tf.cast(0.044715, x.dtype)
        return 0.5 * x * (1.0 + tf.math.tanh(0.7978845608028654 * (x + coeff * tf.pow(x, 3))))
    return 0.5 * x * tf.math.erfc(-x * tf.cast(0.7071067811865476, x.dtype))


def glu(x, axis=-1):
    """Gated linear unit.

    Computes: a * sigmoid(b) where a, b = split(x, 2, axis).
    Keras: keras.activations.glu.
    """
    x = _to_tensor(x)
    if x.shape[axis] % 2 != 0:
        raise ValueError(
            f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis={axis}"
        )
    x1, x2 = tf.split(x, num_or_size_splits=2, axis=axis)
    return x1 * tf.sigmoid(x2)


def tanh(x):
    """Hyperbolic tangent.

    Computes: tanh(x).
    Keras: keras.activations.tanh.
    """
    return tf.math.tanh(_to_tensor(x))


def tanh_shrink(x):
    """Tanh shrink.

    Computes: x - tanh(x).
    Keras: keras.activations.tanh_shrink.
    """
    x = _to_tensor(x)
    return x - tf.math.tanh(x)


def hard_tanh(x):
    """Hard tanh.

    Computes: clip(x, -1, 1) (gradient 1 at the bounds).
    Keras: keras.activations.hard_tanh.
    """
    return tf.clip_by_value(_to_tensor(x), clip_value_min=-1.0, clip_value_max=1.0)


def hard_shrink(x, threshold=0.5):
    """Hard shrinkage.

    Computes: x if |x| > threshold else 0.
    Keras: keras.activations.hard_shrink.
    """
    x = _to_tensor(x)
    return tf.where(tf.abs(x) > threshold, x, tf.zeros_like(x))


def threshold(x, threshold, default_value):
    """Threshold.

    Computes: x if x > threshold else default_value.
    Keras: keras.activations.threshold.
    """
    x = _to_tensor(x)
    return tf.where(x > threshold, x, default_value)


def sigmoid(x):
    """Logistic sigmoid.

    Computes: 1 / (1 + exp(-x)).
    Keras: keras.activations.sigmoid (attaches logits).
    """
    x = _to_tensor(x)
    return _attach_logits(tf.nn.sigmoid(x), x)


def sparse_sigmoid(x):
    """Sparse sigmoid.

    Computes: 0 if x <= -1, 1 if x >= 1, else (x + 1) / 2.
    Keras: keras.activations.sparse_sigmoid.
    """
    x = _to_tensor(x)
    return tf.where(
        x <= -1,
        tf.constant(0.0, dtype=x.dtype),
        tf.where(x >= 1, tf.constant(1.0, dtype=x.dtype), 0.5 * (x + 1)),
    )


def exponential(x):
    """Exponential.

    Computes: exp(x) (integer input is cast to floatx).
    Keras: keras.activations.exponential.
    """
    x = _to_tensor(x)
    if x.dtype.is_integer or x.dtype == tf.bool:
        x = tf.cast(x, keras.config.floatx())
    return tf.exp(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid.

    Computes: relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1), breakpoints +-3.
    Keras: keras.activations.hard_sigmoid.
    Differences: none; Keras 2 used clip(0.2 x + 0.5, 0, 1) (docs/keras-facts.md#fact-6-2).
    """
    x = _to_tensor(x)
    return tf.nn.relu6(x + tf.constant(3.0, x.dtype)) / tf.constant(6.0, x.dtype)


def hard_silu(x):
    """Hard SiLU (hard swish).

    Computes: x * hard_sigmoid(x).
    Keras: keras.activations.hard_silu.
    """
    x = _to_tensor(x)
    return x * hard_sigmoid(x)


def log_sigmoid(x):
    """Log of sigmoid.

    Computes: -softplus(-x).
    Keras: keras.activations.log_sigmoid.
    """
    return tf.math.log_sigmoid(_to_tensor(x))


def linear(x):
    """Identity.

    Computes: x.
    Keras: keras.activations.linear (what `get(None)` returns).
    """
    return x


def mish(x):
    """Mish.

    Computes: x * tanh(softplus(x)).
    Keras: keras.activations.mish.
    """
    x = _to_tensor(x)
    return x * tf.nn.tanh(tf.math.softplus(x))


def sparsemax(x, axis=-1):
    """Sparsemax: Euclidean projection onto the probability simplex.

    Computes: max(x - tau, 0) with tau chosen so the output sums to 1 along axis.
    Keras: keras.activations.sparsemax.
    """
    logits = _to_tensor(x)
    logits_sorted = tf.sort(logits, direction="DESCENDING", axis=axis)
    logits_cumsum = tf.cumsum(logits_sorted, axis=axis)
    r = tf.range(1, tf.shape(logits)[axis] + 1, dtype=logits.dtype)
    r_shape = [1] * len(logits.shape)
    r_shape[axis] = -1
    r = tf.reshape(r, r_shape)
    support = logits_sorted - (logits_cumsum - 1) / r > 0
    logits_cumsum_safe = tf.where(support, logits_cumsum, 0.0)
    k = tf.reduce_sum(tf.cast(support, logits.dtype), axis=axis, keepdims=True)
    tau = (tf.reduce_sum(logits_cumsum_safe, axis=axis, keepdims=True) - 1) / k
    return tf.maximum(logits - tau, 0.0)


_CANONICAL = (
    celu,
    elu,
    exponential,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_tanh,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softmax,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    tanh,
    tanh_shrink,
    threshold,
)

#: name -> function for every name `keras.activations.get` accepts (aliases -> canonical twin).
ACTIVATIONS: dict[str, Callable] = {fn.__name__: fn for fn in _CANONICAL}
ACTIVATIONS["swish"] = silu
ACTIVATIONS["hard_swish"] = hard_silu


def _own_twin(fn: Any) -> Any:
    """A Keras built-in activation function handed in as a callable, replaced by its twin."""
    module = getattr(fn, "__module__", "") or ""
    name = getattr(fn, "__name__", None)
    if isinstance(fn, types.FunctionType) and module.startswith("keras.") and name in ACTIVATIONS:
        if module.endswith(".activations") or module.endswith(".activations.activations"):
            return ACTIVATIONS[name]
    return fn


def get(identifier: str | Callable | dict | None) -> Callable:
    """Looks up an activation function.

    Computes: None -> linear; a name -> the twin's function; a dict -> its deserialized object;
        a callable -> itself (Keras built-ins are swapped for their twins so Keras never computes).
    Keras: keras.activations.get.
    Differences: the error for an unknown name also lists the valid names.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        config = identifier.get("config")
        if identifier.get("class_name") == "function" and config in ACTIVATIONS:
            obj = ACTIVATIONS[config]
        else:
            obj = _own_twin(keras.utils.deserialize_keras_object(identifier))
    elif isinstance(identifier, str):
        obj = ACTIVATIONS.get(identifier, None)
    else:
        obj = _own_twin(identifier)
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier}. "
        f"Valid names: {', '.join(sorted(ACTIVATIONS))}."
    )


def serialize(activation: Callable) -> str | dict:
    """Serializes an activation as Keras does: a built-in by its canonical name, else a config dict.

    Keras: keras.activations.serialize.
    """
    name = getattr(activation, "__name__", None)
    if name in ACTIVATIONS and ACTIVATIONS[name] is activation:
        return name
    config = keras.utils.serialize_keras_object(activation)
    if "config" not in config:
        raise ValueError(
            f"Unknown activation function '{activation}' cannot be "
            "serialized due to invalid function name. Make sure to use "
            "an activation name that matches the references defined in "
            "activations.py or use "
            "`@keras.saving.register_keras_serializable()`"
            "to register any custom activations. "
            f"config={config}"
        )
    if isinstance(activation, types.FunctionType) and isinstance(config["config"], str):
        config["config"] = keras.utils.get_registered_name(activation)
    return config


class Activation(keras.layers.Layer):
    """Applies an activation function to its input.

    Computes: y = activation(x), the function taken from this module's table.
    Keras: keras.layers.Activation(activation).
    Differences: none in the math; Keras built-in functions passed as callables are replaced by the
        twin's own (see `get`).

    Args:
        activation: a name from `ACTIVATIONS`, a callable, or None (identity).
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`, ...).

    Input shape: any.
    Output shape: the input shape (except `glu`, which halves the split axis).
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = get(activation)
        # Keras marks a weightless layer built at construction; mirror it so `built` agrees.
        self._build_at_init()

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = {"activation": serialize(self.activation)}
        base_config = super().get_config()
        return {**base_config, **config}
