"""Composites: NumPy functions written as compositions of recorded NumPy calls.

They need no VJP rule of their own (the rules of the calls they make apply), and so are exact
and higher-order ready for free. Each one mirrors NumPy's own implementation closely enough
that its forward values are NumPy's (the tests compare them). Functions that return a tuple or
list (split, meshgrid, divmod, gradient, ...) return one tracked value per float output.
"""

from __future__ import annotations

import operator

import numpy as np

from .tracked import COMPOSITES


# -- atleast_*, stacking and splitting -----------------------------------------------------
def _atleast_one(a, n: int):
    shape = np.shape(a)
    if len(shape) >= n:
        return a
    new = {1: [(1,)], 2: [(1, 1), (1, *shape)], 3: [(1, 1, 1), (1, *shape, 1), (*shape, 1)]}
    return np.reshape(a, new[n][len(shape)])


def _atleast(n: int):
    def composite(*arys):
        res = [_atleast_one(a, n) for a in arys]
        return res[0] if len(res) == 1 else tuple(res)

    return composite


def _hstack(tup, *, dtype=None, casting="same_kind"):
    arrs = [np.atleast_1d(a) for a in tup]
    axis = 0 if arrs and np.ndim(arrs[0]) == 1 else 1
    return np.concatenate(arrs, axis=axis, dtype=dtype, casting=casting)


def _vstack(tup, *, dtype=None, casting="same_kind"):
    return np.concatenate([np.atleast_2d(a) for a in tup], axis=0, dtype=dtype, casting=casting)


def _dstack(tup):
    return np.concatenate([np.atleast_3d(a) for a in tup], axis=2)


def _column_stack(tup):
    cols = [np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a for a in tup]
    return np.concatenate(cols, axis=1)


def _append(arr, values, axis=None):
    if axis is None:
        arr, values, axis = np.ravel(arr), np.ravel(values), 0
    return np.concatenate((arr, values), axis=axis)


def _array_split(ary, indices_or_sections, axis=0):
    n = np.shape(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        bounds = np.cumsum([0] + extra * [each + 1] + (sections - extra) * [each]).tolist()
    else:
        bounds = [0, *list(indices_or_sections), n]
    lead = (slice(None),) * (axis % np.ndim(ary))
    return [ary[(*lead, slice(s, e))] for s, e in zip(bounds[:-1], bounds[1:], strict=True)]


def _split(ary, indices_or_sections, axis=0):
    if np.ndim(indices_or_sections) == 0 and np.shape(ary)[axis] % int(indices_or_sections):
        raise ValueError("array split does not result in an equal division")
    return _array_split(ary, indices_or_sections, axis)


def _split_along(axis_of, least: int, name: str):
    def composite(ary, indices_or_sections):
        if np.ndim(ary) < least:
            raise ValueError(f"{name} only works on arrays of {least} or more dimensions")
        return _split(ary, indices_or_sections, axis_of(np.ndim(ary)))

    return composite


def _unstack(x, /, *, axis=0):
    lead = (slice(None),) * (axis % np.ndim(x))
    return tuple(x[(*lead, i)] for i in range(np.shape(x)[axis]))


def _broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    return tuple(np.broadcast_to(a, shape) for a in args)


def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    ndim = len(xi)
    ones = (1,) * ndim
    shapes = [ones[:i] + (-1,) + ones[i + 1 :] for i in range(ndim)]
    if indexing == "xy" and ndim > 1:
        shapes[0], shapes[1] = (1, -1) + ones[2:], (-1, 1) + ones[2:]
    out = [np.reshape(x, s) for x, s in zip(xi, shapes, strict=True)]
    return tuple(out) if sparse else np.broadcast_arrays(*out)


def _tile(A, reps):
    reps = tuple(reps) if np.ndim(reps) else (int(reps),)
    d = max(np.ndim(A), len(reps))
    shape = (1,) * (d - np.ndim(A)) + np.shape(A)
    reps = (1,) * (d - len(reps)) + reps
    a = np.reshape(A, [v for s in shape for v in (1, s)])  # (1, s0, 1, s1, ...)
    a = np.broadcast_to(a, [v for r, s in zip(reps, shape, strict=True) for v in (r, s)])
    return np.reshape(a, [r * s for r, s in zip(reps, shape, strict=True)])


# -- flips, rotations, triangles, diagonals -------------------------------------------------
def _rot90(m, k=1, axes=(0, 1)):
    k, (a0, a1) = k % 4, axes
    if k == 0:
        return m[...]
    if k == 2:
        return np.flip(np.flip(m, a0), a1)
    perm = list(range(np.ndim(m)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    return np.transpose(np.flip(m, a1), perm) if k == 1 else np.flip(np.transpose(m, perm), a1)


def _tril(m, k=0):
    return np.where(np.tri(*np.shape(m)[-2:], k=k, dtype=bool), m, 0)


def _triu(m, k=0):
    return np.where(np.tri(*np.shape(m)[-2:], k=k - 1, dtype=bool), 0, m)


def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return np.sum(np.diagonal(a, offset, axis1, axis2), axis=-1)


# -- differences, selection, ranges --------------------------------------------------------
def _diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    axis = axis % max(np.ndim(a), 1)
    parts = [a]
    for where, extra in ((0, prepend), (1, append)):
        if extra is not np._NoValue:
            if np.ndim(extra) == 0:
                shape = list(np.shape(a))
                shape[axis] = 1
                extra = np.broadcast_to(extra, shape)
            parts.insert(0 if where == 0 else len(parts), extra)
    if len(parts) > 1:
        a = np.concatenate(parts, axis=axis)
    lead = (slice(None),) * axis
    for _ in range(n):
        a = a[(*lead, slice(1, None))] - a[(*lead, slice(None, -1))]
    return a


def _select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    shape = np.broadcast_shapes(*map(np.shape, condlist), *map(np.shape, choicelist))
    result = default
    for cond, choice in zip(condlist[::-1], choicelist[::-1], strict=True):
        result = np.where(cond, choice, result)  # the first true condition wins
    return np.broadcast_to(result, shape)


def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, **kwargs):
    num = operator.index(num)
    div = (num - 1) if endpoint else num
    dt = np.result_type(
        *(v.dtype if hasattr(v, "dtype") else np.asarray(v) for v in (start, stop)), 0.0
    )
    delta = np.subtract(stop, start)
    y = np.reshape(np.arange(0, num, dtype=dt), (-1,) + (1,) * np.ndim(delta))
    if div > 0:
        step = delta / div
        y = (y / div) * delta if np.any(step == 0) else y * step
    else:
        step, y = np.nan, y * delta
    y = y + start
    if endpoint and num > 1:
        y = np.concatenate([y[:-1], np.broadcast_to(stop, np.shape(y[-1:]))], axis=0)
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        y = (np.floor(y) if np.issubdtype(dtype, np.integer) else y).astype(dtype)
    return (y, step) if retstep else y


def _logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    y = _linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    if np.ndim(base) > 0:  # NumPy broadcasts an array base along the new axis
        base = np.expand_dims(base, axis)
    y = np.power(base, y)
    return y if dtype is None else y.astype(dtype)


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    if x is None:
        d = dx
    elif np.ndim(x) == 1:
        shape = [1] * np.ndim(y)
        shape[axis] = -1
        d = np.reshape(np.diff(x), shape)
    else:
        d = np.diff(x, axis=axis)
    lead = (slice(None),) * (axis % np.ndim(y))
    return np.sum(d * (y[(*lead, slice(1, None))] + y[(*lead, slice(None, -1))]) / 2.0, axis)


def _cumulative(scan, identity):
    def composite(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if axis is None:
            if np.ndim(x) > 1:
                raise ValueError("axis must be specified for multi-dimensional arrays.")
            axis = 0
        y = scan(x, axis=axis)
        if include_initial:
            shape = list(np.shape(y))
            shape[axis] = 1
            y = np.concatenate([np.full(shape, identity, dtype=y.dtype), y], axis=axis)
        return y

    return composite


def _rollaxis(a, axis, start=0):
    n = np.ndim(a)
    axis, start = axis % n, start + n if start < 0 else start
    if axis < start:
        start -= 1
    return a[...] if axis == start else np.moveaxis(a, axis, start)


def _divmod(x1, x2, *args, **kwargs):
    return np.floor_divide(x1, x2), np.remainder(x1, x2)


# -- np.gradient: NumPy's stencils, written with slices ---------------------------------------
def _spacings(f, varargs, axes):
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return list(varargs) * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    out = []
    for d in varargs:
        if np.ndim(d) == 0:
            out.append(d)
            continue
        d = np.diff(d)
        out.append(d[0] if bool(np.all(d == d[0])) else d)  # NumPy: uniform coordinates -> scalar
    return out


def _gradient(f, *varargs, axis=None, edge_order=1):
    axes = tuple(range(np.ndim(f))) if axis is None else tuple(np.atleast_1d(axis) % np.ndim(f))
    outs = []
    for ax, dx in zip(axes, _spacings(f, varargs, axes), strict=True):
        if np.shape(f)[ax] < edge_order + 1:
            raise ValueError(
                "Shape of array too small to calculate a numerical gradient, "
                "at least (edge_order + 1) elements are required."
            )
        lead = (slice(None),) * ax

        def at(s, lead=lead):
            return f[(*lead, s)]

        uniform = np.ndim(dx) == 0
        if uniform:
            inner = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * dx)
        else:
            shape = [1] * np.ndim(f)
            shape[ax] = -1
            dx1, dx2 = dx[0:-1], dx[1:]
            a = np.reshape(-(dx2) / (dx1 * (dx1 + dx2)), shape)
            b = np.reshape((dx2 - dx1) / (dx1 * dx2), shape)
            c = np.reshape(dx1 / (dx2 * (dx1 + dx2)), shape)
            inner = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
        first, last = _gradient_edges(at, dx, uniform, edge_order)
        outs.append(np.concatenate([first, inner, last], axis=ax))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _gradient_edges(at, dx, uniform, edge_order):
    def s(i):
        return at(slice(i, None if i == -1 else i + 1))

    if edge_order == 1:
        d0, dn = (dx, dx) if uniform else (dx[0], dx[-1])
        return (s(1) - s(0)) / d0, (s(-1) - s(-2)) / dn
    if uniform:
        a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
        a2, b2, c2 = 0.5 / dx, -2.0 / dx, 1.5 / dx
    else:
        dx1, dx2 = dx[0], dx[1]
        a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
        b = (dx1 + dx2) / (dx1 * dx2)
        c = -dx1 / (dx2 * (dx1 + dx2))
        dx1, dx2 = dx[-2], dx[-1]
        a2 = (dx2) / (dx1 * (dx1 + dx2))
        b2 = -(dx2 + dx1) / (dx1 * dx2)
        c2 = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
    return a * s(0) + b * s(1) + c * s(2), a2 * s(-3) + b2 * s(-2) + c2 * s(-1)


COMPOSITES.update(
    {np.atleast_1d: _atleast(1), np.atleast_2d: _atleast(2), np.atleast_3d: _atleast(3),
     np.hstack: _hstack, np.vstack: _vstack, np.dstack: _dstack, np.column_stack: _column_stack,
     np.append: _append, np.tile: _tile, np.split: _split, np.array_split: _array_split,
     np.hsplit: _split_along(lambda n: 1 if n > 1 else 0, 1, "hsplit"),
     np.vsplit: _split_along(lambda n: 0, 2, "vsplit"),
     np.dsplit: _split_along(lambda n: 2, 3, "dsplit"), np.unstack: _unstack,
     np.broadcast_arrays: _broadcast_arrays, np.meshgrid: _meshgrid,
     np.fliplr: lambda m: np.flip(m, 1), np.flipud: lambda m: np.flip(m, 0), np.rot90: _rot90,
     np.tril: _tril, np.triu: _triu, np.trace: _trace, np.diff: _diff, np.select: _select,
     np.linspace: _linspace, np.logspace: _logspace, np.trapezoid: _trapezoid,
     np.cumulative_sum: _cumulative(np.cumsum, 0), np.cumulative_prod: _cumulative(np.cumprod, 1),
     np.rollaxis: _rollaxis, np.divmod: _divmod, np.gradient: _gradient}
)  # fmt: skip
