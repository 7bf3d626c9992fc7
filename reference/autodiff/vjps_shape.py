"""VJP rules of shape changes and selections: reshape, transpose, indexing, gathers, pad.

Every selection is either basic indexing or a gather built on `x[index]`, whose rule is the
`scatter_add` primitive (vjps.py), whose rule is `x[index]` again: so sort, take,
take_along_axis, partition, repeat, roll and friends are composites (no rule of their own) and
are higher-order ready. Sort-like ties route each output to one input, in stable order.
"""

from __future__ import annotations

import numpy as np

from .tracked import COMPOSITES, _astype, _getitem
from .vjps import defvjp, defvjp_sequence, primitive, scatter_add


def _reshape_order(order, x):
    if order not in ("C", "F"):
        raise NotImplementedError(
            f"numpy.reshape/ravel with order={order!r}: the gradient needs the memory layout. "
            "Pass order='C' or order='F'."
        )
    return order


def _reshape_vjp(g, ans, x, *args, order="C", **kwargs):
    if len(args) > 1:  # np.reshape(a, shape, order) positionally
        order = args[1]
    return np.reshape(g, x.shape, order=_reshape_order(order, x))


def _ravel_vjp(g, ans, x, order="C"):
    return np.reshape(g, x.shape, order=_reshape_order(order, x))


def _to_shape(g, ans, x, *args, **kwargs):
    return np.reshape(g, x.shape)


def _getitem_vjp(g, ans, x, index):
    return scatter_add(x.shape, index, g)


def _concatenate_vjp(j, g, ans, arrays, axis=0, **kwargs):
    if axis is None:
        start = sum(np.size(a) for a in arrays[:j])
        return np.reshape(g[start : start + np.size(arrays[j])], np.shape(arrays[j]))
    axis = axis % np.ndim(g)
    start = sum(np.shape(a)[axis] for a in arrays[:j])
    return g[(slice(None),) * axis + (slice(start, start + np.shape(arrays[j])[axis]),)]


def _stack_vjp(j, g, ans, arrays, axis=0, **kwargs):
    return g[(slice(None),) * (axis % np.ndim(g)) + (j,)]


def _clip_vjp(i, g, ans, a, *args, **kwargs):
    names = ("a_min", "a_max")
    bounds = dict(zip(names, args, strict=False))
    lo = kwargs.get("min", kwargs.get("a_min", bounds.get("a_min")))
    hi = kwargs.get("max", kwargs.get("a_max", bounds.get("a_max")))
    below = a < lo if lo is not None else False
    above = a > hi if hi is not None else False
    if i == 0:  # inclusive bounds pass the gradient, as tf.clip_by_value
        return np.where(below | above, 0.0, g)
    return np.where(below if i == 1 else above, g, 0.0)


defvjp(np.reshape, _reshape_vjp)
defvjp(np.ravel, _ravel_vjp)
for _f in (np.squeeze, np.expand_dims):
    defvjp(_f, _to_shape)
defvjp(np.copy, lambda g, ans, x, *a, **k: g)
defvjp(np.broadcast_to, lambda g, ans, x, *a, **k: g)  # the tape sums broadcast axes
defvjp(
    np.transpose,
    lambda g, ans, x, axes=None: np.transpose(
        g, None if axes is None else np.argsort([a % x.ndim for a in axes])
    ),
)
defvjp(np.swapaxes, lambda g, ans, x, axis1, axis2: np.swapaxes(g, axis1, axis2))
defvjp(np.moveaxis, lambda g, ans, x, source, destination: np.moveaxis(g, destination, source))
defvjp(np.flip, lambda g, ans, x, axis=None: np.flip(g, axis))
defvjp(np.where, None, lambda g, ans, c, x, y: np.where(c, g, 0.0),
       lambda g, ans, c, x, y: np.where(c, 0.0, g))  # fmt: skip
defvjp(np.clip, lambda g, ans, *a, **k: _clip_vjp(0, g, ans, *a, **k),
       lambda g, ans, *a, **k: _clip_vjp(1, g, ans, *a, **k),
       lambda g, ans, *a, **k: _clip_vjp(2, g, ans, *a, **k))  # fmt: skip
defvjp_sequence(np.concatenate, _concatenate_vjp)
defvjp_sequence(np.stack, _stack_vjp)
defvjp(_getitem, _getitem_vjp)
defvjp(_astype, lambda g, ans, x, dtype: g)  # the tape casts the gradient back to x's dtype


# -- pad: linear modes are one node (exact forward by np.pad), statistic modes are composites --
_LINEAR_PADS = ("constant", "empty", "edge", "wrap", "reflect", "symmetric", "linear_ramp")
_STAT_PADS = {"maximum": np.max, "minimum": np.min, "mean": np.mean, "median": np.median}


def _pad_widths(x, pad_width) -> list[tuple[int, int]]:
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (np.ndim(x), 2))
    return [(int(b), int(a)) for b, a in widths]


def _pad_matrix(n: int, before: int, after: int, mode: str, kwargs: dict) -> np.ndarray:
    """The (before + n + after, n) matrix of padding one axis: np.pad of the identity, with any
    constant (constant_values, end_values) set to 0, so that it is the linear part of the map."""
    kw = {k: v for k, v in kwargs.items() if k == "reflect_type"}
    if mode in ("constant", "empty"):
        mode = "constant"
    return np.pad(np.eye(n), ((before, after), (0, 0)), mode=mode, **kw)


def _pad_linear(x, widths, mode, kwargs):
    return np.pad(x, widths, mode=mode, **kwargs)


def _pad_linear_vjp(g, ans, x, widths, mode, kwargs):
    # np.pad pads axis 0, then axis 1 of the result, ...: undo them in reverse order, each the
    # transpose of its one-axis matrix.
    for axis in reversed(range(x.ndim)):
        before, after = widths[axis]
        if before or after:
            m = _pad_matrix(x.shape[axis], before, after, mode, kwargs)
            g = np.moveaxis(np.tensordot(g, m, axes=([axis], [0])), -1, axis)
    return g


pad_linear = primitive(_pad_linear)
defvjp(pad_linear, _pad_linear_vjp)


def _pad(array, pad_width, mode="constant", **kwargs):
    widths = _pad_widths(array, pad_width)
    if mode in _LINEAR_PADS:
        return pad_linear(array, tuple(widths), mode, kwargs)
    if mode not in _STAT_PADS:
        raise NotImplementedError(
            f"numpy.pad: mode={mode!r} has no gradient here; use one of "
            f"{sorted(_LINEAR_PADS + tuple(_STAT_PADS))}."
        )
    stat = _STAT_PADS[mode]
    lengths = kwargs.get("stat_length")
    lengths = _pad_widths(array, lengths) if lengths is not None else None
    for axis, (before, after) in enumerate(widths):
        n = array.shape[axis]
        lb, la = lengths[axis] if lengths is not None else (n, n)
        lead = (slice(None),) * axis
        parts = []
        if before:
            s = stat(array[(*lead, slice(0, min(lb, n)))], axis=axis, keepdims=True)
            parts.append(np.repeat(s, before, axis=axis))
        parts.append(array)
        if after:
            s = stat(array[(*lead, slice(n - min(la, n), n))], axis=axis, keepdims=True)
            parts.append(np.repeat(s, after, axis=axis))
        array = np.concatenate(parts, axis=axis) if len(parts) > 1 else array
    return array


# -- gathers: compositions of x[index], so their gradient is the scatter above ---------------
def _take(a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        a, axis = np.ravel(a), 0
    axis = axis % a.ndim
    n = a.shape[axis]
    idx = np.asarray(indices)
    if mode == "clip":  # NumPy: too large -> last, negative -> first
        idx = np.clip(idx, 0, n - 1)
    elif mode == "wrap":
        idx = np.mod(idx, n)
    return a[(slice(None),) * axis + (idx,)]


def _take_along_axis(arr, indices, axis=-1):
    if axis is None:
        arr, axis = np.ravel(arr), 0
    axis = axis % arr.ndim
    index = []
    for d, n in enumerate(arr.shape):
        shape = [1] * arr.ndim
        shape[d] = n
        index.append(indices if d == axis else np.arange(n).reshape(shape))
    return arr[tuple(index)]


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if axis is None:
        a, axis = np.ravel(a), -1
    return np.take_along_axis(a, np.argsort(a, axis=axis, kind="stable"), axis=axis)


def _partition(a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        a, axis = np.ravel(a), -1
    return np.take_along_axis(a, np.argpartition(a, kth, axis=axis), axis=axis)


def _repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = np.ravel(a), 0
    return np.take(a, np.repeat(np.arange(a.shape[axis]), repeats), axis=axis)


def _roll(a, shift, axis=None):
    if axis is None:
        return np.reshape(_roll(np.ravel(a), shift, 0), a.shape)
    shifts = np.broadcast_to(shift, np.shape(axis)) if np.ndim(axis) else [shift]
    for s, ax in zip(shifts, np.atleast_1d(axis), strict=True):
        n = a.shape[ax]
        a = np.take(a, np.mod(np.arange(n) - int(s), n), axis=int(ax))
    return a


def _diagonal(a, offset=0, axis1=0, axis2=1):
    b = np.moveaxis(a, (axis1, axis2), (-2, -1))
    n, m = b.shape[-2:]
    k = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    rows = np.arange(k) + max(0, -offset)
    return b[..., rows, rows + offset]


def _diag(v, k=0):
    if np.ndim(v) == 2:
        return _diagonal(v, k)
    n = np.shape(v)[0] + abs(k)
    rows = np.arange(np.shape(v)[0]) + max(0, -k)
    return scatter_add((n, n), (rows, rows + k), v)


def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    s = np.sort(np.ravel(a) if axis is None else a, axis=-1 if axis is None else axis)
    ax = -1 if axis is None else axis
    n = s.shape[ax]
    mid = np.take(s, [(n - 1) // 2, n // 2] if n % 2 == 0 else [n // 2], axis=ax)
    out = np.mean(mid, axis=ax, keepdims=keepdims)
    return np.reshape(out, (1,) * np.ndim(a)) if axis is None and keepdims else out


COMPOSITES.update(
    {np.pad: _pad, np.take: _take, np.take_along_axis: _take_along_axis,
     np.sort: _sort, np.partition: _partition,
     np.repeat: _repeat, np.roll: _roll, np.diagonal: _diagonal, np.diag: _diag,
     np.median: _median}
)  # fmt: skip
