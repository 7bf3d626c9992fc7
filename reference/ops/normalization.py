"""Normalization kernels: moments, the batch-norm affine map, and their backward passes.

Shared by BatchNormalization (and the other normalization layers as they come). Every function
is plain NumPy on arrays that broadcast per feature: `mean`, `var`, `gamma`, `beta` have the
input's rank with size 1 on the reduced axes.
"""

from __future__ import annotations

import numpy as np


def moments(x, axes: tuple):
    """Computes: mean = E[x], var = E[(x - mean)^2] over `axes` (biased, as Keras), keepdims."""
    mean, var, _ = centered_moments(x, axes)
    return mean, var


def centered_moments(x, axes: tuple):
    """moments(x, axes) and the centred input x - mean they were computed from (a backward
    pass reuses it instead of subtracting again)."""
    mean = np.mean(x, axis=axes, keepdims=True)
    xc = x - mean
    n = np.size(x) // np.size(mean)
    return mean, sum_product(xc, xc, axes) / n, xc


def sum_product(a, b, axes: tuple):
    """Computes: sum(a * b) over `axes`, keepdims, in one pass (no a * b temporary)."""
    letters = "abcdefghijklmnopqrstuvwxyz"[: np.ndim(a)]
    kept = "".join(c for i, c in enumerate(letters) if i not in axes)
    out = np.einsum(f"{letters},{letters}->{kept}", a, b)
    return np.expand_dims(out, tuple(axes))


def batch_norm(x, mean, var, gamma, beta, epsilon: float):
    """Computes: y = x * inv + (beta - mean * inv), inv = gamma / sqrt(var + epsilon).

    TF's order of operations (tf.nn.batch_normalization), so float32 rounding matches it;
    gamma and beta may be None (scale=False, center=False).
    """
    inv = 1.0 / np.sqrt(var + epsilon)
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv if beta is None else beta - mean * inv
    return x * inv + shift


def batch_norm_grad_batch_stats(dy, x_hat, rstd, gamma, axes: tuple):
    """Backward of batch_norm(x, *moments(x)): mean and var depend on x.

    VJP: with N reduced elements, dbeta = sum(dy), dgamma = sum(dy * x_hat),
    dx = gamma * rstd / N * (N * dy - dbeta - x_hat * dgamma).
    Returns (dx, dgamma, dbeta), the last two with keepdims.
    """
    n = dy.size // rstd.size
    dbeta = np.sum(dy, axis=axes, keepdims=True)
    dgamma = sum_product(dy, x_hat, axes)
    scale = rstd if gamma is None else rstd * gamma
    # scale / n * (n dy - dbeta - x_hat dgamma), distributed: per-feature factors first, so
    # the full-size work is one product, one subtraction and one fused multiply-subtract.
    dx = dy * scale
    dx -= scale * dbeta / n
    dx -= x_hat * (scale * dgamma / n)
    return dx, dgamma, dbeta


def batch_norm_grad_fixed_stats(dy, x, mean, rstd, gamma, axes: tuple):
    """Backward of batch_norm(x, mean, var, ...) with mean and var as separate inputs.

    VJP: dx = dy * gamma * rstd;  dgamma = sum(dy * (x - mean)) * rstd;  dbeta = sum(dy);
    dmean = -dbeta * gamma * rstd;  dvar = -0.5 * dgamma_raw * gamma * rstd^3, where
    dgamma_raw = sum(dy * (x - mean)).
    Returns (dx, dgamma, dbeta, dmean, dvar), all but dx with keepdims.
    """
    scale = rstd if gamma is None else rstd * gamma
    dbeta = np.sum(dy, axis=axes, keepdims=True)
    centred = np.sum(dy * (x - mean), axis=axes, keepdims=True)
    return dy * scale, centred * rstd, dbeta, -dbeta * scale, -0.5 * centred * scale * rstd * rstd


def norm_grad(dy, x_hat, rstd, gamma, stat_axes: tuple, param_axes: tuple):
    """Backward of y = x_hat * gamma + beta, x_hat = (x - mean(x)) * rstd, with mean and the
    biased var taken over `stat_axes` (LayerNormalization, GroupNormalization).

    VJP: g = dy * gamma;  dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat)) (means over
    stat_axes);  dgamma = sum(dy * x_hat), dbeta = sum(dy) over every axis not in param_axes.
    Returns (dx, dgamma, dbeta), the last two with keepdims.
    """
    other = tuple(i for i in range(dy.ndim) if i not in param_axes)
    g = dy if gamma is None else dy * gamma
    mean_g = np.mean(g, axis=stat_axes, keepdims=True)
    mean_gx = np.mean(g * x_hat, axis=stat_axes, keepdims=True)
    dx = rstd * (g - mean_g - x_hat * mean_gx)
    return dx, np.sum(dy * x_hat, axis=other, keepdims=True), np.sum(dy, axis=other, keepdims=True)


def scale_norm(x, r, gamma):
    """Computes: y = x * r * gamma (r an inverse root statistic; gamma may be None)."""
    y = x * r
    return y if gamma is None else y * gamma


def scale_norm_grad(dy, x, r, gamma, centre, stat_axes: tuple, param_axes: tuple):
    """Backward of y = x * r * gamma, r = (mean((x - centre)^2) + eps)^(-1/2) over stat_axes.

    `centre` is mean(x) (LayerNormalization's rms_scaling, which uses the variance) or 0
    (RMSNormalization, the mean square).
    VJP: g = dy * gamma;  dx = r * (g - (x - centre) * r^2 * mean(g * x));
    dgamma = sum(dy * x * r) over every axis not in param_axes.
    Returns (dx, dgamma) with dgamma keepdims. (The centre's own gradient vanishes: the
    derivative of mean((x - m)^2) with respect to m is zero at m = mean(x).)
    """
    other = tuple(i for i in range(dy.ndim) if i not in param_axes)
    g = dy if gamma is None else dy * gamma
    mean_gx = np.mean(g * x, axis=stat_axes, keepdims=True)
    dx = r * (g - (x - centre) * (r * r) * mean_gx)
    return dx, np.sum(dy * x * r, axis=other, keepdims=True)


def masked_moments(x, mask, axes: tuple, epsilon: float = 1e-7):
    """Computes: w = mask broadcast on x's last axis; mean = sum(w x) / (sum(w) + epsilon);
    var = sum(w (x - mean)^2) / (sum(w) + epsilon), over `axes`, keepdims (Keras's masked
    BatchNormalization moments, epsilon = keras.config.epsilon(); a fully masked feature gets
    mean 0 and var 0)."""
    w = np.broadcast_to(np.expand_dims(np.asarray(mask, bool), -1), np.shape(x))
    zero = np.zeros((), x.dtype)
    count = np.sum(w.astype(x.dtype), axis=axes, keepdims=True)
    mean = np.sum(np.where(w, x, zero), axis=axes, keepdims=True) / (count + epsilon)
    var = np.sum(np.square(np.where(w, x - mean, zero)), axis=axes, keepdims=True)
    return mean, var / (count + epsilon)


def synchronized_moments(x, axes: tuple):
    """Computes: mean = sum(x) / N; var = max(sum(x^2) / N - mean^2, 0) over `axes`, keepdims
    (Keras's cross-replica moments, which TF runs even on one device: E[x^2] - E[x]^2, which
    cancels for inputs of large mean, unlike `moments`)."""
    n = np.asarray(np.prod([np.shape(x)[a] for a in axes]), x.dtype)  # elements per feature
    mean = np.sum(x, axis=axes, keepdims=True) / n
    return mean, np.maximum(np.sum(np.square(x), axis=axes, keepdims=True) / n - np.square(mean), 0)
