"""The layer side of the VJP seam: a layer's hand-written backward pass, fed by its forward.

The contract (the shape of `jax.custom_vjp`, adapted to layers; docs/porting-guide.md, section 4):

    def call(self, inputs, training=None):          # the readable forward
    def vjp_fwd(self, inputs, training=None):       # -> (outputs, residuals) or NotImplemented
    def vjp_bwd(self, residuals, output_grads):     # -> (input_grads, {weight path: grad})

- `vjp_fwd` computes what `call` computes, bit for bit (a test pins it), with the same state
  updates, and returns what the backward pass needs (a small NamedTuple): pre-activations,
  normalized values, the weight values it read. It runs on plain arrays with the tape paused.
  It returns NotImplemented, before changing any state, where its backward would not be exact
  (an activation without a registered rule, say): the tape then traces `call` op by op.
- `vjp_bwd` is pure given the residuals: it never reads or writes a Variable. It returns the
  input gradients in the structure of the inputs, and a dict with exactly one entry per weight
  of the layer, keyed by its path relative to the layer (`"kernel"`, `"cell/kernel"`), None for
  a weight the outputs do not depend on. Anything else is an error, never a silent broadcast.
- A `vjp_bwd` that takes the keyword `needs_input_grads` gets one bool per flattened input:
  False for an input no source of the gradient reaches (a model's own input), whose gradient
  it may skip (None): Dense skips its dx GEMM so, and the convolutions their conv_transpose.
  Without the keyword every input is wanted.
  None for a wanted float input is an error (a forgotten gradient is never read as zero).
- The pair is used only when `call`, `vjp_fwd` and `vjp_bwd` are defined on the same class: a
  subclass that overrides `call` is traced (a parent's VJP was written for the parent's call).
- Residuals belong to the tape node, and are freed with the tape. Outside a tape, `call` runs
  and nothing is saved.
- When a tape records the backward pass itself (higher-order gradients), the node replays
  `call` under the tape with the weight values of the forward pass (no Variable is written) and
  differentiates that: hand-written backward passes need not be differentiable themselves.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from .. import activations
from ..autodiff import rule_for
from ..autodiff import tape as _tape
from ..autodiff import vjp as traced_vjp
from ..autodiff.tracked import TrackedArray, _own, _plain, _tapes, recording_tapes
from ..nest import flatten, pack_sequence_as


def has_fused_vjp(cls: type) -> bool:
    """True when the class that defines the `call` that runs also defines vjp_fwd and vjp_bwd."""
    for klass in cls.__mro__:
        if "call" in klass.__dict__:
            return "vjp_fwd" in klass.__dict__ and "vjp_bwd" in klass.__dict__
    return False


def fusable_activation(activation) -> bool:
    """Whether a layer VJP may differentiate `activation` itself: a built-in activation (its
    registered rule, or its own recorded NumPy calls). A user's callable may read Variables the
    VJP would not know about, so a layer with one is traced instead (vjp_fwd: NotImplemented)."""
    if activation is activations.linear:
        return True
    try:
        rule_for(activation)
        return True
    except KeyError:
        pass
    name = getattr(activation, "__name__", None)
    return getattr(activations, str(name), None) is activation


def activation_forward(activation, z):
    """y = activation(z) and its pullback rule(g, y, z) -> dz for a layer's residuals: None
    for linear, the registered rule (TF's kernel formula) where there is one, else the
    activation's own recorded NumPy calls, traced once here in the forward pass."""
    if activation is activations.linear:
        return z, None
    try:
        rule = rule_for(activation)
        return activation(z), rule
    except KeyError:
        y, pullback = traced_vjp(activation, z)
        return y, lambda g, y, z: pullback(g)[0]


def weight_paths(layer) -> list[tuple[str, Any]]:
    """(path relative to `layer`, variable) for every weight, in `layer.weights` order (own
    trainable, own non-trainable, then each sub-layer's)."""
    out = [(v.name, v) for v in (*layer._trainable_variables, *layer._non_trainable_variables)]
    seen = {id(v) for _, v in out}
    for sub in layer._sublayers():
        for path, v in weight_paths(sub):
            if id(v) not in seen:
                seen.add(id(v))
                out.append((f"{sub.name}/{path}", v))
    return out


def call_with_vjp(layer, inputs, kwargs: dict):
    """Run one layer call through vjp_fwd and record it as a single tape node.

    Returns the outputs, or NotImplemented when the call must be traced instead.
    """
    paths = weight_paths(layer)
    seen = [(path, w, w._value) for path, w in paths]  # the values this forward pass reads
    leaves = [_tape.leaf_for(w, value, w.trainable) for _, w, value in seen]
    flat_in = flatten(inputs)
    tracked_in = [x for x in flat_in if isinstance(x, TrackedArray)]
    weight_leaves = [(path, leaf) for (path, _, _), leaf in zip(seen, leaves, strict=True)
                     if leaf is not None]  # fmt: skip
    if not recording_tapes(tracked_in + [leaf for _, leaf in weight_leaves]):
        return NotImplemented  # nothing to differentiate: plain `call`
    # The caller's writable arrays are copied: mutating them later must not change a gradient.
    raw_inputs = pack_sequence_as(inputs, [_own(_plain(x)) for x in flat_in])
    with _tape.paused():
        result = layer.vjp_fwd(raw_inputs, **kwargs)
    if result is NotImplemented:
        return NotImplemented
    outputs, residuals = result
    flat_out = flatten(outputs)
    name = f"{type(layer).__name__}.vjp_bwd"
    in_slots = [i for i, x in enumerate(flat_in) if isinstance(x, TrackedArray)]

    def pullback(gs, need, traced):
        full = _output_grads(flat_out, gs)
        if traced:
            return _replay(layer, inputs, kwargs, seen, leaves, flat_out, full, tracked_in,
                           weight_leaves)  # fmt: skip
        grads = pack_sequence_as(outputs, full)
        if _takes_needs(type(layer)):  # PyTorch's ctx.needs_input_grad: skip unwanted dx
            wanted = [False] * len(flat_in)
            for slot, n in zip(in_slots, need[: len(in_slots)], strict=True):
                wanted[slot] = n
            dx, dw = layer.vjp_bwd(residuals, grads, needs_input_grads=tuple(wanted))
        else:
            dx, dw = layer.vjp_bwd(residuals, grads)
        flat_dx = _check_input_grads(name, inputs, dx)
        for slot, n in zip(in_slots, need[: len(in_slots)], strict=True):
            if n and flat_dx[slot] is None and flat_in[slot].dtype.kind == "f":
                # A dropped gradient would read as "no dependence": never silently.
                raise ValueError(
                    f"{name} returned None for float input {slot}, whose gradient is needed; "
                    "return zeros if the outputs do not depend on it (None is for non-float "
                    "inputs, or ones the call did not ask for via needs_input_grads)."
                )
        _check_weight_grads(name, [p for p, _, _ in seen], dw)
        return [flat_dx[i] for i in in_slots] + [dw[path] for path, _ in weight_leaves]

    tracked = _tape.record_node(
        tracked_in + [leaf for _, leaf in weight_leaves], flat_out, pullback, name
    )
    return pack_sequence_as(outputs, tracked)


@functools.cache
def _takes_needs(cls: type) -> bool:
    """Whether `cls.vjp_bwd` accepts the optional keyword `needs_input_grads`."""
    return "needs_input_grads" in inspect.signature(cls.vjp_bwd).parameters


def _output_grads(flat_out: list, gs: list) -> list:
    """One gradient per output: zeros for a float output that got none, None for the rest."""
    it = iter(gs)
    full = []
    for o in flat_out:
        if isinstance(o, np.ndarray | np.generic) and np.asarray(o).dtype.kind == "f":
            g = next(it)
            full.append(np.zeros_like(o) if g is None else g)
        else:
            full.append(None)
    return full


def _check_input_grads(name: str, inputs, dx) -> list:
    flat_in, flat_dx = flatten(inputs), flatten(dx)
    if len(flat_dx) != len(flat_in):
        raise ValueError(
            f"{name} returned {len(flat_dx)} input gradient(s) for {len(flat_in)} input(s); "
            "return them in the structure of the inputs (None for a non-float input)."
        )
    return flat_dx


def _check_weight_grads(name: str, paths: list[str], dw: dict) -> None:
    if not isinstance(dw, dict):
        raise TypeError(f"{name} must return a dict of weight gradients; got {type(dw)}.")
    missing = [p for p in paths if p not in dw]
    unknown = [k for k in dw if k not in paths]
    if missing or unknown:
        raise ValueError(
            f"{name} returned weight gradients keyed {sorted(dw)}; the layer's weights are "
            f"{paths}. Missing: {missing}; unknown: {unknown}. Return one entry per weight "
            "(None where the outputs do not depend on it)."
        )


def _replay(layer, inputs, kwargs, seen, leaves, flat_out, gs, tracked_in, weight_leaves):
    """The backward pass of one call, recorded: `call` replayed under a tape with the forward
    pass's weight values, then differentiated with the recording tapes active."""
    reads = {id(w): (value if leaf is None else leaf)
             for (_, w, value), leaf in zip(seen, leaves, strict=True)}  # fmt: skip
    sources = tracked_in + [leaf for _, leaf in weight_leaves]
    inner = _tape.GradientTape(watch_accessed_variables=False, use_layer_vjps=False)
    with _tape.replaying(reads), _tape._swap_tapes([*_tapes(), inner]):
        inner._active = True
        for s in sources:
            inner.watch(s)
        out = layer.call(inputs, **kwargs)
        inner._stop()
    flat = flatten(out)
    seeds = [g for g in gs if g is not None]
    targets = [x for x, g in zip(flat, gs, strict=True) if g is not None]
    return inner.gradient(targets, sources, output_gradients=seeds)
