"""Losses, as keras.losses: per-sample functions, and classes that reduce them with sample weights.

Every function maps (y_true, y_pred) to one value per sample (the last axis reduced); the
classes apply `sample_weight` and a reduction exactly as Keras 3's `Loss.__call__`:
`values * sample_weight` (ranks matched by squeezing or expanding a size-1 last axis), then
"sum", "sum_over_batch_size"/"mean" (sum / number of elements), "mean_with_sample_weight"
(sum / sum(sample_weight)) or None/"none". Probabilities are clipped to
[epsilon, 1 - epsilon] with `reference.config.epsilon()` (1e-7), as Keras's TF backend does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations
from ..autodiff import defvjp, primitive
from ..autodiff.tracked import TrackedArray
from ..config import epsilon

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def _tensor(x: Any, dtype: Any = None):
    """A NumPy value (tracked values stay tracked), cast to `dtype` when one is given."""
    if not isinstance(x, TrackedArray):
        x = np.asarray(x)
    if dtype is not None and x.dtype != np.dtype(dtype):
        x = x.astype(dtype)
    return x


def _same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras's squeeze_or_expand_to_same_rank: fix a rank difference of one size-1 last axis."""
    r1, r2 = np.ndim(x1), np.ndim(x2)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = np.expand_dims(x2, -1)
        else:
            x1 = np.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = np.expand_dims(x1, -1)
        else:
            x2 = np.squeeze(x2, -1)
    return x1, x2


def _pair(y_true, y_pred, align: bool = True):
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, y_pred.dtype)
    return _same_rank(y_true, y_pred) if align else (y_true, y_pred)


def _check_same_shape(fn: str, y_true, y_pred) -> None:
    if np.shape(y_true) != np.shape(y_pred):
        raise ValueError(
            f"{fn}: arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={np.shape(y_true)}, output.shape={np.shape(y_pred)}"
        )


# -- regression --------------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """Computes: mean((y_true - y_pred)**2, axis=-1). Keras: keras.losses.mean_squared_error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Computes: mean(|y_true - y_pred|, axis=-1). Keras: keras.losses.mean_absolute_error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """Computes: 100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1).

    Keras: keras.losses.mean_absolute_percentage_error.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), epsilon()))
    return 100.0 * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Computes: mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1).

    Keras: keras.losses.mean_squared_logarithmic_error.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    first = np.log(np.maximum(y_pred, epsilon()) + 1.0)
    second = np.log(np.maximum(y_true, epsilon()) + 1.0)
    return np.mean(np.square(first - second), axis=-1)


def huber(y_true, y_pred, delta: float = 1.0):
    """Computes: mean(|e| <= d ? e**2 / 2 : d * |e| - d**2 / 2, axis=-1), e = y_pred - y_true.

    Keras: keras.losses.huber.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = np.abs(error)
    delta = np.asarray(delta, dtype=y_pred.dtype)
    quadratic = 0.5 * np.square(error)
    linear = delta * abs_error - 0.5 * np.square(delta)
    return np.mean(np.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """Computes: mean(x + softplus(-2x) - log(2), axis=-1), x = y_pred - y_true.

    Keras: keras.losses.log_cosh (softplus is TF's thresholded kernel).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    log2 = np.asarray(np.log(np.float32(2.0)), dtype=y_pred.dtype)  # Keras: ops.log(2.0), float32
    return np.mean(x + activations.softplus(x * -2.0) - log2, axis=-1)


def cosine_similarity(y_true, y_pred, axis: int = -1):
    """Computes: -sum(l2_normalize(y_true) * l2_normalize(y_pred), axis).

    l2_normalize(x) = x * min(1 / sqrt(sum(x**2, axis)), 1 / eps), as Keras's ops.normalize.
    Keras: keras.losses.cosine_similarity.
    """
    y_true, y_pred = _pair(y_true, y_pred)

    def normalize(x):
        inv = 1.0 / np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
        return x * np.minimum(inv, 1.0 / epsilon())

    return -np.sum(normalize(y_true) * normalize(y_pred), axis=axis)


# -- probabilistic -----------------------------------------------------------------------------
@primitive
def _softmax_xent(labels, logits):
    """TF's SoftmaxCrossEntropyWithLogits: sum(labels * (logsumexp(logits) - logits), -1)."""
    return -np.sum(labels * activations.log_softmax(logits), axis=-1)


# TF's kernel gradients: (softmax - labels) for the logits, -log_softmax for the labels.
defvjp(
    _softmax_xent,
    lambda g, ans, labels, logits: -np.expand_dims(g, -1) * activations.log_softmax(logits),
    lambda g, ans, labels, logits: np.expand_dims(g, -1) * (activations.softmax(logits) - labels),
)


def _sigmoid_xent(labels, logits):
    """TF's sigmoid_cross_entropy_with_logits: max(x, 0) - x * z + log1p(exp(-|x|))."""
    cond = logits >= 0
    relu_logits = np.where(cond, logits, 0.0)
    neg_abs_logits = np.where(cond, -logits, logits)
    return relu_logits - logits * labels + np.log1p(np.exp(neg_abs_logits))


def _bce_elementwise(y_true, y_pred, from_logits: bool):
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    if from_logits:
        return _sigmoid_xent(y_true, y_pred)
    eps = epsilon()
    y_pred = np.clip(y_pred, eps, 1.0 - eps)
    return -(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Computes: mean(-(y log(p) + (1 - y) log(1 - p)), axis), p = clip(y_pred, eps, 1 - eps).

    With label_smoothing s: y = y (1 - s) + s / 2. With from_logits: TF's
    sigmoid_cross_entropy_with_logits.
    Keras: keras.losses.binary_crossentropy.
    """
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return np.mean(_bce_elementwise(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Computes: mean(w * (1 - p_t)**gamma * bce, axis), p_t = y p + (1 - y)(1 - p).

    w = y alpha + (1 - y)(1 - alpha) with apply_class_balancing, else 1. With from_logits,
    p = sigmoid(logits) and bce is sigmoid_cross_entropy_with_logits(y, logits), unclipped.
    Keras: keras.losses.binary_focal_crossentropy. Keras calls ops.binary_crossentropy on
        sigmoid(logits) with from_logits=False, but TF's sigmoid output carries its logits
        (`_keras_logits`, keras-facts 8.3) and the TF backend's binary_crossentropy uses them;
        the clipped log of p would lose digits where p is near 0 or 1 (6.7e-5 relative in
        float32 against Keras's 1.3e-7).
    """
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = _bce_elementwise(y_true, y_pred, from_logits=True)
        y_pred = activations.sigmoid(y_pred)
    else:
        bce = _bce_elementwise(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = np.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return np.mean(focal, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Computes: -sum(y * log(clip(p / sum(p, axis), eps, 1 - eps)), axis).

    With label_smoothing s: y = y (1 - s) + s / num_classes. With from_logits: TF's
    softmax_cross_entropy_with_logits (its gradient is softmax - y).
    Keras: keras.losses.categorical_crossentropy.
    Differences: Keras inside `fit` (a tf.function) sees through a Softmax op and uses the
        logits path even with from_logits=False; the reference always takes the path asked for.
    """
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(
            f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    _check_same_shape("categorical_crossentropy", y_true, y_pred)
    if from_logits:
        if axis not in (-1, y_pred.ndim - 1):
            y_true, y_pred = np.moveaxis(y_true, axis, -1), np.moveaxis(y_pred, axis, -1)
        return _softmax_xent(y_true, y_pred)
    y_pred = y_pred / np.sum(y_pred, axis=axis, keepdims=True)
    y_pred = np.clip(y_pred, epsilon(), 1.0 - epsilon())
    return -np.sum(y_true * np.log(y_pred), axis=axis)


def _check_sparse_labels(labels: np.ndarray, num_classes: int, ignore_class) -> None:
    valid = labels if ignore_class is None else labels[labels != ignore_class]
    bad = valid[(valid < 0) | (valid >= num_classes) | (valid != np.floor(valid))]
    if bad.size:
        raise ValueError(
            "sparse_categorical_crossentropy: labels must be integers in [0, num_classes) = "
            f"[0, {num_classes}). Received: a label {bad.flat[0]!r} (labels of shape "
            f"{labels.shape}, y_pred with {num_classes} classes)."
        )


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Computes: -log_softmax(z)[y_true], z = logits, or z = log(clip(y_pred, eps, 1 - eps)).

    ignore_class: those labels give loss 0 (and a mask that the class form's reduction uses).
    Keras: keras.losses.sparse_categorical_crossentropy (TF's sparse softmax kernel: its
    gradient is softmax(z) - one_hot(y_true)).
    Differences: a label outside [0, num_classes) raises ValueError (TF raises at run time
        on CPU and returns NaN on GPU).
    """
    y_pred = _tensor(y_pred)
    labels = np.asarray(y_true.numpy() if isinstance(y_true, TrackedArray) else y_true)
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = np.squeeze(labels, -1)
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            "sparse_categorical_crossentropy: `y_true` must have the shape of `y_pred` without "
            f"its last axis. Received: y_true.shape={np.shape(y_true)}, "
            f"y_pred.shape={y_pred.shape}"
        )
    _check_sparse_labels(labels, y_pred.shape[-1], ignore_class)
    valid = None if ignore_class is None else labels != ignore_class
    if valid is not None:
        labels = np.where(valid, labels, 0)
        y_pred = np.where(valid[..., None], y_pred, 0.0)
    if not from_logits:
        y_pred = np.log(np.clip(y_pred, epsilon(), 1 - epsilon()))
    one_hot = np.eye(y_pred.shape[-1], dtype=y_pred.dtype)[labels.astype(np.int64)]
    res = _softmax_xent(one_hot, y_pred)
    return res if valid is None else np.where(valid, res, 0.0)


def kl_divergence(y_true, y_pred):
    """Computes: sum(t * log(t / p), axis=-1), t, p clipped to [eps, 1]. Keras: kl_divergence."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    y_true = np.clip(y_true, epsilon(), 1)
    y_pred = np.clip(y_pred, epsilon(), 1)
    return np.sum(y_true * np.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """Computes: mean(y_pred - y_true * log(y_pred + eps), axis=-1). Keras: keras.losses.poisson."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    return np.mean(y_pred - y_true * np.log(y_pred + epsilon()), axis=-1)


# -- hinge -------------------------------------------------------------------------------------
def _hinge_labels(y_true):
    """Keras's convert_binary_labels_to_hinge: labels all in {0, 1} become 2y - 1."""
    plain = y_true.numpy() if isinstance(y_true, TrackedArray) else y_true
    return 2.0 * y_true - 1.0 if np.all((plain == 0) | (plain == 1)) else y_true


def hinge(y_true, y_pred):
    """Computes: mean(max(1 - y_true * y_pred, 0), axis=-1), labels {0, 1} mapped to {-1, 1}.

    Keras: keras.losses.hinge.
    """
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    return np.mean(np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """Computes: mean(max(1 - y_true * y_pred, 0)**2, axis=-1). Keras: squared_hinge."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    return np.mean(np.square(np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """Computes: max(max((1 - y) * p, -1) - sum(y * p, -1) + 1, 0). Keras: categorical_hinge."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)
