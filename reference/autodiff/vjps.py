"""The VJP table: one rule per NumPy function, written once, next to the others.

A rule gets the output gradient `g`, the forward result `ans` and the forward arguments exactly
as NumPy received them, and returns the gradient of one argument. Broadcasting is undone by the
tape (it sums the gradient back to the argument's shape), so rules can ignore it.
Kinks follow TensorFlow (keras-notes section 7): max/min ties go to the first argument, clip
passes the gradient at its bounds, |x|' = sign(x) (0 at 0), reductions split ties evenly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import scipy.special as sp

from .tracked import COMPOSITES, NONDIFFERENTIABLE, VJP_RULES, _astype, _getitem, apply


def primitive(fn: Callable) -> Callable:
    """Make `fn` (plain NumPy on plain arrays) one node of the tape, with a rule from `defvjp`.

    Computes: fn itself; under a recording tape, `fn` runs once on the plain values and the tape
    records a single node whose VJP is the rule registered with `defvjp(<the primitive>, ...)`,
    instead of tracing the NumPy calls inside `fn`. Use it where TF has a gradient kernel of its
    own (SeluGrad computes from the output, not from the traced formula), or where the traced
    formula would be slow or inexact. Rules must be written with np.* functions (no in-place
    writes into arrays derived from `g`), so that they can be traced again for higher-order
    gradients.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return apply(fn, args, kwargs)

    wrapper._primitive_fn = fn
    return wrapper


def rule_for(func: Callable, argnum: int = 0) -> Callable:
    """The registered VJP of `func` for positional argument `argnum`, as
    rule(g, ans, *args, **kwargs) -> gradient: what a layer's hand-written VJP calls to share
    one formula with the traced path (Dense uses its activation's rule)."""
    raw = getattr(func, "_primitive_fn", func)
    rule = VJP_RULES.get(raw)
    if rule is None:
        raise KeyError(f"{getattr(func, '__name__', func)!r} has no registered VJP rule.")
    return lambda g, ans, *args, **kwargs: rule((argnum,), g, ans, args, kwargs)


def defvjp(func: Callable, *rules: Callable | None) -> None:
    """Register per-argument rules: rules[i](g, ans, *args, **kwargs) -> grad of argument i."""
    func = getattr(func, "_primitive_fn", func)

    def rule(slot, g, ans, args, kwargs):
        i = slot[0]
        if i >= len(rules) or rules[i] is None:
            raise TypeError(f"np.{func.__name__}: argument {i} is not differentiable.")
        return rules[i](g, ans, *args, **kwargs)

    VJP_RULES[func] = rule


def defvjp_argnum(func: Callable, rule: Callable) -> None:
    """Register one rule for any positional argument: rule(i, g, ans, *args, **kwargs)."""
    func = getattr(func, "_primitive_fn", func)
    VJP_RULES[func] = lambda slot, g, ans, args, kwargs: rule(slot[0], g, ans, *args, **kwargs)


def defvjp_sequence(func: Callable, rule: Callable) -> None:
    """For functions of a sequence of arrays: rule(j, g, ans, arrays, *args, **kwargs)."""
    func = getattr(func, "_primitive_fn", func)
    VJP_RULES[func] = lambda slot, g, ans, args, kwargs: rule(slot[1], g, ans, *args, **kwargs)


def _expand(g, x, axis, keepdims):
    """Put back the axes a reduction removed, so g broadcasts against x."""
    if axis is None or keepdims:
        return g if keepdims or np.ndim(g) == 0 else np.reshape(g, (1,) * x.ndim)
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return np.expand_dims(g, tuple(a % x.ndim for a in axes))


def _count(x, axis):
    if axis is None:
        return x.size
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return int(np.prod([x.shape[a] for a in axes]))


def _reduce_args(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    if kw.get("where", True) is not True:
        raise NotImplementedError("Reductions with where= have no VJP rule.")
    return axis, keepdims


def _sum_vjp(g, ans, x, *args, **kwargs):
    axis, keepdims = _reduce_args(x, *args, **kwargs)
    return np.broadcast_to(_expand(g, x, axis, keepdims), x.shape)


def _mean_vjp(g, ans, x, *args, **kwargs):
    axis, _ = _reduce_args(x, *args, **kwargs)
    return _sum_vjp(g, ans, x, *args, **kwargs) / _count(x, axis)


def _extreme_vjp(g, ans, x, axis=None, out=None, keepdims=False, **kw):
    # Ties share the gradient evenly, as tf.reduce_max does.
    ans_x = _expand(ans, x, axis, keepdims)
    mask = x == ans_x
    return _expand(g, x, axis, keepdims) * mask / np.sum(mask, axis=axis, keepdims=True)


def _matmul_vjp(i, g, ans, a, b, **kwargs):
    # Promote 1-D operands to matrices as np.matmul does, then drop the added axis again.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    if i == 0:
        ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
        return ga[..., 0, :] if a.ndim == 1 else ga
    gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
    return gb[..., :, 0] if b.ndim == 1 else gb


def _einsum_vjp(i, g, ans, subscripts, *operands, **kwargs):
    if not isinstance(subscripts, str):
        raise NotImplementedError("einsum's VJP needs the subscripts-string form.")
    inputs, output = _parse_einsum(subscripts, [np.ndim(o) for o in operands])
    k = i - 1
    target, others = inputs[k], inputs[:k] + inputs[k + 1 :]
    if len(set(target)) != len(target):
        raise NotImplementedError(f"einsum VJP: repeated index in operand {target!r}.")
    present = set(output).union(*others)
    kept = "".join(c for c in target if c in present)
    rest = [o for j, o in enumerate(operands) if j != k]
    grad = np.einsum(f"{','.join([output, *others])}->{kept}", g, *rest, **kwargs)
    missing = [n for n, c in enumerate(target) if c not in present]
    if missing:  # summed in this operand alone: every element got the same gradient
        grad = np.broadcast_to(np.expand_dims(grad, missing), np.shape(operands[k]))
    return grad


def _parse_einsum(subscripts: str, ndims: list[int]) -> tuple[list[str], str]:
    """Explicit input and output index strings, with '...' spelled as unused letters."""
    spec = subscripts.replace(" ", "")
    lhs, _, rhs = spec.partition("->")
    inputs = lhs.split(",")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    n_ell = max(
        (n - len(s) + 3 for s, n in zip(inputs, ndims, strict=True) if "..." in s), default=0
    )
    ell = "".join(free[:n_ell])
    inputs = [
        s.replace("...", ell[len(ell) - (n - len(s) + 3) :]) if "..." in s else s
        for s, n in zip(inputs, ndims, strict=True)
    ]
    if "->" in spec:
        output = rhs.replace("...", ell)
    else:
        letters = "".join(inputs)
        output = ell + "".join(sorted(c for c in set(letters) - set(ell) if letters.count(c) == 1))
    return inputs, output


def _getitem_vjp(g, ans, x, index):
    out = np.zeros(x.shape, dtype=g.dtype)
    basic = all(
        isinstance(i, int | slice | type(Ellipsis) | type(None)) or np.isscalar(i)
        for i in (index if isinstance(index, tuple) else (index,))
    )
    if basic:
        out[index] = g
    else:  # advanced indexing may repeat an element: accumulate
        np.add.at(out, index, g)
    return out


def _concatenate_vjp(j, g, ans, arrays, axis=0, **kwargs):
    if axis is None:
        start = sum(np.size(a) for a in arrays[:j])
        return np.reshape(g[start : start + np.size(arrays[j])], np.shape(arrays[j]))
    start = sum(np.shape(a)[axis] for a in arrays[:j])
    return np.take(g, np.arange(start, start + np.shape(arrays[j])[axis]), axis=axis)


def _clip_bounds(a, a_min=None, a_max=None, out=None, **kwargs):
    lo = kwargs.get("min", a_min)
    hi = kwargs.get("max", a_max)
    return lo, hi


def _clip_vjp(i, g, ans, a, *args, **kwargs):
    lo, hi = _clip_bounds(a, *args, **kwargs)
    below = a < lo if lo is not None else False
    above = a > hi if hi is not None else False
    if i == 0:  # inclusive bounds pass the gradient, as tf.clip_by_value
        return np.where(below | above, 0.0, g)
    return np.where(below if i == 1 else above, g, 0.0)


def _sort_vjp(g, ans, a, axis=-1, kind=None, order=None, **kwargs):
    if axis is None:
        a, axis = a.ravel(), -1
    idx = np.argsort(a, axis=axis, kind="stable")
    out = np.zeros(a.shape, dtype=g.dtype)
    np.put_along_axis(out, idx, g, axis=axis)
    return out


def _cumsum_vjp(g, ans, a, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), a.shape)
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def _take_along_axis_vjp(g, ans, arr, indices, axis=-1, **kwargs):
    if axis is None:
        arr_shape, arr, axis = arr.shape, arr.ravel(), 0
    else:
        arr_shape = arr.shape
    index = list(np.ix_(*[np.arange(n) for n in indices.shape]))
    index[axis % arr.ndim] = indices
    out = np.zeros(arr.shape, dtype=g.dtype)
    np.add.at(out, tuple(index), g)
    return np.reshape(out, arr_shape)


def _take_vjp(g, ans, a, indices, axis=None, **kwargs):
    out = np.zeros(a.size if axis is None else a.shape, dtype=g.dtype)
    index = (slice(None),) * (0 if axis is None else axis % a.ndim) + (indices,)
    np.add.at(out, index, g)
    return np.reshape(out, a.shape)


def _power_base(g, ans, a, b):
    return g * b * np.power(a, b - 1)


def _power_exponent(g, ans, a, b):
    # TF's rule: zero where the base is not positive (log undefined there).
    positive = a > 0
    return np.where(positive, g * ans * np.log(np.where(positive, a, 1)), 0.0)


def _unary(fn: Callable) -> Callable:
    return lambda g, ans, x, *args, **kwargs: fn(g, ans, x)


def _identity_shape(g, ans, x, *args, **kwargs):
    return np.reshape(g, np.shape(x))


_SQRT_PI = float(np.sqrt(np.pi))

# -- elementwise ufuncs ------------------------------------------------------------------------
defvjp(np.add, lambda g, ans, a, b, **k: g, lambda g, ans, a, b, **k: g)
defvjp(np.subtract, lambda g, ans, a, b, **k: g, lambda g, ans, a, b, **k: -g)
defvjp(np.multiply, lambda g, ans, a, b, **k: g * b, lambda g, ans, a, b, **k: g * a)
defvjp(np.divide, lambda g, ans, a, b, **k: g / b, lambda g, ans, a, b, **k: -g * ans / b)
defvjp(np.negative, _unary(lambda g, ans, x: -g))
defvjp(np.positive, _unary(lambda g, ans, x: g))
defvjp(np.power, _power_base, _power_exponent)
defvjp(np.float_power, _power_base, _power_exponent)
defvjp(np.square, _unary(lambda g, ans, x: 2 * x * g))
defvjp(np.sqrt, _unary(lambda g, ans, x: g * 0.5 / ans))
defvjp(np.cbrt, _unary(lambda g, ans, x: g / (3 * ans * ans)))
defvjp(np.reciprocal, _unary(lambda g, ans, x: -g * ans * ans))
defvjp(np.exp, _unary(lambda g, ans, x: g * ans))
defvjp(np.exp2, _unary(lambda g, ans, x: g * ans * np.log(2.0)))
defvjp(np.expm1, _unary(lambda g, ans, x: g * (ans + 1)))
defvjp(np.log, _unary(lambda g, ans, x: g / x))
defvjp(np.log2, _unary(lambda g, ans, x: g / (x * np.log(2.0))))
defvjp(np.log10, _unary(lambda g, ans, x: g / (x * np.log(10.0))))
defvjp(np.log1p, _unary(lambda g, ans, x: g / (1 + x)))
defvjp(np.sin, _unary(lambda g, ans, x: g * np.cos(x)))
defvjp(np.cos, _unary(lambda g, ans, x: -g * np.sin(x)))
defvjp(np.tan, _unary(lambda g, ans, x: g * (1 + ans * ans)))
defvjp(np.arcsin, _unary(lambda g, ans, x: g / np.sqrt(1 - x * x)))
defvjp(np.arccos, _unary(lambda g, ans, x: -g / np.sqrt(1 - x * x)))
defvjp(np.arctan, _unary(lambda g, ans, x: g / (1 + x * x)))
defvjp(np.sinh, _unary(lambda g, ans, x: g * np.cosh(x)))
defvjp(np.cosh, _unary(lambda g, ans, x: g * np.sinh(x)))
defvjp(np.tanh, _unary(lambda g, ans, x: g * (1 - ans * ans)))
defvjp(np.arcsinh, _unary(lambda g, ans, x: g / np.sqrt(x * x + 1)))
defvjp(np.arctanh, _unary(lambda g, ans, x: g / (1 - x * x)))
defvjp(np.absolute, _unary(lambda g, ans, x: g * np.sign(x)))
# select, not multiply by a mask: an infinite upstream gradient must give 0, not NaN, off-branch
defvjp(
    np.maximum,
    lambda g, ans, a, b, **k: np.where(a >= b, g, 0.0),
    lambda g, ans, a, b, **k: np.where(a < b, g, 0.0),
)
defvjp(
    np.minimum,
    lambda g, ans, a, b, **k: np.where(a <= b, g, 0.0),
    lambda g, ans, a, b, **k: np.where(a > b, g, 0.0),
)
defvjp(
    np.logaddexp,
    lambda g, ans, a, b, **k: g * np.exp(a - ans),
    lambda g, ans, a, b, **k: g * np.exp(b - ans),
)
defvjp(sp.erf, _unary(lambda g, ans, x: g * (2 / _SQRT_PI) * np.exp(-x * x)))
defvjp(sp.erfc, _unary(lambda g, ans, x: -g * (2 / _SQRT_PI) * np.exp(-x * x)))
defvjp(sp.expit, _unary(lambda g, ans, x: g * ans * (1 - ans)))
defvjp(sp.log_expit, _unary(lambda g, ans, x: g * sp.expit(-x)))
defvjp_argnum(np.matmul, _matmul_vjp)

# -- reductions ---------------------------------------------------------------------------------
defvjp(np.sum, _sum_vjp)
defvjp(np.mean, _mean_vjp)
for _f in {np.max, np.amax, np.min, np.amin}:
    defvjp(_f, _extreme_vjp)
defvjp(np.cumsum, _cumsum_vjp)

# -- shape and selection ----------------------------------------------------------------------
for _f in (np.reshape, np.ravel, np.squeeze, np.expand_dims, np.atleast_1d, np.atleast_2d):
    defvjp(_f, _identity_shape)
defvjp(np.copy, _unary(lambda g, ans, x: g))
defvjp(np.broadcast_to, lambda g, ans, x, *a, **k: g)  # the tape sums broadcast axes
defvjp(
    np.transpose,
    lambda g, ans, x, axes=None: np.transpose(g, None if axes is None else np.argsort(axes)),
)
defvjp(np.swapaxes, lambda g, ans, x, a, b: np.swapaxes(g, a, b))
defvjp(np.moveaxis, lambda g, ans, x, src, dst: np.moveaxis(g, dst, src))
defvjp(np.flip, lambda g, ans, x, axis=None: np.flip(g, axis))
defvjp(np.where, None, lambda g, ans, c, x, y: np.where(c, g, 0.0),
       lambda g, ans, c, x, y: np.where(c, 0.0, g))  # fmt: skip
defvjp_argnum(np.clip, _clip_vjp)
defvjp_sequence(np.concatenate, _concatenate_vjp)
defvjp_sequence(np.stack, lambda j, g, ans, arrays, axis=0, **k: np.take(g, j, axis=axis))
defvjp(np.sort, _sort_vjp)
defvjp(np.take_along_axis, _take_along_axis_vjp)
defvjp(np.take, _take_vjp)
defvjp(_getitem, _getitem_vjp)
defvjp(_astype, lambda g, ans, x, dtype: g)  # the tape casts the gradient back to x's dtype
defvjp_argnum(np.einsum, _einsum_vjp)

# -- functions whose derivative is zero wherever it exists (TF returns no gradient for them) --
NONDIFFERENTIABLE.update(
    {np.sign, np.floor, np.ceil, np.rint, np.trunc, np.round, np.around, np.fix, np.zeros_like,
     np.ones_like, np.empty_like, np.full_like, np.heaviside, np.copysign}
)  # fmt: skip


# -- composites: written with tracked NumPy calls above, so they need no rule of their own ----
def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    centred = a - np.mean(a, axis=axis, keepdims=True)
    n = _count(a, axis)
    return np.sum(np.square(centred), axis=axis, keepdims=keepdims) / (n - ddof)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    return np.sqrt(_var(a, axis=axis, ddof=ddof, keepdims=keepdims))


def _tensordot(a, b, axes=2):
    if isinstance(axes, int):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = ([x] if np.isscalar(x) else list(x) for x in axes)
    axes_a = [x % a.ndim for x in axes_a]
    axes_b = [x % b.ndim for x in axes_b]
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a]))
    a2 = np.reshape(np.transpose(a, free_a + axes_a), (-1, k))
    b2 = np.reshape(np.transpose(b, axes_b + free_b), (k, -1))
    shape = [a.shape[i] for i in free_a] + [b.shape[i] for i in free_b]
    return np.reshape(np.matmul(a2, b2), shape)


def _dot(a, b, out=None):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return np.multiply(a, b)
    return _tensordot(a, b, axes=([-1], [0 if np.ndim(b) == 1 else -2]))


def _split(ary, indices_or_sections, axis=0):
    n = np.shape(ary)[axis]
    if np.isscalar(indices_or_sections):
        if n % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
        bounds = list(range(0, n + 1, n // indices_or_sections))
    else:
        bounds = [0, *indices_or_sections, n]
    lead = (slice(None),) * (axis % np.ndim(ary))
    return [ary[(*lead, slice(s, e))] for s, e in zip(bounds[:-1], bounds[1:], strict=True)]


COMPOSITES.update({np.var: _var, np.std: _std, np.tensordot: _tensordot, np.dot: _dot,
                   np.split: _split})  # fmt: skip
