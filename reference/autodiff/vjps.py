"""The VJP table: one rule per NumPy function, written once, next to the others.

A rule gets the output gradient `g`, the forward result `ans` and the forward arguments exactly
as NumPy received them, and returns the gradient of one argument. Broadcasting is undone by the
tape (it sums the gradient back to the argument's shape), so rules can ignore it.

A function whose result is a tuple or list (np.linalg.eigh, np.modf, ...) is one node: its rule
gets `ans` as the tuple of outputs and `g` as a tuple with one entry per output (zeros where a
float output received no gradient, None for a non-float output).

Rules are written with np.* calls on their arguments and never write into an array derived from
`g`, `ans` or the arguments: when an outer tape records, the backward pass is traced again, and
that gives higher-order gradients. Where a rule needs a scatter, it calls the `scatter_add`
primitive below, whose own rule is a gather (and a gather's rule is that scatter).

Functions that are compositions of recorded NumPy calls (hstack is concatenate, split is slicing)
are in COMPOSITES instead: they need no rule and are higher-order ready for free.

Kinks follow TensorFlow (docs/keras-facts.md#fact-7): max/min ties go to the first argument, clip
passes the gradient at its bounds, |x|' = sign(x) (0 at 0), reductions split ties evenly.
The rules live in the modules imported at the bottom (elementwise, reductions, shape and
selection, linear algebra); this module holds the registration API and shared helpers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .tracked import VJP_RULES, apply, full_name  # noqa: F401  (full_name: re-exported)


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
    one formula with the traced path (Dense uses its activation's rule).

    A function that, called with its defaults, is exactly one primitive with fixed extra
    arguments says so with `func._primitive_call = (primitive, extra_args)` (relu is _relu,
    softmax is _softmax(x, -1)): its rule is that primitive's.
    """
    call = getattr(func, "_primitive_call", None)
    if call is not None:
        primitive_rule, extra = rule_for(call[0], argnum), tuple(call[1])
        return lambda g, ans, *args, **kwargs: primitive_rule(g, ans, *args, *extra, **kwargs)
    raw = getattr(func, "_primitive_fn", func)
    rule = VJP_RULES.get(raw)
    if rule is None:
        raise KeyError(f"{full_name(func)} has no registered VJP rule.")
    return lambda g, ans, *args, **kwargs: rule((argnum,), g, ans, args, kwargs)


def defvjp(func: Callable, *rules: Callable | None) -> None:
    """Register per-argument rules: rules[i](g, ans, *args, **kwargs) -> grad of argument i."""
    func = getattr(func, "_primitive_fn", func)

    def rule(slot, g, ans, args, kwargs):
        i = slot[0]
        if i >= len(rules) or rules[i] is None:
            raise TypeError(f"{full_name(func)}: argument {i} is not differentiable.")
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


# -- helpers shared by the rule modules ---------------------------------------------------------
def axes_of(x, axis) -> tuple[int, ...]:
    """`axis` (None, an int or a tuple) as a sorted tuple of non-negative axes of x."""
    if axis is None:
        return tuple(range(np.ndim(x)))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % max(np.ndim(x), 1) for a in axes))


def expand(g, x, axis, keepdims):
    """Put back the axes a reduction removed, so g broadcasts against x."""
    if keepdims:
        return g
    return np.reshape(g, tuple(1 if i in axes_of(x, axis) else n for i, n in enumerate(x.shape)))


def count(x, axis) -> int:
    return int(np.prod([x.shape[a] for a in axes_of(x, axis)]))


def swap(a):
    """Matrix transpose of the last two axes."""
    return np.swapaxes(a, -1, -2)


def zeros_for(g):
    """Zeros shaped like g without multiplying (g * 0 is NaN where g is inf)."""
    return np.zeros(g.shape, dtype=g.dtype)


def _scatter_add(shape: tuple, index, g):
    out = np.zeros(shape, dtype=np.asarray(g).dtype)
    if all(isinstance(i, slice | type(Ellipsis) | type(None)) or np.isscalar(i) for i in
           (index if isinstance(index, tuple) else (index,))):  # fmt: skip
        out[index] = g  # basic indexing never repeats an element (and is much faster)
    else:
        np.add.at(out, index, g)  # accumulates repeated indices
    return out  # in place on a fresh array: fine in a primitive, whose body is not traced


scatter_add = primitive(_scatter_add)
scatter_add.__doc__ = """Zeros of `shape` with g added at `index` (repeats accumulate).

Computes: out = 0; out[index] += g, for every occurrence of an index.
VJP: d/dg = gg[index] (a gather; the gather's rule is this scatter again).
"""
defvjp(scatter_add, None, None, lambda gg, ans, shape, index, g: gg[index])


# The rule modules fill the table on import; they use the API above, so they come last.
from . import vjps_compose, vjps_elementwise, vjps_linalg, vjps_reduce, vjps_shape  # noqa: E402, F401, I001
