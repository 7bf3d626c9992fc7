"""GradientTape: reverse-mode autodiff over the NumPy calls that `tracked.apply` records."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ..nest import flatten, map_structure, pack_sequence_as
from .tracked import (
    MissingVJPError,
    Readable,
    TrackedArray,
    _is_float,
    _plain,
    _swap_tapes,
    _tapes,
    paused,
    unbroadcast,
)


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

        def one(x):
            if isinstance(x, TrackedArray):
                return x
            if not isinstance(x, np.ndarray | Readable):
                raise TypeError(
                    "GradientTape.watch expects NumPy arrays, Variables or TrackedArrays. "
                    f"Received: {x!r} (of type {type(x)}). Convert it with np.asarray first."
                )
            self._watched[id(x)] = x
            return x if isinstance(x, Readable) else track_input(x)

        return map_structure(one, tensor)

    def watched_variables(self) -> list:
        """The Variables this tape has read as sources, in order of first read."""
        return [self._watched[i] for i in self._leaves if isinstance(self._watched[i], Readable)]

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
        targets = flatten(target)
        if output_gradients is None:
            seeds = [np.ones(np.shape(_plain(t))) for t in targets]
        else:
            seeds = [np.asarray(_plain(g)) for g in flatten(output_gradients)]
            if len(seeds) != len(targets):
                raise ValueError(
                    f"output_gradients has {len(seeds)} entries but target has {len(targets)}."
                )
        flat_sources = flatten(sources)
        leaf_lists = [self._source_leaves(s) for s in flat_sources]
        all_leaves = [leaf for leaves in leaf_lists for leaf in leaves]
        found = dict(zip(map(id, all_leaves), backprop(targets, seeds, all_leaves), strict=True))
        results = []
        for s, leaves in zip(flat_sources, leaf_lists, strict=True):
            parts = [found[id(leaf)] for leaf in leaves if found[id(leaf)] is not None]
            if parts:
                total = sum(parts[1:], parts[0])
                # A rule may return a broadcast view; hand out an array of its own, as TF does.
                results.append(total if total.flags.writeable else np.array(total))
            elif unconnected_gradients == "zero":
                results.append(np.zeros(np.shape(_plain(s)), dtype=_dtype_of(s)))
            else:
                results.append(None)
        return pack_sequence_as(sources, results)

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
    flat_inputs = flatten(inputs)
    raw_inputs = pack_sequence_as(inputs, [_plain(x) for x in flat_inputs])
    # The weights as `call` sees them: the backward pass must use these values even if a weight
    # is assigned (BN's moving statistics, an optimizer step) before `gradient` runs.
    seen = [(w, w.value) for w in layer.weights]
    with paused():
        out = call(raw_inputs, **kwargs)
    if not _is_float(np.asarray(out)):
        return out
    weights = [(w, leaf_for(w, value, w.trainable)) for w, value in seen]
    weights = [(w, leaf) for w, leaf in weights if leaf is not None]
    tracked_inputs = [(i, x) for i, x in enumerate(flat_inputs) if isinstance(x, TrackedArray)]
    if not weights and not tracked_inputs:
        return out
    cache: dict[str, Any] = {}

    def full_vjp(g):
        if "result" not in cache:
            now = [(w, w.value) for w, _ in seen]
            try:
                for w, value in seen:
                    w._value = value
                dx, dw = layer.vjp(raw_inputs, g, **kwargs)
            finally:
                for w, value in now:
                    w._value = value
            missing = [w.name for w, _ in weights if w.name not in dw]
            if missing:
                raise MissingVJPError(
                    f"{type(layer).__name__}.vjp returned no gradient entry for weight(s) "
                    f"{missing}; return None for a weight the output does not depend on."
                )
            cache["result"] = (flatten(dx), dw)
        return cache["result"]

    vjps = [lambda g, i=i: full_vjp(g)[0][i] for i, _ in tracked_inputs]
    vjps += [lambda g, n=w.name: full_vjp(g)[1][n] for w, _ in weights]
    parents = tuple(x for _, x in tracked_inputs) + tuple(leaf for _, leaf in weights)
    return TrackedArray(out, parents, tuple(vjps))
