"""Activation functions: `keras.activations` (Keras 3.15.1) as its TensorFlow backend computes them.

Two kinds of functions, as in TF:
- Where Keras calls one TF op that has a gradient kernel of its own (Relu, Relu6, LeakyRelu, Elu,
  Selu, Softplus, Softsign, Sigmoid, Tanh, Softmax, LogSoftmax, and tf.nn.silu's custom
  gradient), the function is a tape `primitive` whose VJP, registered right below it, is that
  kernel's formula computed from the same quantity (the output y where TF uses the output):
  SeluGrad is `where(y < 0, g * (y + scale * alpha), g * scale)`, so at x = -1e-8 in float32,
  where exp(x) - 1 rounds to y = 0, the gradient is `scale * g`, as TF's. `rule_for(fn)` hands
  the same rule to hand-written layer VJPs (Dense).
- Where Keras composes several TF ops (hard_sigmoid, gelu, celu, mish, ...), the function is
  plain NumPy on its argument and the tape differentiates it through its VJP table. Formulas are
  chosen so that the tape's kink conventions reproduce TF's gradients (docs/keras-facts.md#fact-7):
  `np.where` routes by its condition, `np.maximum`/`np.minimum` ties go to the first argument,
  `np.clip` passes the gradient at its bounds.
Rules use np.* only and select with np.where (never multiply by a mask: an infinite upstream
gradient must stay finite off-branch, as in TF's kernels), so they can be traced again for
higher-order gradients. Python float constants keep float16/32 inputs in their dtype (NumPy's
weak scalar promotion).

Keras on TF rounds some Python constants to float32 before they meet a float64 tensor (`tf.cast`
of a Python float, and the float32 `alpha` attribute of `LeakyRelu`); the reference does the same
with `_f32`, so float64 results agree with TensorFlow to the last few bits.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import erfc, expit

from .autodiff import defvjp, primitive

Array = Any  # np.ndarray, or the tape's tracked array that follows NumPy's dispatch


def _f32(value: float) -> float:
    """`value` rounded to float32: what TF sees after `tf.cast(python_float, dtype)`."""
    return float(np.float32(value))


def _keep_float16(y: Array, x: Array) -> Array:
    # SciPy's ufuncs have no float16 loop and return float32; TF's half kernels also compute in
    # float32, so round once back to half (the tape records astype and casts the gradient back).
    return y.astype(x.dtype) if x.dtype == np.float16 else y


@primitive
def _relu(x: Array) -> Array:
    # tf.nn.relu. np.maximum propagates NaN, as TF; an int 0 keeps int inputs int.
    return np.maximum(0, x)


# ReluGrad(g, y): from the output, g * (y > 0): 0 at the kink and at NaN. TF's kernel multiplies
# by the mask (it does not select), so an infinite g gives NaN where y <= 0, and so does this.
defvjp(_relu, lambda g, ans, x: g * (ans > 0))


def relu(
    x: Array, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Array:
    """Rectified linear unit, with optional leak, saturation and threshold.

    Computes: clip(where(x > thr, x, 0), 0, max_value) - negative_slope * relu(thr - x)
    Keras: keras.activations.relu, branch for branch (ReLU.static_call): leaky_relu when only
        negative_slope is set, relu6 when max_value == 6 (gradient 0 at 6; elsewhere clip's bound
        passes it), and thr / max_value cast to the input dtype through float32, as ops.cast does.
    """
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return leaky_relu(x, negative_slope)
        negative_part = _relu(-x + float(threshold)) if threshold != 0 else _relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        y = np.where(x > _f32(threshold), x, 0)
    elif max_value == 6:
        y = relu6(x)
        clip_max = False
    else:
        y = _relu(x)
    if clip_max:  # ops.cast(max_value, x.dtype): through float32, or truncated for ints
        y = np.clip(y, 0, _f32(max_value) if x.dtype.kind == "f" else int(max_value))
    if negative_slope != 0.0:
        y = y - float(negative_slope) * negative_part
    return y


@primitive
def leaky_relu(x: Array, negative_slope: float = 0.2) -> Array:
    """Leaky ReLU.

    Computes: where(x > 0, x, negative_slope * x)
    VJP: where(x > 0, g, negative_slope * g) (LeakyReluGrad, from the input)
    Keras: keras.activations.leaky_relu (tf.nn.leaky_relu, whose slope is a float32 attribute:
        float64 inputs see float32(0.2) = 0.2000000029802322).
    """
    return np.where(x > 0, x, x * _f32(negative_slope))


defvjp(
    leaky_relu, lambda g, ans, x, negative_slope=0.2: np.where(x > 0, g, g * _f32(negative_slope))
)


@primitive
def relu6(x: Array) -> Array:
    """ReLU capped at 6.

    Computes: min(max(x, 0), 6)
    VJP: g * ((y > 0) & (y < 6)) (Relu6Grad, from the output: 0 at 0 and at 6; a mask
        product, as TF's kernel, so an infinite g gives NaN off the linear piece)
    Keras: keras.activations.relu6 (tf.nn.relu6).
    """
    return np.where(x <= 0, 0, np.where(x >= 6, 6, x))


defvjp(relu6, lambda g, ans, x: g * ((ans > 0) & (ans < 6)))


def softmax(x: Array, axis: int | tuple[int, ...] | None = -1) -> Array:
    """Softmax over `axis` (an int, a tuple of ints, or None for all axes).

    Computes: e / sum(e, axis) with e = exp(x - max(x, axis))
    VJP: (g - sum(g * y, axis)) * y (SoftmaxGrad, from the output)
    Keras: keras.activations.softmax (tf.nn.softmax; a tuple axis is transposed to the end first).
    Differences: float rounding only (Eigen's summation order). No `_keras_logits` attribute.
    """
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(  # Keras's own warning (ops/nn.py softmax)
            f"You are using a softmax over axis {axis} of a tensor of shape {tuple(x.shape)}. "
            "This axis has size 1. The softmax operation will always return the value 1, which is "
            "likely not what you intended. Did you mean to use a sigmoid instead?",
            stacklevel=2,
        )
    return _softmax(x, axis)


@primitive
def _softmax(x: Array, axis: Any) -> Array:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


defvjp(_softmax, lambda g, ans, x, axis: (g - np.sum(g * ans, axis=axis, keepdims=True)) * ans)
# Called with their defaults, relu is exactly _relu and softmax _softmax(x, -1): hand-written
# layer VJPs (Dense) use those rules directly (reference.autodiff.rule_for).
relu._primitive_call = (_relu, ())
softmax._primitive_call = (_softmax, (-1,))


@primitive
def log_softmax(x: Array, axis: int | tuple[int, ...] | None = -1) -> Array:
    """Logarithm of the softmax over `axis` (an int, a tuple of ints, or None for all axes).

    Computes: s - log(sum(exp(s), axis)) with s = x - max(x, axis)
    VJP: g - sum(g, axis) * exp(y) (LogSoftmaxGrad, from the output)
    Keras: keras.activations.log_softmax (tf.nn.log_softmax).
    """
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


defvjp(
    log_softmax,
    lambda g, ans, x, axis=-1: g - np.sum(g, axis=axis, keepdims=True) * np.exp(ans),
)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """Exponential linear unit.

    Computes: where(x < 0, exp(x) - 1, x), then where(x > 0, ., alpha * .) if alpha != 1
    VJP: where(y < 0, g * (y + 1), g) (EluGrad, from the output y of tf.nn.elu), then the
        tape's where for alpha != 1. Gradient 1 at 0 (alpha if alpha != 1), and 1 wherever
        exp(x) - 1 rounds to 0 (x = -1e-8 in float32), as TF.
    Keras: keras.activations.elu (tf.nn.elu, whose kernel uses exp(x) - 1, not expm1).
    """
    y = _elu(x)
    return y if alpha == 1 else np.where(x > 0, y, float(alpha) * y)


@primitive
def _elu(x: Array) -> Array:
    # tf.nn.elu. exp's argument is clamped at 0 so the unselected branch never overflows.
    return np.where(x < 0, np.exp(np.minimum(x, 0.0)) - 1.0, x)


defvjp(_elu, lambda g, ans, x: np.where(ans < 0, g * (ans + 1.0), g))


_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALE_ALPHA = 1.7580993408473768599402175208123  # scale * alpha, alpha = 1.6732632423543772


@primitive
def selu(x: Array) -> Array:
    """Scaled exponential linear unit.

    Computes: where(x < 0, 1.7580993408473769 * (exp(x) - 1), 1.0507009873554805 * x)
    VJP: where(y < 0, g * (y + 1.7580993408473769), g * 1.0507009873554805) (SeluGrad, from the
        output): `scale` at 0 and wherever exp(x) - 1 rounds to 0, exactly 0 where y rounds to
        -scale * alpha (x = -20 in float32), as TF.
    Keras: keras.activations.selu (tf.nn.selu).
    """
    y_neg = _SELU_SCALE_ALPHA * (np.exp(np.minimum(x, 0.0)) - 1.0)  # clamped: see _elu
    return np.where(x < 0, y_neg, _SELU_SCALE * x)


defvjp(
    selu,
    lambda g, ans, x: np.where(ans < 0, g * (ans + _SELU_SCALE_ALPHA), g * _SELU_SCALE),
)


# TF's Softplus kernel: threshold = log(eps) + 2 in the input's precision. TF evaluates float16 in
# float32 (so +-13.94), where exp overflows float16 above 11.1; +-10 gives the same rounded values.
_SOFTPLUS_THRESHOLD = {
    np.dtype(np.float16): -10.0,
    np.dtype(np.float32): float(np.log(np.finfo(np.float32).eps) + np.float32(2.0)),  # -13.942385
    np.dtype(np.float64): float(np.log(np.finfo(np.float64).eps) + 2.0),  # -34.04365338911715
}


@primitive
def softplus(x: Array) -> Array:
    """Softplus, thresholded like TF's kernel.

    Computes: where(x > -t, x, where(x < t, exp(x), log1p(exp(x)))), t = log(eps) + 2
    VJP: g * sigmoid(x) everywhere, thresholds included (TF's registered Softplus gradient)
    Keras: keras.activations.softplus (tf.math.softplus): softplus(14.0) == 14.0 in float32.
    """
    t = _SOFTPLUS_THRESHOLD.get(np.dtype(x.dtype), _SOFTPLUS_THRESHOLD[np.dtype(np.float64)])
    e = np.exp(np.minimum(x, -t))  # clamped so the unselected log1p branch never overflows
    return np.where(x > -t, x, np.where(x < t, e, np.log1p(e)))


defvjp(softplus, lambda g, ans, x: g * sigmoid(x))


@primitive
def softsign(x: Array) -> Array:
    """Softsign.

    Computes: x / (|x| + 1)
    VJP: g / (|x| + 1)**2 (SoftsignGrad, from the input)
    Keras: keras.activations.softsign (tf.nn.softsign).
    """
    return x / (np.abs(x) + 1.0)


defvjp(softsign, lambda g, ans, x: g / np.square(np.abs(x) + 1.0))


def soft_shrink(x: Array, threshold: float = 0.5) -> Array:
    """Soft shrinkage.

    Computes: where(x > t, x - t, where(x < -t, x + t, 0))
    Keras: keras.activations.soft_shrink.
    """
    t = float(threshold)
    return np.where(x > t, x - t, np.where(x < -t, x + t, 0.0))


def sparse_plus(x: Array) -> Array:
    """SparsePlus.

    Computes: where(x <= -1, 0, where(x < 1, (x + 1)**2 / 4, x))
    Keras: keras.activations.sparse_plus (gradient 0 at -1, 1 at 1).
    """
    return np.where(x <= -1, 0.0, np.where(x < 1, 0.25 * np.square(x + 1.0), x))


@primitive
def silu(x: Array) -> Array:
    """Sigmoid linear unit (swish).

    Computes: x * sigmoid(x)
    VJP: g * (s * (1 + x * (1 - s))), s = sigmoid(x) (tf.nn.silu's custom gradient)
    Keras: keras.activations.silu / swish (tf.nn.silu).
    """
    return x * sigmoid(x)


def _silu_vjp(g: Array, ans: Array, x: Array) -> Array:
    s = sigmoid(x)
    return g * (s * (1.0 + x * (1.0 - s)))


defvjp(silu, _silu_vjp)


def squareplus(x: Array, b: float = 4) -> Array:
    """Squareplus.

    Computes: (x + sqrt(x**2 + b)) / 2
    Keras: keras.activations.squareplus.
    """
    return (x + np.sqrt(np.square(x) + float(b))) / 2.0


def gelu(x: Array, approximate: bool = False) -> Array:
    """Gaussian error linear unit; exact by default (unlike keras.ops.gelu).

    Computes: 0.5 x erfc(-x / sqrt(2)); approximate: 0.5 x (1 + tanh(c (x + 0.044715 x**3)))
    Keras: keras.activations.gelu (tf.nn.gelu, which casts 0.044715 and 1/sqrt(2) through float32:
        float64 inputs see the float32-rounded constants; c = sqrt(2/pi) stays exact).
    """
    if approximate:
        inner = 0.7978845608028654 * (x + _f32(0.044715) * np.power(x, 3))
        return 0.5 * x * (1.0 + np.tanh(inner))
    return 0.5 * x * _keep_float16(erfc(-x * _f32(0.7071067811865476)), x)


def celu(x: Array, alpha: float = 1.0) -> Array:
    """Continuously differentiable exponential linear unit.

    Computes: max(x, 0) + alpha * expm1(min(x, 0) / alpha)
    Keras: keras.activations.celu (tf.maximum / tf.minimum: both ties at 0 pass, gradient 2 there;
        tf.math.expm1, whose registered gradient is g * exp(x): not 0 where expm1 rounds to -1).
    """
    alpha = float(alpha)
    return np.maximum(x, 0.0) + alpha * _expm1(np.minimum(x, 0.0) / alpha)


@primitive
def _expm1(x: Array) -> Array:
    return np.expm1(x)


defvjp(_expm1, lambda g, ans, x: g * np.exp(x))  # TF's _Expm1Grad (math_grad.py)


def glu(x: Array, axis: int = -1) -> Array:
    """Gated linear unit.

    Computes: a * sigmoid(b), where a, b = split(x, 2, axis)
    Keras: keras.activations.glu (ValueError if x.shape[axis] is odd).
    """
    if x.shape[axis] % 2 != 0:
        raise ValueError(
            f"axis size must be divisible by 2. Received: x.shape={tuple(x.shape)} with axis={axis}"
        )
    a, b = np.split(x, 2, axis=axis)
    return a * sigmoid(b)


@primitive
def tanh(x: Array) -> Array:
    """Hyperbolic tangent.

    Computes: tanh(x)
    VJP: g * (1 - y * y) (TanhGrad, from the output)
    Keras: keras.activations.tanh (tf.nn.tanh).
    Differences: TF's float32 kernel is a rational approximation (<= 5 ulp from libm).
    """
    return np.tanh(x)


defvjp(tanh, lambda g, ans, x: g * (1.0 - ans * ans))


def tanh_shrink(x: Array) -> Array:
    """Tanh shrink.

    Computes: x - tanh(x)
    Keras: keras.activations.tanh_shrink.
    """
    return x - np.tanh(x)


def hard_tanh(x: Array) -> Array:
    """Hard tanh.

    Computes: max(min(x, 1), -1), gradient 1 at x = +-1 and 0 at NaN
    Keras: keras.activations.hard_tanh (tf.clip_by_value, which TF builds from minimum and
        maximum: ties pass the gradient, NaN sends it to the constant bound).
    """
    return np.maximum(np.minimum(x, 1.0), -1.0)


def hard_shrink(x: Array, threshold: float = 0.5) -> Array:
    """Hard shrinkage.

    Computes: where(|x| > threshold, x, 0)
    Keras: keras.activations.hard_shrink.
    """
    return np.where(np.abs(x) > float(threshold), x, 0.0)


def threshold(x: Array, threshold: float, default_value: float) -> Array:
    """Threshold: keeps x above `threshold`, else `default_value`.

    Computes: where(x > threshold, x, default_value)
    Keras: keras.activations.threshold (both arguments required).
    """
    return np.where(x > float(threshold), x, float(default_value))


@primitive
def sigmoid(x: Array) -> Array:
    """Logistic sigmoid.

    Computes: 1 / (1 + exp(-x))
    VJP: g * y * (1 - y) (SigmoidGrad, from the output)
    Keras: keras.activations.sigmoid (tf.nn.sigmoid).
    Differences: TF's float32 kernel is a rational approximation (<= 6 ulp), flushes denormals
        and attaches `_keras_logits`; the reference returns a plain array.
    """
    return _keep_float16(expit(x), x)


defvjp(sigmoid, lambda g, ans, x: g * ans * (1.0 - ans))


def sparse_sigmoid(x: Array) -> Array:
    """Sparse sigmoid.

    Computes: where(x <= -1, 0, where(x >= 1, 1, (x + 1) / 2))
    Keras: keras.activations.sparse_sigmoid (gradient 0 at +-1).
    """
    return np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1.0)))


def exponential(x: Array) -> Array:
    """Exponential.

    Computes: exp(x)
    Keras: keras.activations.exponential.
    """
    return np.exp(x)


def hard_sigmoid(x: Array) -> Array:
    """Hard sigmoid (Keras 3: breakpoints +-3; Keras 2 used 0.2 * x + 0.5, breakpoints +-2.5).

    Computes: relu6(x + 3) / 6, gradient 1/6 on (-3, 3) and 0 at +-3
    Keras: keras.activations.hard_sigmoid.
    """
    return relu6(x + 3.0) / 6.0


def log_sigmoid(x: Array) -> Array:
    """Logarithm of the sigmoid.

    Computes: -softplus(-x), with TF's thresholded softplus
    Keras: keras.activations.log_sigmoid (tf.math.log_sigmoid).
    Differences: as softplus, beyond the thresholds.
    """
    return -softplus(-x)


def hard_silu(x: Array) -> Array:
    """Hard SiLU (hard swish).

    Computes: x * hard_sigmoid(x), gradient 0 at -3 and 1 at 3
    Keras: keras.activations.hard_silu / hard_swish.
    """
    return x * hard_sigmoid(x)


def linear(x: Array) -> Array:
    """Identity.

    Computes: x
    Keras: keras.activations.linear (and activations.get(None)).
    """
    return x


def mish(x: Array) -> Array:
    """Mish.

    Computes: x * tanh(softplus(x))
    Keras: keras.activations.mish.
    Differences: softplus's gradient beyond its thresholds (see softplus).
    """
    return x * np.tanh(softplus(x))


def sparsemax(x: Array, axis: int = -1) -> Array:
    """Sparsemax as Keras 3.15.1 computes it (every backend).

    Computes: max(x - tau, 0), tau = (sum of the cumulative sums of the sorted-descending x over
        the support - 1) / k, with support z_i - (cumsum_i - 1) / i > 0 and k its size.
    Keras: keras.activations.sparsemax.
    Differences: none from Keras. Keras's tau departs from the published sparsemax
        (Martins & Astudillo 2016: tau = (cumsum_k - 1) / k) whenever k > 1, e.g. it maps
        [0.5, 0.4, 0.3] to zeros; the reference reproduces Keras, as ports must agree with it.
    """
    z = -np.sort(-x, axis=axis)  # descending
    cumsum = np.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    r = np.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = z - (cumsum - 1.0) / r > 0
    k = np.sum(support, axis=axis, keepdims=True).astype(x.dtype)
    tau = (np.sum(np.where(support, cumsum, 0.0), axis=axis, keepdims=True) - 1.0) / k
    return np.maximum(x - tau, 0.0)


swish = silu
hard_swish = hard_silu

# Keras's ALL_OBJECTS_DICT: canonical names, plus the aliases "swish" and "hard_swish".
_BUILTINS: dict[str, Callable[..., Array]] = {
    fn.__name__: fn
    for fn in (relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus,
               soft_shrink, sparse_plus, silu, gelu, glu, tanh, tanh_shrink, threshold, sigmoid,
               sparse_sigmoid, exponential, hard_sigmoid, hard_silu, hard_tanh, hard_shrink,
               linear, mish, log_softmax, log_sigmoid, sparsemax)
}  # fmt: skip
_ALIASES = {"swish": silu, "hard_swish": hard_silu}
_BY_NAME = {**_BUILTINS, **_ALIASES}


def _names() -> str:
    return ", ".join(sorted(_BY_NAME))


def serialize(activation: Callable[..., Array]) -> str | dict[str, str]:
    """The config of an activation: a built-in's name (aliases give the canonical one: "silu").

    Keras: keras.activations.serialize; another named Python function gives Keras's dict
        {"module": "builtins", "class_name": "function", "config": name, "registered_name":
        "function"}, which deserialize resolves through custom_objects.
    Differences: lambdas and other callables raise ValueError (Keras pickles lambdas' bytecode).
    """
    from .saving import registry  # the one object registry: registered functions

    name = getattr(activation, "__name__", None)
    if _BUILTINS.get(name) is activation:
        return name
    registered = registry.registered_name(activation)
    if registered is not None:  # Keras writes a registered function's "package>name" here
        return {"module": "builtins", "class_name": "function", "config": registered,
                "registered_name": "function"}  # fmt: skip
    if isinstance(activation, types.FunctionType) and name != "<lambda>":
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": "function"}  # fmt: skip
    raise ValueError(
        f"Unknown activation function '{activation}' cannot be serialized: use a built-in "
        f"activation or a named function. Built-in names: {_names()}"
    )


def deserialize(
    config: str | dict[str, Any], custom_objects: dict[str, Callable[..., Array]] | None = None
) -> Callable[..., Array]:
    """The activation named by `config`: a name, or a dict whose "config" entry is one.

    Keras: keras.activations.deserialize.
    Differences: aliases ("swish", "hard_swish") are accepted and unknown names raise ValueError;
        Keras 3.15.1 raises ValueError for the aliases and AttributeError for unknown names.
    """
    from .saving import registry

    name = config.get("config") if isinstance(config, dict) else config
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if registry.registered_object(name) is not None:  # reference.saving.register_serializable
        return registry.registered_object(name)
    if isinstance(name, str) and name in _BY_NAME:
        return _BY_NAME[name]
    raise ValueError(f"Could not deserialize activation: {config!r}. Expected one of: {_names()}")


def get(identifier: str | dict[str, Any] | Callable[..., Array] | None) -> Callable[..., Array]:
    """An activation from a name, a config dict, a callable (returned as is) or None (linear).

    Keras: keras.activations.get.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        obj = _BY_NAME.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier}. "
        f"Expected None, a callable or one of: {_names()}"
    )


__all__ = [*_BY_NAME, "serialize", "deserialize", "get"]
