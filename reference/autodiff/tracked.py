"""The tracked value type and the dispatch that records NumPy calls on it.

While a GradientTape records, values that descend from watched arrays or trainable Variables are
`TrackedArray`s. They take part in NumPy's own dispatch (`__array_ufunc__`,
`__array_function__`), so `np.matmul(x, kernel) + bias` is recorded without any change to the
code that computes it. Each NumPy function's VJP lives once, in the VJP table (`vjps.py`);
`apply` looks it up and hands the tapes one `Node`. Outside a tape nothing is tracked and layers
see plain ndarrays.

Ownership, as in TF: a TrackedArray is a value and an id, nothing more. The graph (the nodes)
belongs to the tapes that recorded it, and is freed with them: a value that outlives its tape
pins no graph.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tape import GradientTape

_state = threading.local()
_ids = itertools.count(1)  # ids are never reused, unlike id(): a tape may outlive its values


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
    """Context manager: nothing records inside (layer forward passes with a hand-written VJP)."""
    return _swap_tapes([])


class Readable:
    """A stateful value that reads as an array (Variable): `_read()` is its tracked leaf while a
    tape watches it, else its plain value. Lets this module know Variables without importing
    them."""

    __slots__ = ()

    def _read(self):
        raise NotImplementedError


class MissingVJPError(NotImplementedError):
    """A NumPy function met a tracked value and has no VJP rule."""


def full_name(func: Callable) -> str:
    """`numpy.linalg.norm`, not `np.norm`: the real module path of a function or ufunc."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None)
    if module is None:  # a ufunc: NumPy's own, or one of scipy.special's
        module = "numpy" if getattr(np, name, None) is func else "scipy.special"
    for public in ("numpy.linalg", "numpy.fft", "scipy.special", "numpy"):
        if module.startswith(public):
            module = public
            break
    return f"{module}.{name}"


class TrackedArray(np.lib.mixins.NDArrayOperatorsMixin):
    """A value recorded by a GradientTape: a read-only ndarray and an id the tapes know it by.

    Keras: the role of a `tf.Tensor` under `tf.GradientTape`.
    Differences: it is immutable (no `x[i] = v`, no `out=`), as a tf.Tensor is; converting it
    with np.asarray/np.array while a tape records it is an error (the gradient would be lost
    silently); `.numpy()` leaves the tape on purpose.
    """

    __slots__ = ("value", "_id", "_keras_mask")  # _keras_mask: as Keras's tensors (masks)

    def __init__(self, value: Any):
        value = np.asarray(value)
        if value.flags.writeable:
            value = value.view()  # the caller's array stays writable; the tape's copy does not
            value.flags.writeable = False
        self.value = value
        self._id = next(_ids)
        self._keras_mask = None

    # -- NumPy protocols: every NumPy call on a tracked value goes through `apply`.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            if not any(self._id in t._ids for t in _tapes()):
                raw = tuple(_plain(x) for x in inputs)
                return getattr(ufunc, method)(*raw, **_unwrap_kwargs(kwargs))
            raise MissingVJPError(
                f"numpy.{ufunc.__name__}.{method} has no VJP rule. Call np.{ufunc.__name__} or a "
                "reduction such as np.sum instead, or add a rule (see reference.autodiff.defvjp)."
            )
        return apply(ufunc, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return apply(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        if any(self._id in t._ids for t in _tapes()):
            raise TypeError(
                "A value that a GradientTape is recording was converted to a plain array "
                "(np.asarray, np.array, np.r_, a list of tracked values, or a SciPy function that "
                "converts its inputs), which would drop its gradient without a word. Use NumPy "
                "functions on it instead (np.stack([x, y]) for np.array([x, y]); "
                "reference.activations.softmax for scipy.special.softmax), or call .numpy() to "
                "leave the tape on purpose."
            )
        value = self.value if dtype is None else self.value.astype(dtype, copy=False)
        return value.copy() if copy else value

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
        if self.value.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        return apply(_getitem, (self, _untracked(index)), {})

    def __setitem__(self, index, value):
        raise TypeError(
            "TrackedArray is immutable, like a tf.Tensor: build a new array (np.where, "
            "np.concatenate) instead of assigning into one while a GradientTape records."
        )

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __complex__(self) -> complex:
        return complex(self.value)

    def __repr__(self) -> str:
        return f"TrackedArray({self.value!r})"

    def item(self, *args):
        return self.value.item(*args)

    def tolist(self):
        return self.value.tolist()

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return apply(_astype, (self, np.dtype(dtype)), {})

    def reshape(self, *shape, order="C"):
        shape = shape[0] if len(shape) == 1 else shape
        return np.reshape(self, shape, order=order)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 else (axes or None)
        return np.transpose(self, axes)

    def ravel(self, order="C"):
        return np.ravel(self, order=order)

    def flatten(self, order="C"):
        return np.ravel(self, order=order)

    def copy(self, order="C"):
        return np.copy(self, order=order)

    def dot(self, other):
        return np.dot(self, other)

    def clip(self, min=None, max=None):
        return np.clip(self, min, max)

    def conj(self):
        return np.conj(self)

    conjugate = conj


def _method(name: str) -> Callable:
    """ndarray method `name` as the NumPy function of the same name (recorded like it)."""
    func = getattr(np, name)

    def method(self, *args, **kwargs):
        return func(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"np.{name}(self, ...)"
    return method


for _name in (
    "sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod", "squeeze",
    "swapaxes", "argmax", "argmin", "argsort", "round", "any", "all", "nonzero", "repeat",
    "take", "trace", "diagonal", "sort", "ptp",
):  # fmt: skip
    setattr(TrackedArray, _name, _method(_name))


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
# For a function with several outputs, g and ans are tuples with one entry per output.
VJP_RULES: dict[Callable, Callable] = {}
# Functions whose derivative is zero almost everywhere (floor, sign, ...): results are untracked.
NONDIFFERENTIABLE: set[Callable] = set()
# Functions computed by other tracked NumPy calls, so they need no rule of their own.
COMPOSITES: dict[Callable, Callable] = {}


class Node:
    """One recorded operation: its tracked inputs and outputs, and how to pull gradients back.

    `pullback(gs, need, traced)` returns one gradient (or None) per input, given one output
    gradient per output; `need[i]` says whether input i's gradient is wanted. With traced=True
    it runs on the tracked values, so that tapes recording the backward pass see it (higher
    order); otherwise on plain arrays. `strict` nodes (layer VJPs) must return gradients of
    their inputs' exact shapes; rule nodes have broadcasting undone for them.
    """

    __slots__ = ("inputs", "outputs", "pullback", "strict", "name")

    def __init__(self, inputs, outputs, pullback, strict=False, name=""):
        self.inputs, self.outputs, self.pullback = tuple(inputs), tuple(outputs), pullback
        self.strict, self.name = strict, name


def recording_tapes(values) -> list:
    """The recording tapes that track at least one of `values`."""
    ids = [v._id for v in values if isinstance(v, TrackedArray)]
    return [t for t in _tapes() if any(i in t._ids for i in ids)]


def record(node: Node, tapes: list) -> None:
    for t in tapes:
        t._record(node)


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
    tapes = recording_tapes([t for _, t in slots] + list(kwargs.values()))
    if not tapes:  # tracked values of tapes that no longer record are constants
        return func(*_unwrap(args), **_unwrap_kwargs(kwargs))
    if any(isinstance(v, TrackedArray) for v in kwargs.values()):
        # Rules see positional arguments only; a tracked keyword would lose its gradient.
        raise TypeError(
            f"{full_name(func)}: pass tracked values positionally, not as keyword arguments."
        )
    if kwargs.get("out") is not None:
        raise TypeError(f"{full_name(func)}(out=...) writes in place; a tape cannot record it.")
    if any(t.dtype.kind == "c" for _, t in slots):
        raise TypeError(
            f"{full_name(func)}: complex values are not differentiable in the reference (TF and "
            "NumPy autodiff libraries disagree on the convention). Differentiate the real and "
            "imaginary parts as separate real arrays."
        )
    if func in COMPOSITES:
        return COMPOSITES[func](*args, **kwargs)
    raw_args = _unwrap(args, own=True)
    raw_kwargs = _unwrap_kwargs(kwargs)
    ans = func(*raw_args, **raw_kwargs)
    if func in NONDIFFERENTIABLE:
        return ans  # zero-derivative results: no gradient, as in TF
    multi = isinstance(ans, tuple | list)
    outs = list(ans) if multi else [ans]
    floats = [_is_float(np.asarray(o)) if isinstance(o, np.ndarray | np.generic) else False
              for o in outs]  # fmt: skip
    if not any(floats):
        return ans  # ints, bools, shapes: no gradient, as in TF
    if any(np.asarray(o).dtype.kind == "c" for o, f in zip(outs, floats, strict=True) if f):
        raise TypeError(
            f"{full_name(func)} returned complex values, which the reference does not "
            "differentiate. Keep the computation real."
        )
    rule = VJP_RULES.get(func)
    if rule is None:
        raise MissingVJPError(
            f"{full_name(func)} has no VJP rule, so its gradient cannot be computed. Add one "
            "with reference.autodiff.defvjp (rule(g, ans, *args, **kwargs) -> the gradient of "
            "one argument), write the computation with functions that have rules, give the "
            "layer a hand-written VJP, or compute it outside the GradientTape."
        )
    tracked_outs = [TrackedArray(o) if f else o for o, f in zip(outs, floats, strict=True)]
    raw_ans = tuple(np.asarray(o) for o in outs) if multi else np.asarray(ans)

    def pullback(gs, need, traced):
        if multi:
            g = tuple(
                (gi if gi is not None else _zeros(o)) if f else None
                for gi, o, f in zip(gs, raw_ans, floats, strict=True)
            )
        else:
            g = gs[0]
        if traced:
            a, an, kw = args, (tuple(tracked_outs) if multi else tracked_outs[0]), kwargs
        else:
            a, an, kw = raw_args, raw_ans, raw_kwargs
        return [rule(s, g, an, a, kw) if n else None for (s, _), n in zip(slots, need, strict=True)]

    outputs = [o for o, f in zip(tracked_outs, floats, strict=True) if f]
    node_pullback = pullback
    if multi:
        index = [i for i, f in enumerate(floats) if f]

        def node_pullback(gs, need, traced):  # the node sees float outputs only
            full = [None] * len(outs)
            for i, g in zip(index, gs, strict=True):
                full[i] = g
            return pullback(full, need, traced)

    record(Node([t for _, t in slots], outputs, node_pullback, name=full_name(func)), tapes)
    if not multi:
        return tracked_outs[0]
    if hasattr(ans, "_fields"):  # a namedtuple (EighResult, SVDResult, ...)
        return type(ans)(*tracked_outs)
    return type(ans)(tracked_outs)


def _zeros(o: np.ndarray) -> np.ndarray:
    return np.zeros(np.shape(o), dtype=np.asarray(o).dtype)


def _is_float(x) -> bool:
    return isinstance(x, np.ndarray | np.generic) and x.dtype.kind in "fc"


def _own(x):
    """A caller's writable array, copied: the tape's saved values must not change when the
    caller mutates its arrays after the forward pass (TF copies its inputs too). A read-only
    view of a writable array is copied as well: writing to its base changes it."""
    if type(x) is np.ndarray and x.size and _mutable(x):
        x = x.copy()
        x.flags.writeable = False
    return x


def _mutable(x: np.ndarray) -> bool:
    """Whether x, or an array it is a view of, can be written."""
    while isinstance(x, np.ndarray):
        if x.flags.writeable:
            return True
        x = x.base
    return x is not None  # memory NumPy does not own (a buffer, an mmap) may change under us


def _unwrap(args: tuple, own: bool = False) -> tuple:
    conv = (lambda e: _own(_plain(e)) if not isinstance(e, TrackedArray) else e.value) if own \
        else _plain  # fmt: skip
    return tuple(type(a)(conv(e) for e in a) if isinstance(a, list | tuple) else conv(a)
                 for a in args)  # fmt: skip


def _unwrap_kwargs(kwargs: dict) -> dict:
    return {k: _plain(v) for k, v in kwargs.items()}


def _plain(x):
    """The ndarray inside a TrackedArray or a Variable."""
    if isinstance(x, TrackedArray):
        return x.value
    if isinstance(x, Readable):
        return x._value
    return x


def unbroadcast(grad, shape: tuple, dtype):
    """Sum a gradient over the axes that broadcasting added, so it matches its input.

    Written with NumPy calls only, so that it is recorded when the backward pass is (higher
    order); a tracked `grad` stays tracked.
    """
    if np.shape(grad) != tuple(shape):
        lead = np.ndim(grad) - len(shape)
        if lead > 0:
            grad = np.sum(grad, axis=tuple(range(lead)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(grad)[i] != 1)
        if axes:
            grad = np.sum(grad, axis=axes, keepdims=True)
        grad = np.broadcast_to(grad, shape)
    if isinstance(grad, TrackedArray):
        return grad if grad.dtype == dtype else grad.astype(dtype)
    return np.asarray(grad).astype(dtype, copy=False)
