"""GradientTape: reverse-mode autodiff over the nodes that `tracked.apply` records.

The tape owns its graph: a list of `Node`s in execution order (so reversed, it is a valid order
for the backward pass) and the ids of the values it tracks. A non-persistent tape frees them
after `gradient`; a persistent one when it is deleted. The backward pass runs on plain arrays,
unless a tape records it (nested tapes, or a persistent tape asked for a gradient inside its own
context): then it runs on the tracked values and is recorded like any forward computation, which
gives higher-order gradients as in TF.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..nest import flatten, map_structure, pack_sequence_as
from .tracked import (
    Node,
    Readable,
    TrackedArray,
    _is_float,
    _plain,
    _swap_tapes,
    _tapes,
    paused,
    record,
    recording_tapes,
    unbroadcast,
)

_local = threading.local()  # read overrides while a layer's forward pass is replayed


class GradientTape:
    """Records NumPy computations so that gradients can be taken, like tf.GradientTape.

    Computes: tape.gradient(y, x, dy) = dy^T J with J = dy/dx, by reverse accumulation.
    Keras: tf.GradientTape(persistent=False, watch_accessed_variables=True).
    Differences: `watch(x)` returns the tracked value(s): NumPy cannot see that a plain array was
    watched, so the computation must use what `watch` returned (layers called on the original
    array find it themselves). `use_layer_vjps=False` makes layers with a hand-written VJP be
    traced op by op instead (used to check those VJPs).
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
        self._release()
        self._used = False
        self._active = False
        self._watched_after: list = []

    def _release(self) -> None:
        self._nodes: list[Node] = []
        self._ids: set[int] = set()  # ids of the TrackedArrays this tape tracks
        self._watched: dict[int, Any] = {}  # id -> watched object (kept alive: ids stay valid)
        self._leaves: dict[int, list[TrackedArray]] = {}  # id(source) -> its tracked reads

    def __enter__(self) -> GradientTape:
        if self._active:
            raise ValueError("This GradientTape is already recording.")
        _tapes().append(self)
        self._active = True
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _stop(self) -> None:
        stack = _tapes()
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self:
                del stack[i]
        self._active = False

    def _record(self, node: Node) -> None:
        self._nodes.append(node)
        self._ids.update(o._id for o in node.outputs)

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stop recording operations, as tf.GradientTape.stop_recording()."""
        if not self._active:
            raise ValueError("Tape.stop_recording() can only be called when the tape is recording.")
        with _swap_tapes([t for t in _tapes() if t is not self]):
            yield

    def reset(self) -> None:
        """Forget everything recorded so far, as tf.GradientTape.reset()."""
        self._release()
        self._used = False

    # -- watching ----------------------------------------------------------------------------
    def _watches(self, obj, trainable: bool) -> bool:
        if self._watched.get(id(obj)) is obj:
            return True
        return trainable and self.watch_accessed_variables and isinstance(obj, Readable)

    def _add_leaf(self, obj, leaf: TrackedArray) -> None:
        self._watched[id(obj)] = obj
        leaves = self._leaves.setdefault(id(obj), [])
        if not any(lf is leaf for lf in leaves):  # identity: == would compare the values
            leaves.append(leaf)
        self._ids.add(leaf._id)

    def watch(self, tensor):
        """Watch arrays, Variables or tracked values (nested lists/tuples/dicts allowed).

        Returns the tracked value(s) to compute with. TF copies what it watches; so does this:
        changing the array afterwards changes nothing recorded.
        """

        def one(x):
            if isinstance(x, TrackedArray):
                _check_real(x.dtype)
                self._ids.add(x._id)
                return x
            if isinstance(x, Readable):
                self._watched[id(x)] = x
                return x
            if isinstance(x, np.generic):
                x = np.asarray(x)
            if not isinstance(x, np.ndarray):
                raise TypeError(
                    "GradientTape.watch expects NumPy arrays, Variables or TrackedArrays. "
                    f"Received: {x!r} (of type {type(x)}). Convert it with np.asarray first."
                )
            _check_real(x.dtype)
            if x.dtype.kind != "f":
                warnings.warn(
                    f"GradientTape.watch: the dtype of the watched array must be floating, got "
                    f"{x.dtype}; it gets no gradient (None), as in TF.",
                    stacklevel=3,
                )
                return x
            leaf = _existing_leaf(x)
            if leaf is None:
                value = x.copy()
                value.flags.writeable = False
                leaf = TrackedArray(value)
            self._add_leaf(x, leaf)
            return leaf

        return map_structure(one, tensor)

    def watched_variables(self) -> list:
        """The Variables this tape has read as sources, in order of first read."""
        if not self._nodes and not self._leaves and self._watched_after:
            return list(self._watched_after)  # a released tape still answers, as TF's does
        return [self._watched[i] for i in self._leaves if isinstance(self._watched[i], Readable)]

    # -- gradients ---------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradients of `target` (summed, or weighted by `output_gradients`) w.r.t. `sources`.

        Returns the structure of `sources`; None for a source the target does not depend on, or
        of an integer dtype (TF's default), or zeros with unconnected_gradients="zero".
        """
        self._check(unconnected_gradients)
        targets = [self._target(t) for t in flatten(target)]
        if output_gradients is None:
            seeds = [None if t is None else np.ones(t.shape, t.dtype) for t in targets]
        else:
            flat = flatten(output_gradients)
            if len(flat) != len(targets):
                raise ValueError(
                    f"`output_gradients` has {len(flat)} entries but `target` has {len(targets)}."
                )
            seeds = [
                _seed(t, g, raw) for t, g, raw in zip(targets, flat, flatten(target), strict=True)
            ]
        flat_sources = flatten(sources)
        zero = self._start(unconnected_gradients)  # bad arguments above leave the tape usable
        results = self._gradients(targets, seeds, flat_sources, zero)
        self._finish()
        return pack_sequence_as(sources, results)

    def jacobian(
        self,
        target,
        sources,
        unconnected_gradients="none",
        parallel_iterations=None,
        experimental_use_pfor=True,
    ):
        """d target / d source for every source: shape target.shape + source.shape, as TF.

        One backward pass per element of `target` (`parallel_iterations` and
        `experimental_use_pfor` are accepted and mean nothing here).
        """
        zero = self._start(unconnected_gradients)
        t = self._target(target)
        flat_sources = flatten(sources)
        shape = np.shape(_plain(target))
        rows = []
        for k in range(int(np.prod(shape, dtype=int))):
            seed = np.zeros(int(np.prod(shape, dtype=int)), _dtype_of(target))
            seed[k] = 1
            rows.append(self._gradients([t], [seed.reshape(shape)], flat_sources, zero))
        self._finish()
        results = []
        for i, s in enumerate(flat_sources):
            col = [r[i] for r in rows]  # a source is connected to the whole target or not at all
            results.append(
                None if any(c is None for c in col) else
                np.reshape(np.stack(col), shape + np.shape(_plain(s)))
            )  # fmt: skip
        if not rows:  # a size-0 target
            results = [np.zeros(shape + np.shape(_plain(s)), _dtype_of(s)) for s in flat_sources]
        return pack_sequence_as(sources, results)

    def batch_jacobian(
        self,
        target,
        source,
        unconnected_gradients="none",
        parallel_iterations=None,
        experimental_use_pfor=True,
    ):
        """d target[b] / d source[b] for each b: shape (batch,) + target.shape[1:] +
        source.shape[1:], as TF (which also assumes row b of target depends on row b only)."""
        zero = self._start(unconnected_gradients)
        t = self._target(target)
        shape = np.shape(_plain(target))
        src_shape = np.shape(_plain(source))
        if not shape or not src_shape or shape[0] != src_shape[0]:
            raise ValueError(
                "batch_jacobian needs a target and a source with the same first (batch) "
                f"dimension. Received: target.shape={shape}, source.shape={src_shape}"
            )
        inner = int(np.prod(shape[1:], dtype=int))
        cols = []
        for k in range(inner):
            seed = np.zeros((shape[0], inner), _dtype_of(target))
            seed[:, k] = 1
            cols.append(self._gradients([t], [seed.reshape(shape)], [source], zero)[0])
        self._finish()
        if any(c is None for c in cols):
            return None
        out = np.stack([np.reshape(c, (shape[0], -1)) for c in cols], axis=1)
        return np.reshape(out, shape + src_shape[1:])

    def _check(self, unconnected_gradients) -> bool:
        """Validate a gradient call without changing the tape; True for "zero"."""
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients (or jacobians)"
            )
        value = getattr(unconnected_gradients, "value", unconnected_gradients)  # TF's enum
        if value not in ("none", "zero"):
            raise ValueError(
                "Unknown value for unconnected_gradients: expected 'none' or 'zero' (or "
                f"tf.UnconnectedGradients.NONE/ZERO). Received: {unconnected_gradients!r}"
            )
        return value == "zero"

    def _start(self, unconnected_gradients) -> bool:
        zero = self._check(unconnected_gradients)
        self._used = True
        if self._active and not self.persistent:
            self._stop()  # as TF: a non-persistent tape stops recording at its gradient call
        return zero

    def _finish(self) -> None:
        if not self.persistent:
            self._watched_after = self.watched_variables()
            self._release()  # the graph is freed: the returned values pin nothing

    def _target(self, t):
        if isinstance(t, Readable):  # gradient(v, v) is ones, as in TF: read v on this tape
            value = t._value
            leaf = next((lf for lf in self._leaves.get(id(t), ()) if lf.value is value), None)
            if leaf is None and _is_float(value):
                leaf = TrackedArray(value)
                self._add_leaf(t, leaf)
            return leaf
        return t if isinstance(t, TrackedArray) and t._id in self._ids else None

    def _source_leaves(self, source) -> list[TrackedArray]:
        if isinstance(source, TrackedArray):
            return [source] if source._id in self._ids else []
        if not isinstance(source, np.ndarray | Readable):
            raise TypeError(
                "GradientTape.gradient: sources must be arrays, Variables or TrackedArrays. "
                f"Received: {source!r} (of type {type(source)})"
            )
        if self._watched.get(id(source)) is not source:
            return []
        return list(self._leaves.get(id(source), ()))

    def _gradients(self, targets, seeds, flat_sources, zero: bool) -> list:
        leaf_lists = [self._source_leaves(s) for s in flat_sources]
        all_leaves = [lf for leaves in leaf_lists for lf in leaves]
        grads = self._backward(targets, seeds, all_leaves)
        found = dict(zip([lf._id for lf in all_leaves], grads, strict=True))
        results = []
        for s, leaves in zip(flat_sources, leaf_lists, strict=True):
            parts = [found[lf._id] for lf in leaves if found[lf._id] is not None]
            if parts:
                total = parts[0]
                for p in parts[1:]:
                    total = total + p
                if not isinstance(total, TrackedArray) and (
                    not total.flags.writeable or total.base is not None
                ):
                    total = np.array(total)  # an array of its own, as TF hands out
                results.append(total)
                continue
            if isinstance(s, np.ndarray) and leaves and s.dtype.kind == "f":
                warnings.warn(
                    "GradientTape.gradient: a watched array never reached the target. NumPy "
                    "cannot see that an array was watched: compute with the value that "
                    "`tape.watch(x)` returned (`x = tape.watch(x)`), not with the original "
                    "array (np.sin(x), x[:, :], x * 1.0 all read the original).",
                    stacklevel=3,
                )
            if zero and _dtype_of(s).kind == "f":
                results.append(np.zeros(np.shape(_plain(s)), dtype=_dtype_of(s)))
            else:
                results.append(None)
        return results

    def _backward(self, targets: list, seeds: list, sources: list) -> list:
        """Reverse pass over this tape's nodes: gradients of sum(seed * target) per source."""
        nodes = list(self._nodes)  # a tape recording its own backward pass appends to the list
        reach = {s._id for s in sources}
        live = []
        for node in nodes:  # forward sweep: the nodes through which a source reaches
            if any(i._id in reach for i in node.inputs):
                live.append(node)
                reach.update(o._id for o in node.outputs)
        grads: dict[int, Any] = {}
        for t, seed in zip(targets, seeds, strict=True):
            if t is not None and t._id in reach:
                _accumulate(grads, t._id, seed)
        recording = _tapes()
        for node in reversed(live):
            gs = [grads.get(o._id) for o in node.outputs]
            if all(g is None for g in gs):
                continue
            need = [i._id in reach for i in node.inputs]
            traced = bool(recording) and _on_tapes(recording, [*node.inputs, *node.outputs, *gs])
            if traced:
                pgs = node.pullback(gs, need, True)
            else:
                with paused():
                    pgs = node.pullback([None if g is None else _plain(g) for g in gs], need, False)
            for inp, pg, n in zip(node.inputs, pgs, need, strict=True):
                if not n or pg is None:
                    continue
                if node.strict:
                    if np.shape(pg) != inp.shape:
                        raise ValueError(
                            f"{node.name} returned a gradient of shape {np.shape(pg)} for an "
                            f"input of shape {inp.shape}; it must match exactly."
                        )
                    pg = pg if np.result_type(pg) == inp.dtype else pg.astype(inp.dtype)
                else:
                    pg = unbroadcast(pg, inp.shape, inp.dtype)
                _accumulate(grads, inp._id, pg)
        return [grads.get(s._id) for s in sources]


def _accumulate(grads: dict, key: int, g) -> None:
    grads[key] = grads[key] + g if key in grads else g


def _on_tapes(tapes: list, values: list) -> bool:
    ids = [v._id for v in values if isinstance(v, TrackedArray)]
    return any(i in t._ids for t in tapes for i in ids)


def _check_real(dtype) -> None:
    if np.dtype(dtype).kind == "c":
        raise TypeError(
            "GradientTape.watch: complex values are not differentiable in the reference. "
            "Watch the real and imaginary parts as separate real arrays."
        )


def _seed(target, g, raw_target):
    if g is None:
        raise ValueError(
            "`output_gradients` contains None; give an array for every target (TF raises too)."
        )
    shape = np.shape(_plain(raw_target))
    if np.shape(_plain(g)) != shape:
        raise ValueError(
            f"An `output_gradients` entry has shape {np.shape(_plain(g))}, but its target has "
            f"shape {shape}; they must match."
        )
    if target is None:
        return None
    if isinstance(g, TrackedArray):
        return g if g.dtype == target.dtype else g.astype(target.dtype)
    return np.asarray(_plain(g)).astype(target.dtype, copy=False)


def _dtype_of(x) -> np.dtype:
    return np.asarray(_plain(x)).dtype if not hasattr(x, "dtype") else np.dtype(x.dtype)


def _existing_leaf(x) -> TrackedArray | None:
    """The leaf a recording tape already holds for array `x` (nested tapes share it)."""
    for t in _tapes():
        if t._watched.get(id(x)) is x and t._leaves.get(id(x)):
            return t._leaves[id(x)][0]
    return None


def leaf_for(obj, value: np.ndarray, trainable: bool) -> TrackedArray | None:
    """The tracked read of a Variable under the recording tapes, if any.

    One leaf per stored value: re-reading an unchanged Variable reuses its leaf; after `assign`
    (a new stored array, even if equal) a new leaf is made and both add up in `gradient`, as
    reads of a tf.Variable do. Integer variables are never differentiated (TF returns None).
    """
    override = getattr(_local, "overrides", None)
    if override is not None and id(obj) in override:
        return override[id(obj)]
    tapes = [t for t in _tapes() if t._watches(obj, trainable)]
    if not tapes or value.dtype.kind != "f":
        return None
    leaf = next((lf for t in tapes for lf in t._leaves.get(id(obj), ()) if lf.value is value), None)
    if leaf is None:
        leaf = TrackedArray(value)
    for t in tapes:
        t._add_leaf(obj, leaf)
    return leaf


def track_input(x):
    """An input array as the recording tapes see it: its leaf if watched, else unchanged."""
    if isinstance(x, np.ndarray):
        leaf = _existing_leaf(x)
        return x if leaf is None else leaf
    return x


def layer_vjps_enabled() -> bool:
    return all(t.use_layer_vjps for t in _tapes())


@contextlib.contextmanager
def replaying(reads: dict):
    """Run a block in which Variables read as `reads[id(variable)]` and `assign` does nothing.

    Used to replay a layer's forward pass with the values its recorded call saw, when a
    backward pass must itself be recorded (higher order). Thread-local: other threads see the
    Variables as they are.
    """
    saved = getattr(_local, "overrides", None), getattr(_local, "frozen", False)
    _local.overrides, _local.frozen = reads, True
    try:
        yield
    finally:
        _local.overrides, _local.frozen = saved


def assigns_frozen() -> bool:
    return getattr(_local, "frozen", False)


def record_node(
    inputs: list, outputs: list, pullback: Callable, name: str, strict: bool = True
) -> list:
    """Record one node on the tapes that track any of `inputs`; returns the outputs as tracked.

    The public node API that hand-written layer VJPs are recorded through: `outputs` are plain
    arrays; `pullback(gs, need, traced)` gets one gradient per float output (None where an
    output got none) and returns one gradient (or None) per input, of the input's exact shape.
    """
    tapes = recording_tapes(inputs)
    if not tapes:
        return outputs
    tracked = [TrackedArray(o) if _is_float(o) else o for o in outputs]
    node_inputs = [x for x in inputs if isinstance(x, TrackedArray)]
    node = Node(node_inputs, [o for o in tracked if isinstance(o, TrackedArray)], pullback,
                strict=strict, name=name)  # fmt: skip
    record(node, tapes)
    return tracked


def vjp(fun: Callable, *primals):
    """Functional VJP, as jax.vjp: returns (fun(*primals), vjp_fn) with vjp_fn(g) -> grads.

    Only `primals` are differentiated; Variables read inside `fun` are treated as constants.
    """
    tape = GradientTape(persistent=True, watch_accessed_variables=False)
    with _swap_tapes([tape]):
        leaves = [tape.watch(np.asarray(p)) for p in primals]
        out = fun(*leaves)
    out_value = np.asarray(_plain(out))

    def vjp_fn(g):
        grads = tape._backward([tape._target(out)], [np.asarray(g, out_value.dtype)], leaves)
        return tuple(
            np.zeros_like(leaf.value) if gr is None else np.asarray(gr)
            for leaf, gr in zip(leaves, grads, strict=True)
        )

    return out_value, vjp_fn


def stop_gradient(x):
    """The plain value of `x`: a constant to every tape, as tf.stop_gradient."""
    return map_structure(_plain, x)
