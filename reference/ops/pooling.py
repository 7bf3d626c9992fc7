"""N-d max and average pooling over stride-trick windows, with their gradients (channels_last).

    max_pool(x)                  y[n, q, c] = max_k xpad[n, q * s + k, c]  (pads are -inf)
    max_pool_grad(x, dy)         dx: each window's dy goes to its first maximum (TF's rule)
    avg_pool(x)                  y[n, q, c] = sum_k xpad[n, q * s + k, c] / count(q)
    avg_pool_grad(dy, x_shape)   dx: dy / count(q) spread over window q

`count(q)` is the number of real (not padded) elements of window q, as TF divides with "same"
padding. Max-pool ties: TF's MaxPoolGrad gives the whole gradient of a window to the first
maximum in row-major window order; windows that overlap each route their own gradient, so the
amounts add up (keras-notes 7). TF's MaxPool3DGrad (CPU) differs: it gives the whole gradient
to *every* tied maximum of the window ([3, 3, 3], pool 2, stride 1 -> [1, 2, 1]), so the 3D
layers pass ties="all". Both are unlike a max reduction (GlobalMaxPooling, np.max), which splits
the gradient evenly among tied maxima.

Every window reduction runs over one strided view of the padded input per window tap
(`_tap_views`), elementwise: the max is a running np.maximum, the first maximum's index is
found by comparing each tap with the max (lowest tap last, so it wins), and the gradient is
one masked copy per tap (a masked add where windows overlap). No window is ever gathered into
a copy, so a 2x2/stride-2 pool reads its input four times and writes nothing else that size.

All four are tape primitives whose VJPs are made of each other and of `max_pool_select`, so they
are closed under differentiation. Padding arithmetic is reference.ops.conv.conv_pads (dilation 1).
"""

from __future__ import annotations

import numpy as np

from ..autodiff import defvjp, primitive
from .conv import _windows, conv_output_sizes


def _padded(x, pads, value):
    if not any(b or a for b, a in pads):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


def _window_view(x, pool_size, strides, pads, value):
    ones = (1,) * len(pool_size)
    out = conv_output_sizes(x.shape[1:-1], pool_size, strides, ones, pads)
    return _windows(_padded(x, pads, value), pool_size, strides, ones, out), out


def _taps(pool_size, strides, out):
    """(tap index, destination slices in the padded input) for every position of the window."""
    for tap in np.ndindex(*pool_size):
        yield (
            tap,
            tuple(
                slice(t, t + s * (q - 1) + 1, s) for t, s, q in zip(tap, strides, out, strict=True)
            ),
        )


def _tap_views(xp, pool_size, strides, out):
    """One strided view (N, *Q, C) of the padded input per window tap: view k at q is
    xp[n, q * s + k, c]. Window reductions become elementwise ops over these, no window copy."""
    return [xp[(slice(None), *dst)] for _, dst in _taps(pool_size, strides, out)]


def _max_over_taps(x, pool_size, strides, pads, with_arg: bool):
    """The window maxima, and with `with_arg` each window's first maximum (flat, row-major tap
    index), as np.argmax over the window would give it, NaN included (its first NaN)."""
    ones = (1,) * len(pool_size)
    out = conv_output_sizes(x.shape[1:-1], pool_size, strides, ones, pads)
    views = _tap_views(_padded(x, pads, -np.inf), pool_size, strides, out)
    y = views[0].copy()
    for v in views[1:]:
        np.maximum(y, v, out=y)  # propagates NaN, as np.max
    if not with_arg:
        return y, None
    arg = np.zeros(y.shape, np.uint8 if len(views) <= 256 else np.intp)
    nan = y.dtype.kind in "fc" and bool(np.isnan(y).any())
    found = None
    for i, v in enumerate(views):  # arithmetic on masks: NumPy's masked assignment is slow
        hit = v == y
        if nan:
            hit |= np.isnan(v)
        if found is None:
            found = hit
            continue
        np.add(arg, np.greater(hit, found) * arg.dtype.type(i), out=arg)  # hit, none before
        found |= hit
    return y, arg


def _masked(values, mask):
    """values where mask, +0 elsewhere, bit for bit (NaN, inf and -0.0 kept where selected,
    none leaking where not): the bits times the 0/1 mask, an integer product."""
    bits = np.dtype(f"u{values.dtype.itemsize}")
    return (values.view(bits) * mask).view(values.dtype)


@primitive
def max_pool(x, pool_size, strides, pads, ties="first"):
    """Max over each window; padded positions are -inf, so they never win.

    Computes: y[n, q, c] = max_k xpad[n, q * s + k, c].
    VJP: dx = max_pool_grad(x, dy, ties): each window's gradient to its first maximum
    (ties="first", TF's MaxPoolGrad) or to each of its maxima (ties="all", MaxPool3DGrad).
    """
    return _max_over_taps(x, pool_size, strides, pads, with_arg=False)[0]


def max_pool_with_argmax(x, pool_size, strides, pads):
    """`max_pool`, and each window's first-maximum index (the residual of its gradient)."""
    return _max_over_taps(x, pool_size, strides, pads, with_arg=True)


def max_pool_grad_from_argmax(arg, dy, x_shape, pool_size, strides, pads):
    """dy[q] added at the window tap arg[q] of window q: one masked strided add per tap."""
    sizes = x_shape[1:-1]
    padded = [n + b + a for n, (b, a) in zip(sizes, pads, strict=True)]
    dxp = np.zeros((x_shape[0], *padded, x_shape[-1]), dtype=dy.dtype)
    disjoint = all(s >= k for s, k in zip(strides, pool_size, strict=True))
    for i, (_, dst) in enumerate(_taps(pool_size, strides, dy.shape[1:-1])):
        at = (slice(None), *dst)
        if disjoint:  # windows do not overlap: each position gets at most one window's dy
            dxp[at] = _masked(dy, arg == i)
        else:
            dxp[at] += _masked(dy, arg == i)
    crop = tuple(slice(b, b + n) for n, (b, _) in zip(sizes, pads, strict=True))
    return dxp[(slice(None), *crop)]


def max_pool_grad_all_ties(x, y, dy, pool_size, strides, pads):
    """dy[q] added at every tap of window q whose value equals the window's maximum y[q]."""
    xp = _padded(x, pads, -np.inf)
    dxp = np.zeros(xp.shape, dtype=dy.dtype)
    for _, dst in _taps(pool_size, strides, dy.shape[1:-1]):
        at = (slice(None), *dst)
        dxp[at] += np.where(xp[at] == y, dy, 0)
    crop = tuple(slice(b, b + n) for n, (b, _) in zip(x.shape[1:-1], pads, strict=True))
    return dxp[(slice(None), *crop)]


@primitive
def max_pool_grad(x, dy, pool_size, strides, pads, ties="first"):
    """The input gradient of `max_pool`: dy routed to each window's first maximum (or to all of
    its maxima, ties="all"), summed over windows."""
    if ties == "all":
        y = max_pool(x, pool_size, strides, pads)
        return max_pool_grad_all_ties(x, y, dy, pool_size, strides, pads)
    _, arg = _max_over_taps(x, pool_size, strides, pads, with_arg=True)
    return max_pool_grad_from_argmax(arg, dy, x.shape, pool_size, strides, pads)


@primitive
def max_pool_select(x, v, pool_size, strides, pads, ties="first"):
    """v read at each window's first maximum of x (summed over all maxima, ties="all"): the VJP
    of `max_pool_grad` in dy."""
    if ties == "all":
        y = max_pool(x, pool_size, strides, pads)
        xp, vp = _padded(x, pads, -np.inf), _padded(v, pads, 0)
        total = np.zeros(y.shape, dtype=v.dtype)
        for _, dst in _taps(pool_size, strides, y.shape[1:-1]):
            at = (slice(None), *dst)
            total += np.where(xp[at] == y, vp[at], 0)
        return total
    _, arg = _max_over_taps(x, pool_size, strides, pads, with_arg=True)
    views = _tap_views(_padded(v, pads, 0), pool_size, strides, arg.shape[1:-1])
    bits = np.dtype(f"u{v.dtype.itemsize}")
    total = views[0].view(bits) * (arg == 0)
    for i, view in enumerate(views[1:], 1):  # one tap per window: a sum of bits, exact
        total += view.view(bits) * (arg == i)
    return total.view(v.dtype)


def _counts(sizes, pool_size, strides, pads, out):
    """count(q): the real elements of each window, a product of one count per axis."""
    total = np.ones(out, dtype=np.int64)
    for axis, (n, k, s, (b, _), q) in enumerate(
        zip(sizes, pool_size, strides, pads, out, strict=True)
    ):
        start = np.arange(q) * s - b
        c = np.minimum(start + k, n) - np.maximum(start, 0)
        shape = [1] * len(out)
        shape[axis] = q
        total = total * c.reshape(shape)
    return total[None, ..., None]


@primitive
def avg_pool(x, pool_size, strides, pads):
    """Mean of the real elements of each window.

    Computes: y[n, q, c] = sum_k xpad[n, q * s + k, c] / count(q).
    VJP: dx = avg_pool_grad(dy, x.shape).
    """
    ones = (1,) * len(pool_size)
    out = conv_output_sizes(x.shape[1:-1], pool_size, strides, ones, pads)
    # the taps added one view at a time, in order: a sum over the window axes of a strided
    # window view took 7 ms of a 9 ms AveragePooling2D(3, 2, same) on (32, 32, 32, 32)
    views = _tap_views(_padded(x, pads, 0), pool_size, strides, out)
    total = views[0].copy()
    for view in views[1:]:
        total += view
    return total / _counts(x.shape[1:-1], pool_size, strides, pads, out).astype(x.dtype)


@primitive
def avg_pool_grad(dy, x_shape, pool_size, strides, pads):
    """The input gradient of `avg_pool`: dy / count(q) added to every element of window q."""
    sizes = x_shape[1:-1]
    out = dy.shape[1:-1]
    share = dy / _counts(sizes, pool_size, strides, pads, out).astype(dy.dtype)
    padded = [n + b + a for n, (b, a) in zip(sizes, pads, strict=True)]
    dxp = np.zeros((x_shape[0], *padded, x_shape[-1]), dtype=dy.dtype)
    for _, dst in _taps(pool_size, strides, out):
        dxp[(slice(None), *dst)] += share
    crop = tuple(slice(b, b + n) for n, (b, _) in zip(sizes, pads, strict=True))
    return dxp[(slice(None), *crop)]


def _pool_rules():
    def mp_dx(g, ans, x, pool_size, strides, pads, ties="first"):
        return max_pool_grad(x, g, pool_size, strides, pads, ties)

    def mpg_dx(g, ans, x, dy, pool_size, strides, pads, ties="first"):
        return np.zeros_like(x)  # the routing is piecewise constant in x

    def mpg_ddy(g, ans, x, dy, pool_size, strides, pads, ties="first"):
        return max_pool_select(x, g, pool_size, strides, pads, ties)

    def sel_dx(g, ans, x, v, pool_size, strides, pads, ties="first"):
        return np.zeros_like(x)

    def sel_dv(g, ans, x, v, pool_size, strides, pads, ties="first"):
        return max_pool_grad(x, g, pool_size, strides, pads, ties)

    def ap_dx(g, ans, x, pool_size, strides, pads):
        return avg_pool_grad(g, np.shape(x), pool_size, strides, pads)

    def apg_ddy(g, ans, dy, x_shape, pool_size, strides, pads):
        return avg_pool(g, pool_size, strides, pads)

    defvjp(max_pool, mp_dx)
    defvjp(max_pool_grad, mpg_dx, mpg_ddy)
    defvjp(max_pool_select, sel_dx, sel_dv)
    defvjp(avg_pool, ap_dx)
    defvjp(avg_pool_grad, apg_ddy)


_pool_rules()


def pool_naive(x, pool_size, strides, pads, kind):
    """The definition, loop by loop (tests only): max over, or mean of, the real elements."""
    n, *sizes, c = x.shape
    out = conv_output_sizes(sizes, pool_size, strides, (1,) * len(sizes), pads)
    y = np.zeros((n, *out, c), dtype=x.dtype)
    for q in np.ndindex(*out):
        lo = [max(qi * s - b, 0) for qi, s, (b, _) in zip(q, strides, pads, strict=True)]
        hi = [
            min(qi * s - b + k, m)
            for qi, s, (b, _), k, m in zip(q, strides, pads, pool_size, sizes, strict=True)
        ]
        window = x[(slice(None), *(slice(a, b) for a, b in zip(lo, hi, strict=True)))]
        axes = tuple(range(1, 1 + len(sizes)))
        y[(slice(None), *q)] = window.max(axis=axes) if kind == "max" else window.mean(axis=axes)
    return y
