"""The tracked value type and the dispatch that records NumPy calls on it.

While a GradientTape records, values that descend from watched arrays or trainable Variables are
`TrackedArray`s. They take part in NumPy's own dispatch (`__array_ufunc__`,
`__array_function__`), so `np.matmul(x, kernel) + bias` is recorded without any change to the
code that computes it. Each NumPy function's VJP lives once, in `vjps.py`; `apply` looks it up.
Outside a tape nothing is tracked and layers see plain ndarrays.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tape import GradientTape

_state = threading.local()


def _tapes() -> list[GradientTape]:
    """The stack of tapes that record now (innermost last)."""
    if not hasattr(_state, "tapes"):
        _state.tapes = []
    return _state.tapes


def is_recording() -> bool:
    return bool(_tapes())


@contextlib.contextmanager
def _swap_tapes(tapes: list):
    """Run a block with exactly `tapes` recording ([] pauses every tape)."""
    saved = _tapes()
    _state.tapes = tapes
    try:
        yield
    finally:
        _state.tapes = saved


def paused():
    """Context manager: nothing records inside (used by the backward pass and layer VJPs)."""
    return _swap_tapes([])


class Readable:
    """A stateful value that reads as an array (Variable): `_read()` is its tracked leaf while a
    tape watches it, else its plain `value`. Lets this module know Variables without importing
    them."""

    __slots__ = ()
    value: np.ndarray

    def _read(self):
        raise NotImplementedError


class MissingVJPError(NotImplementedError):
    """A NumPy function met a tracked value and has no VJP rule."""


class TrackedArray(np.lib.mixins.NDArrayOperatorsMixin):
    """A value recorded by a GradientTape: an ndarray plus how to send a gradient back.

    Keras: the role of a `tf.Tensor` under `tf.GradientTape`.
    Differences: it is immutable (no `x[i] = v`, no `out=`), as a tf.Tensor is.
    """

    __slots__ = ("value", "_parents", "_vjps")

    def __init__(self, value: Any, parents: tuple = (), vjps: tuple = ()):
        self.value = np.asarray(value)
        self._parents = parents  # TrackedArrays this value was computed from
        self._vjps = vjps  # one function per parent: output gradient -> that parent's gradient

    # -- NumPy protocols: every NumPy call on a tracked value goes through `apply`.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            raise MissingVJPError(
                f"np.{ufunc.__name__}.{method} has no VJP rule. Call np.{ufunc.__name__} or a "
                "reduction such as np.sum instead, or add a rule (see reference.autodiff.defvjp)."
            )
        return apply(ufunc, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return apply(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        # Explicit conversion (np.asarray(y)) leaves the tape, as tensor.numpy() does in TF.
        if dtype is not None and dtype != self.value.dtype:
            return self.value.astype(dtype)
        return self.value.copy() if copy else self.value

    def numpy(self) -> np.ndarray:
        return self.value.copy()

    # -- the ndarray surface a layer's call uses.
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    T = property(lambda self: np.transpose(self))
    mT = property(lambda self: np.swapaxes(self, -1, -2))

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        return apply(_getitem, (self, _untracked(index)), {})

    def __setitem__(self, index, value):
        raise TypeError(
            "TrackedArray is immutable, like a tf.Tensor: build a new array (np.where, "
            "np.concatenate) instead of assigning into one while a GradientTape records."
        )

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        return f"TrackedArray({self.value!r})"

    def astype(self, dtype, copy=True):
        return apply(_astype, (self, np.dtype(dtype)), {})

    def reshape(self, *shape, order="C"):
        shape = shape[0] if len(shape) == 1 else shape
        return np.reshape(self, shape, order=order)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 else (axes or None)
        return np.transpose(self, axes)

    def sum(self, axis=None, dtype=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return np.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return np.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        return np.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis=axis)

    def swapaxes(self, a, b):
        return np.swapaxes(self, a, b)

    def ravel(self):
        return np.ravel(self)

    def flatten(self):
        return np.ravel(self)

    def dot(self, other):
        return np.dot(self, other)

    def clip(self, lo=None, hi=None):
        return np.clip(self, lo, hi)

    def copy(self):
        return np.copy(self)


def _getitem(x, index):
    return x[index]


def _astype(x, dtype):
    return x.astype(dtype)


def _untracked(obj):
    """Strip tracking from a non-differentiable argument (an index array, say)."""
    if isinstance(obj, TrackedArray):
        return obj.value
    if isinstance(obj, tuple):
        return tuple(_untracked(o) for o in obj)
    return obj


# -- The registry that vjps.py fills. A rule maps (slot, g, ans, args, kwargs) -> gradient,
# where slot is (i,) for positional argument i or (i, j) for element j of a sequence argument.
VJP_RULES: dict[Callable, Callable] = {}
# Functions whose derivative is zero almost everywhere (floor, sign, ...): results are untracked.
NONDIFFERENTIABLE: set[Callable] = set()
# Functions computed by other tracked NumPy calls, so they need no rule of their own.
COMPOSITES: dict[Callable, Callable] = {}


def apply(func: Callable, args: tuple, kwargs: dict):
    """Run one NumPy call on possibly tracked values and record it when a tape records."""
    if not is_recording():  # the common inference path: only unwrap, nothing to record
        return func(*_unwrap(args), **_unwrap_kwargs(kwargs))

    def read(obj):
        return obj._read() if isinstance(obj, Readable) else obj

    args = tuple(
        type(a)(read(e) for e in a) if isinstance(a, list | tuple) else read(a) for a in args
    )
    kwargs = {k: read(v) for k, v in kwargs.items()}
    slots = [
        ((i,) if j is None else (i, j), t)
        for i, a in enumerate(args)
        for j, t in (enumerate(a) if isinstance(a, list | tuple) else [(None, a)])
        if isinstance(t, TrackedArray)
    ]
    if any(isinstance(v, TrackedArray) for v in kwargs.values()):
        # Rules see positional arguments only; a tracked keyword would lose its gradient.
        raise TypeError(
            f"np.{func.__name__}: pass tracked values positionally, not as keyword arguments."
        )
    if not slots:
        return func(*_unwrap(args), **_unwrap_kwargs(kwargs))
    if kwargs.get("out") is not None:
        raise TypeError(f"np.{func.__name__}(out=...) writes in place; a tape cannot record it.")
    if func in COMPOSITES:
        return COMPOSITES[func](*args, **kwargs)
    raw_args, raw_kwargs = _unwrap(args), _unwrap_kwargs(kwargs)
    ans = func(*raw_args, **raw_kwargs)
    if func in NONDIFFERENTIABLE or not _is_float(ans):
        return ans  # ints, bools, shapes, or zero-derivative results: no gradient, as in TF
    rule = VJP_RULES.get(func)
    if rule is None:
        name = getattr(func, "__name__", repr(func))
        raise MissingVJPError(
            f"np.{name} has no VJP rule, so its gradient cannot be computed. Add one in "
            f"reference/autodiff/vjps.py, e.g. defvjp(np.{name}, lambda g, ans, x, *a, **k: ...), "
            "or give the layer a vjp() method, or compute it outside the GradientTape."
        )
    ans = np.asarray(ans)

    def parent_vjp(slot, parent):
        return lambda g: rule(slot, g, ans, raw_args, raw_kwargs)

    parents = tuple(t for _, t in slots)
    return TrackedArray(ans, parents, tuple(parent_vjp(s, t) for s, t in slots))


def _is_float(x) -> bool:
    return isinstance(x, np.ndarray | np.generic) and x.dtype.kind in "fc"


def _unwrap(args: tuple) -> tuple:
    return tuple(
        type(a)(_plain(e) for e in a) if isinstance(a, list | tuple) else _plain(a) for a in args
    )


def _unwrap_kwargs(kwargs: dict) -> dict:
    return {k: _plain(v) for k, v in kwargs.items()}


def _plain(x):
    """The ndarray inside a TrackedArray or a Variable (Variables expose `.value` too)."""
    return x.value if isinstance(x, TrackedArray | Readable) else x


def unbroadcast(grad, shape: tuple, dtype) -> np.ndarray:
    """Sum a gradient over the axes that broadcasting added, so it matches its input."""
    grad = np.asarray(grad)
    if grad.shape != shape:
        lead = grad.ndim - len(shape)
        if lead > 0:
            grad = grad.sum(axis=tuple(range(lead)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
        grad = np.broadcast_to(grad, shape)
    return grad.astype(dtype, copy=False)
