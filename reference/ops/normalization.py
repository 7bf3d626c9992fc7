"""Normalization kernels: moments, the batch-norm affine map, and their backward passes.

Shared by BatchNormalization (and the other normalization layers as they come). Every function
is plain NumPy on arrays that broadcast per feature: `mean`, `var`, `gamma`, `beta` have the
input's rank with size 1 on the reduced axes.
"""

from __future__ import annotations

import numpy as np


def moments(x, axes: tuple):
    """Computes: mean = E[x], var = E[(x - mean)^2] over `axes` (biased, as Keras), keepdims."""
    mean = np.mean(x, axis=axes, keepdims=True)
    return mean, np.mean(np.square(x - mean), axis=axes, keepdims=True)


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
    dgamma = np.sum(dy * x_hat, axis=axes, keepdims=True)
    scale = rstd if gamma is None else rstd * gamma
    return scale / n * (n * dy - dbeta - x_hat * dgamma), dgamma, dbeta


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
