"""GradientTape and the tracked value type: reverse-mode autodiff over plain NumPy code.

While a tape records, values that descend from watched arrays or trainable Variables are
`TrackedArray`s. They take part in NumPy's own dispatch (`__array_ufunc__`,
`__array_function__`), so `np.matmul(x, kernel) + bias` is recorded without any change to the
code that computes it. Each NumPy function's VJP lives once, in `vjps.py`. Outside a tape nothing
is tracked and layers see plain ndarrays.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

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
    from reference.variable import Variable  # the only coupling: Variables read as tape leaves

    def read(obj):
        return obj._read() if isinstance(obj, Variable) else obj

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
        if func in COMPOSITES or func in VJP_RULES:
            raise TypeError(
                f"np.{func.__name__}: pass tracked values positionally, not as keyword arguments."
            )
    if kwargs.get("out") is not None and (slots or is_recording()):
        raise TypeError(f"np.{func.__name__}(out=...) writes in place; a tape cannot record it.")
    if not slots or not is_recording():
        return func(*_unwrap(args), **_unwrap_kwargs(kwargs))
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
    return isinstance(x, np.ndarray | np.generic) and np.issubdtype(x.dtype, np.inexact)


def _unwrap(args: tuple) -> tuple:
    return tuple(
        type(a)(_plain(e) for e in a) if isinstance(a, list | tuple) else _plain(a) for a in args
    )


def _unwrap_kwargs(kwargs: dict) -> dict:
    return {k: _plain(v) for k, v in kwargs.items()}


def _plain(x):
    return x.value if isinstance(x, TrackedArray) else x


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


def backprop(targets: list, seeds: list, sources: list) -> list:
    """Reverse pass: gradients of sum(seed * target) for each source TrackedArray (or None)."""
    wanted = {id(s) for s in sources}
    order, relevant, seen = [], set(), set()
    # Iterative post-order DFS; a node is relevant when a source lies below it.
    stack = [(t, False) for t in targets if isinstance(t, TrackedArray)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if id(node) in wanted or any(id(p) in relevant for p in node._parents):
                relevant.add(id(node))
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node._parents if id(p) not in seen)
    grads: dict[int, np.ndarray] = {}
    for t, seed in zip(targets, seeds, strict=True):
        if isinstance(t, TrackedArray):
            g = unbroadcast(seed, t.shape, t.dtype)
            grads[id(t)] = grads[id(t)] + g if id(t) in grads else g
    with paused():
        for node in reversed(order):
            g = grads.get(id(node))
            if g is None or id(node) not in relevant:
                continue
            for parent, vjp in zip(node._parents, node._vjps, strict=True):
                if id(parent) not in relevant:
                    continue
                pg = vjp(g)
                if pg is None:
                    continue
                pg = unbroadcast(pg, parent.shape, parent.dtype)
                grads[id(parent)] = grads[id(parent)] + pg if id(parent) in grads else pg
    return [grads.get(id(s)) for s in sources]


class GradientTape:
    """Records NumPy computations so that gradients can be taken, like tf.GradientTape.

    Computes: tape.gradient(y, x, dy) = (dy^T J)  with J = dy/dx, by reverse accumulation.
    Keras: tf.GradientTape(persistent=False, watch_accessed_variables=True).
    Differences: `watch(x)` also returns the tracked value(s), so free NumPy code (not only layer
    calls) can use them; `use_layer_vjps=False` makes layers with a hand-written `vjp` be traced
    op by op instead (used to check those VJPs).
    """

    def __init__(
        self,
        persistent: bool = False,
        watch_accessed_variables: bool = True,
        *,
        use_layer_vjps: bool = True,
    ):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self.use_layer_vjps = use_layer_vjps
        self._watched: dict[int, Any] = {}  # id -> watched object, kept alive
        self._leaves: dict[int, list[TrackedArray]] = {}  # id(source) -> its tracked reads
        self._used = False
        self._active = False

    def __enter__(self) -> GradientTape:
        if self._active:
            raise ValueError("This GradientTape is already recording.")
        _tapes().append(self)
        self._active = True
        return self

    def __exit__(self, *exc) -> None:
        _tapes().remove(self)
        self._active = False

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stop recording operations, as tf.GradientTape.stop_recording()."""
        with _swap_tapes([t for t in _tapes() if t is not self]):
            yield

    def watch(self, tensor):
        """Watch arrays or Variables (nested lists/tuples/dicts allowed); returns tracked values."""
        from reference.variable import Variable

        def one(x):
            if isinstance(x, TrackedArray):
                return x
            if not isinstance(x, np.ndarray | Variable):
                raise TypeError(
                    "GradientTape.watch expects NumPy arrays, Variables or TrackedArrays. "
                    f"Received: {x!r} (of type {type(x)}). Convert it with np.asarray first."
                )
            self._watched[id(x)] = x
            return x if isinstance(x, Variable) else track_input(x)

        return _map_structure(one, tensor)

    def watched_variables(self) -> list:
        """The Variables this tape has read as sources, in order of first read."""
        from reference.variable import Variable

        return [self._watched[i] for i in self._leaves if isinstance(self._watched[i], Variable)]

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients: str = "none"):
        """Gradients of `target` (summed, or weighted by `output_gradients`) w.r.t. `sources`.

        Returns the structure of `sources`; None for a source the target does not depend on
        (TF's default), or zeros with unconnected_gradients="zero".
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients (or jacobians)"
            )
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                "Expected unconnected_gradients to be 'none' or 'zero'. "
                f"Received: unconnected_gradients={unconnected_gradients!r}"
            )
        self._used = True
        targets = _flatten(target)
        if output_gradients is None:
            seeds = [np.ones(np.shape(_plain(t))) for t in targets]
        else:
            seeds = [np.asarray(_plain(g)) for g in _flatten(output_gradients)]
            if len(seeds) != len(targets):
                raise ValueError(
                    f"output_gradients has {len(seeds)} entries but target has {len(targets)}."
                )
        flat_sources = _flatten(sources)
        leaf_lists = [self._source_leaves(s) for s in flat_sources]
        all_leaves = [leaf for leaves in leaf_lists for leaf in leaves]
        found = dict(zip(map(id, all_leaves), backprop(targets, seeds, all_leaves), strict=True))
        results = []
        for s, leaves in zip(flat_sources, leaf_lists, strict=True):
            parts = [found[id(leaf)] for leaf in leaves if found[id(leaf)] is not None]
            if parts:
                results.append(sum(parts[1:], parts[0]))
            elif unconnected_gradients == "zero":
                results.append(np.zeros(np.shape(_plain(s)), dtype=_dtype_of(s)))
            else:
                results.append(None)
        return _unflatten(sources, results)

    def _source_leaves(self, source) -> list[TrackedArray]:
        if isinstance(source, TrackedArray):
            return [source]
        return list(self._leaves.get(id(source), []))


def _dtype_of(x):
    return np.asarray(_plain(x)).dtype if not hasattr(x, "dtype") else np.dtype(x.dtype)


def leaf_for(obj, value: np.ndarray, trainable: bool) -> TrackedArray | None:
    """The tracked read of a Variable (or a watched array) under the recording tapes, if any.

    One leaf per value: re-reading an unchanged Variable reuses its leaf; after `assign` a new
    leaf is made and both add up in `gradient`, as reads of a tf.Variable do.
    """
    tapes = [
        t for t in _tapes() if id(obj) in t._watched or (trainable and t.watch_accessed_variables)
    ]
    if not tapes:
        return None
    leaf = next((lf for t in tapes for lf in t._leaves.get(id(obj), ()) if lf.value is value), None)
    if leaf is None:
        leaf = TrackedArray(value)
    for t in tapes:
        t._watched.setdefault(id(obj), obj)
        leaves = t._leaves.setdefault(id(obj), [])
        if leaf not in leaves:
            leaves.append(leaf)
    return leaf


def track_input(x):
    """An input array as the recording tapes see it: its leaf if watched, else unchanged."""
    if isinstance(x, np.ndarray):
        return leaf_for(x, x, trainable=False) or x
    return x


def layer_vjps_enabled() -> bool:
    return all(t.use_layer_vjps for t in _tapes())


def vjp(fun: Callable, *primals):
    """Functional VJP, as jax.vjp: returns (fun(*primals), vjp_fn) with vjp_fn(g) -> grads.

    Only `primals` are differentiated; Variables read inside `fun` are treated as constants.
    """
    leaves = [TrackedArray(np.asarray(p)) for p in primals]
    with _swap_tapes([GradientTape(watch_accessed_variables=False)]):
        out = fun(*leaves)

    def vjp_fn(g):
        grads = backprop([out], [np.asarray(g)], leaves)
        return tuple(
            np.zeros_like(leaf.value) if gr is None else gr
            for leaf, gr in zip(leaves, grads, strict=True)
        )

    return np.asarray(_plain(out)), vjp_fn


def record_layer_call(layer, call: Callable, inputs, kwargs: dict):
    """Record one layer call as a single tape node whose backward is `layer.vjp`."""
    flat_inputs = _flatten(inputs)
    raw_inputs = _unflatten(inputs, [_plain(x) for x in flat_inputs])
    with paused():
        out = call(raw_inputs, **kwargs)
    if not _is_float(np.asarray(out)):
        return out
    weights = [(w, leaf_for(w, w.value, w.trainable)) for w in layer.weights]
    weights = [(w, leaf) for w, leaf in weights if leaf is not None]
    tracked_inputs = [(i, x) for i, x in enumerate(flat_inputs) if isinstance(x, TrackedArray)]
    if not weights and not tracked_inputs:
        return out
    cache: dict[str, Any] = {}

    def full_vjp(g):
        if "result" not in cache:
            dx, dw = layer.vjp(raw_inputs, g, **kwargs)
            missing = [w.name for w, _ in weights if w.name not in dw]
            if missing:
                raise MissingVJPError(
                    f"{type(layer).__name__}.vjp returned no gradient entry for weight(s) "
                    f"{missing}; return None for a weight the output does not depend on."
                )
            cache["result"] = (_flatten(dx), dw)
        return cache["result"]

    vjps = [lambda g, i=i: full_vjp(g)[0][i] for i, _ in tracked_inputs]
    vjps += [lambda g, n=w.name: full_vjp(g)[1][n] for w, _ in weights]
    parents = tuple(x for _, x in tracked_inputs) + tuple(leaf for _, leaf in weights)
    return TrackedArray(out, parents, tuple(vjps))


# -- tiny structure helpers (lists, tuples, dicts of leaves), as tf.nest does.
def _flatten(s) -> list:
    if isinstance(s, dict):
        return [x for k in s for x in _flatten(s[k])]
    if isinstance(s, list | tuple):
        return [x for e in s for x in _flatten(e)]
    return [s]


def _unflatten(structure, flat: list):
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            return {k: build(v) for k, v in s.items()}
        if isinstance(s, list | tuple):
            return type(s)(build(e) for e in s)
        return next(it)

    return build(structure)


def _map_structure(fn, s):
    return _unflatten(s, [fn(x) for x in _flatten(s)])
