"""VJP rules of reductions and scans: sum, mean, max/min, prod, cumsum, cumprod, var, std.

Every reduction honours `where=` (masked-out entries get no gradient) and `initial=` (a constant
taking part in the reduction). Ties of max/min share the gradient evenly, as tf.reduce_max.
"""

from __future__ import annotations

import numpy as np

from .tracked import COMPOSITES
from .vjps import axes_of, count, defvjp, expand


def _masked(grad, where):
    return grad if where is True else np.where(where, grad, 0.0)


def _sum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return _masked(np.broadcast_to(expand(g, x, axis, keepdims), x.shape), where)


def _mean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    if where is True:
        n = count(x, axis)
    else:  # the mean is over the selected entries only
        n = np.sum(np.broadcast_to(where, x.shape), axis=axes_of(x, axis), keepdims=True)
    return _masked(np.broadcast_to(expand(g, x, axis, keepdims), x.shape) / n, where)


def _extreme_vjp(g, ans, x, axis=None, out=None, keepdims=False, initial=None, where=True):
    # Ties share the gradient evenly, as tf.reduce_max does; where the reduction returned
    # `initial` (it beat every entry) no entry is selected and none gets a gradient.
    hit = _masked(x == expand(ans, x, axis, keepdims), where)
    n = np.sum(hit, axis=axes_of(x, axis), keepdims=True)
    return np.where(hit, expand(g, x, axis, keepdims) / np.maximum(n, 1), 0.0)


def _prod_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=1, where=True):
    # d prod / d x_i = initial * (product of the others), from exclusive cumulative products from
    # both ends (TF's ProdGrad): exact where some x_j are zero, unlike ans / x.
    if x.size == 0:
        return np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float32))
    axes = axes_of(x, axis)
    kept = [a for a in range(x.ndim) if a not in axes]
    perm = kept + list(axes)
    xt = np.transpose(_masked_ones(x, where), perm)
    lead = xt.shape[: len(kept)]
    flat = np.reshape(xt, (*lead, -1))
    ones = np.ones((*lead, 1), dtype=x.dtype)
    left = np.concatenate([ones, np.cumprod(flat[..., :-1], axis=-1)], axis=-1)
    right = np.concatenate([ones, np.cumprod(np.flip(flat, -1)[..., :-1], axis=-1)], axis=-1)
    others = np.transpose(np.reshape(left * np.flip(right, -1), xt.shape), np.argsort(perm))
    return _masked(expand(g, x, axis, keepdims) * initial * others, where)


def _masked_ones(x, where):
    return x if where is True else np.where(where, x, 1.0)


def _along_last(a, axis):
    """a with `axis` moved last (None flattens), and the function that undoes it."""
    if axis is None:
        return np.ravel(a), lambda t: np.reshape(t, a.shape)
    return np.moveaxis(a, axis, -1), lambda t: np.moveaxis(t, -1, axis)


def _cumsum_vjp(g, ans, a, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), a.shape)
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def _cumprod_vjp(g, ans, a, axis=None, dtype=None, out=None):
    # d ans_j / d a_i = product of a_k for k <= j, k != i (j >= i): one cumprod per i with a_i
    # replaced by 1: O(n^2) along the axis, used only when some a_i = 0. TF's CumprodGrad
    # divides by a (div_no_nan), which gives 0 wherever a_i = 0: wrong there, so not followed.
    al, back = _along_last(a, axis)
    gl = np.ravel(g) if axis is None else np.moveaxis(g, axis, -1)
    if not np.any(al == 0):  # no zeros: sum_{j >= i} g_j ans_j / a_i, O(n), exact here
        gy = gl * (np.ravel(ans) if axis is None else np.moveaxis(ans, axis, -1))
        return back(np.flip(np.cumsum(np.flip(gy, -1), axis=-1), -1) / al)
    n = al.shape[-1]
    eye = np.eye(n, dtype=bool)
    replaced = np.where(eye, 1.0, np.expand_dims(al, -2))  # [..., i, k]: a with a_i -> 1
    partial = np.cumprod(replaced, axis=-1)  # [..., i, j]
    upper = np.triu(np.ones((n, n), dtype=bool))  # j >= i
    return back(np.sum(np.where(upper, partial * np.expand_dims(gl, -2), 0.0), axis=-1))


defvjp(np.sum, _sum_vjp)
defvjp(np.mean, _mean_vjp)
for _f in {np.max, np.amax, np.min, np.amin}:
    defvjp(_f, _extreme_vjp)
defvjp(np.prod, _prod_vjp)
defvjp(np.cumsum, _cumsum_vjp)
defvjp(np.cumprod, _cumprod_vjp)


# -- composites: written with tracked NumPy calls above, so they need no rule of their own ----
def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    if kwargs.get("where", True) is not True or kwargs.get("mean") is not None:
        raise NotImplementedError("numpy.var: where= and mean= are not differentiable here.")
    centred = a - np.mean(a, axis=axis, keepdims=True)
    return np.sum(np.square(centred), axis=axis, keepdims=keepdims) / (count(a, axis) - ddof)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    return np.sqrt(_var(a, axis=axis, ddof=ddof, keepdims=keepdims, **kwargs))


def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if weights is None:
        avg, scl = np.mean(a, axis=axis, keepdims=keepdims), count(a, axis)
        scl = np.broadcast_to(np.asarray(scl, dtype=np.result_type(a.dtype, 1.0)), np.shape(avg))
    else:
        w = weights if np.ndim(weights) == np.ndim(a) else _along(weights, a, axis)
        scl = np.sum(np.broadcast_to(w, np.shape(a)), axis=axis, keepdims=keepdims)
        avg = np.sum(a * w, axis=axis, keepdims=keepdims) / scl
    return (avg, scl) if returned else avg


def _along(weights, a, axis):
    """1-D weights along `axis`, shaped to broadcast against a (as np.average does)."""
    shape = [1] * np.ndim(a)
    shape[axis % np.ndim(a)] = -1
    return np.reshape(weights, shape)


def _nan_safe(a, fill):
    return np.where(np.isnan(a), fill, a)


COMPOSITES.update(
    {np.var: _var, np.std: _std, np.average: _average,
     np.ptp: lambda a, axis=None, out=None, keepdims=False: np.max(a, axis=axis, keepdims=keepdims)
     - np.min(a, axis=axis, keepdims=keepdims),
     np.nansum: lambda a, axis=None, dtype=None, out=None, keepdims=False, **k: np.sum(
         _nan_safe(a, 0.0), axis=axis, keepdims=keepdims, **k),
     np.nanmean: lambda a, axis=None, dtype=None, out=None, keepdims=False, **k: np.sum(
         _nan_safe(a, 0.0), axis=axis, keepdims=keepdims) / np.sum(
         ~np.isnan(a), axis=axis, keepdims=keepdims),
     np.nanmax: lambda a, axis=None, out=None, keepdims=False, **k: np.max(
         _nan_safe(a, -np.inf), axis=axis, keepdims=keepdims, **k),
     np.nanmin: lambda a, axis=None, out=None, keepdims=False, **k: np.min(
         _nan_safe(a, np.inf), axis=axis, keepdims=keepdims, **k)}
)  # fmt: skip
