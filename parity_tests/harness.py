"""The parity harness: one NumPy layer, one TensorFlow layer, same weights and inputs, compare.

`assert_parity` is the only logic of the parity suite; `cases.py` is its only data. It works on
any pair: a built-in reference layer and its twin, a reference layer and stock Keras, or your
own NumPy port and your own TF layer.

Error measure, per tensor: err = max|ref - tf|, scale = max|tf|; a tensor passes when
err <= atol + rtol * scale (a norm-wise relative test: elementwise relative errors explode
where values cancel to ~0, which says nothing about the implementation).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import tensorflow as tf

import reference

# Default tolerances (see docs/porting-guide.md, "Tolerances"). float64 is the tight tier: any
# larger difference is a bug. float32 allows rounding that grows with the reduction length of
# the worst tensor (matmul over 512 inputs, batch sums in gradients): about eps32 * sqrt(K) *
# a small constant, for K up to ~4096.
DEFAULT_TOLERANCES = {
    "float64": (1e-10, 1e-300),
    "float32": (2e-5, 1e-30),
    "float16": (4e-3, 1e-6),  # ~4 half-precision ulps (eps16 = 9.8e-4)
}


@dataclasses.dataclass
class Row:
    """One compared tensor."""

    tensor: str
    max_abs: float
    max_rel: float
    worst: tuple
    tolerance: float
    ok: bool


@dataclasses.dataclass
class ParityReport:
    """What assert_parity measured; `rows` has one entry per compared tensor."""

    rows: list[Row]
    gradient_method: str
    dtype: str

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def worst(self, prefix: str) -> float:
        """Largest norm-wise relative error over the tensors whose name starts with prefix."""
        return max((r.max_rel for r in self.rows if r.tensor.startswith(prefix)), default=0.0)

    def table(self) -> str:
        head = f"{'tensor':<34} {'max abs err':>12} {'max rel err':>12} {'worst index':>14}"
        lines = [head + f" {'tolerance':>10}  status"]
        for r in self.rows:
            lines.append(
                f"{r.tensor:<34} {r.max_abs:12.3e} {r.max_rel:12.3e} {str(r.worst):>14} "
                f"{r.tolerance:10.1e}  {'ok' if r.ok else 'FAIL'}"
            )
        lines.append(f"(gradients: {self.gradient_method}; dtype {self.dtype})")
        return "\n".join(lines)


class ParityError(AssertionError):
    """The two layers disagree; the message holds the comparison table."""


def assert_parity(
    ref_layer: reference.Layer,
    tf_layer: Any,
    inputs: Any,
    *,
    training: bool | None = False,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    finite_differences: bool = False,
    fd_epsilon: float = 1e-6,
) -> ParityReport:
    """Check that a NumPy layer and a TensorFlow layer compute the same thing.

    Builds both (one inference call each if unbuilt), checks that their weight names, shapes,
    trainability and order agree, gives both the same random non-degenerate weights (weights
    whose initial values are all positive, such as variances, stay positive), calls both on
    `inputs`, and compares the outputs, every weight after the call (state updates), and the
    gradients with respect to each float input and each trainable weight for a random upstream
    gradient (standard normal, never all ones).

    `finite_differences=True` takes the NumPy side's gradients from central differences of its
    forward pass instead of its GradientTape (for a `call` that uses an operation with no VJP
    rule); the reference layer must then be float64. Raises ParityError with a table on any
    mismatch; returns the ParityReport otherwise.
    """
    rng = np.random.default_rng(seed)
    flat_inputs = [np.asarray(x) for x in reference.nest.flatten(inputs)]
    dtype = np.dtype(ref_layer.dtype).name
    default_rtol, default_atol = DEFAULT_TOLERANCES.get(dtype, DEFAULT_TOLERANCES["float32"])
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if finite_differences and dtype != "float64":
        raise ValueError(
            "assert_parity(finite_differences=True) needs a float64 reference layer (central "
            f"differences in float32 are too coarse). Received a {dtype} layer "
            f"'{ref_layer.name}'; create it with dtype='float64'."
        )
    structure = inputs

    def rebuild(flat):
        return reference.nest.pack_sequence_as(structure, list(flat))

    for layer, convert in ((ref_layer, lambda a: a), (tf_layer, tf.constant)):
        if not layer.built:
            layer(rebuild([convert(x) for x in flat_inputs]))
    _check_weight_layout(ref_layer, tf_layer)
    values = [_fresh_value(w.numpy(), rng) for w in ref_layer.weights]
    ref_layer.set_weights(values)
    tf_layer.set_weights(values)

    # NumPy side. With finite differences the forward pass runs off the tape, since its call
    # may use operations that have no VJP rule.
    ref_weights = ref_layer.trainable_weights
    sources = [x for x in flat_inputs if _is_float(x)]
    if finite_differences:
        ref_out = ref_layer(rebuild(flat_inputs), training=training)
    else:
        with reference.GradientTape() as tape:
            watched = [tape.watch(x) if _is_float(x) else x for x in flat_inputs]
            ref_out = ref_layer(rebuild(watched), training=training)
    ref_out_value = np.asarray(ref_out)
    ref_state = ref_layer.get_weights()
    dy = rng.standard_normal(ref_out_value.shape).astype(ref_out_value.dtype)
    if finite_differences:
        ref_grads = _finite_difference_grads(
            ref_layer, rebuild, flat_inputs, dy, training, fd_epsilon, values
        )
        ref_layer.set_weights(ref_state)
        method = f"NumPy side by central differences (eps={fd_epsilon:g})"
    else:
        tracked = [x for x in watched if isinstance(x, reference.TrackedArray)]
        ref_grads = tape.gradient(ref_out, [*tracked, *ref_weights], dy)
        method = "NumPy side by reference.GradientTape"

    # TensorFlow side.
    tf_inputs = [tf.constant(x) for x in flat_inputs]
    tf_weights = tf_layer.trainable_weights
    with tf.GradientTape() as tf_tape:
        for x in tf_inputs:
            if _is_float(x.numpy()):
                tf_tape.watch(x)
        tf_out = tf_layer(rebuild(tf_inputs), training=training)
    tf_sources = [x for x in tf_inputs if _is_float(x.numpy())]
    tf_grads = tf_tape.gradient(tf_out, [*tf_sources, *tf_weights], tf.constant(dy))

    rows = [_compare("output", ref_out_value, np.asarray(tf_out), rtol, atol)]
    for w, a, b in zip(ref_layer.weights, ref_state, tf_layer.get_weights(), strict=True):
        rows.append(_compare(f"weight {w.name} after call", a, b, rtol, atol))
    names = [f"d input {i}" for i in range(len(sources))] + [f"d {w.name}" for w in ref_weights]
    for name, a, b in zip(names, ref_grads, tf_grads, strict=True):
        rows.append(_compare(name, a, b, rtol, atol))
    report = ParityReport(rows, method, dtype)
    if not report.ok:
        raise ParityError(
            f"{type(ref_layer).__name__} '{ref_layer.name}' vs {type(tf_layer).__name__} "
            f"'{tf_layer.name}' disagree:\n{report.table()}"
        )
    return report


def _is_float(x) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _check_weight_layout(ref_layer, tf_layer) -> None:
    def layout(layer):
        return [(_bare_name(w.name), tuple(w.shape), bool(w.trainable)) for w in layer.weights]

    ref, tfl = layout(ref_layer), layout(tf_layer)
    if ref != tfl:
        raise ParityError(
            f"Weight layout differs between {type(ref_layer).__name__} '{ref_layer.name}' and "
            f"{type(tf_layer).__name__} '{tf_layer.name}' (name, shape, trainable, in order):\n"
            f"  NumPy:      {ref}\n  TensorFlow: {tfl}"
        )


def _bare_name(name: str) -> str:
    """Keras 2 (tf_keras) names weights "scope/kernel:0"; Keras 3 and the reference "kernel"."""
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def _fresh_value(initial: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random weight of the same shape: positive stays positive (variances, scales)."""
    if initial.size and np.all(initial > 0):
        return (initial * rng.uniform(0.5, 1.5, initial.shape)).astype(initial.dtype)
    return (initial + rng.normal(0.0, 0.5, initial.shape)).astype(initial.dtype)


def _compare(name: str, a, b, rtol: float, atol: float) -> Row:
    if a is None or b is None:
        ok = a is None and b is None
        return Row(name + (" (None on both)" if ok else " (None on one side)"), 0.0 if ok else
                   np.inf, 0.0 if ok else np.inf, (), rtol, ok)  # fmt: skip
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return Row(f"{name} shape {a.shape} vs {b.shape}", np.inf, np.inf, (), rtol, False)
    diff = np.abs(a - b)
    diff = np.where(np.isnan(a) & np.isnan(b), 0.0, diff)  # NaN in both is agreement
    diff = np.where(np.isinf(a) & (a == b), 0.0, diff)
    max_abs = float(np.max(diff)) if diff.size else 0.0
    finite = np.abs(b[np.isfinite(b)])
    scale = float(np.max(finite)) if finite.size else 0.0
    worst = (
        tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape)) if diff.size else ()
    )
    ok = bool(max_abs <= atol + rtol * scale)  # False for NaN or inf errors
    return Row(name, max_abs, max_abs / scale if scale else max_abs, worst, rtol, ok)


def _finite_difference_grads(layer, rebuild, flat_inputs, dy, training, eps, values) -> list:
    """Central differences of <dy, layer(x)> w.r.t. each float input and trainable weight."""

    def objective() -> float:
        layer.set_weights(values_now)
        out = np.asarray(layer(rebuild(inputs_now), training=training))
        return float(np.sum(dy * out))

    values_now = [v.copy() for v in values]
    inputs_now = [x.astype(np.float64) if _is_float(x) else x for x in flat_inputs]
    index = {id(w): i for i, w in enumerate(layer.weights)}
    targets = [(inputs_now, i) for i, x in enumerate(inputs_now) if _is_float(x)]
    targets += [(values_now, index[id(w)]) for w in layer.trainable_weights]
    grads = []
    for container, i in targets:
        base = container[i]
        grad = np.zeros(base.shape)
        for j in np.ndindex(base.shape):
            for sign in (1.0, -1.0):
                bumped = base.copy()
                bumped[j] += sign * eps
                container[i] = bumped
                grad[j] += sign * objective() / (2 * eps)
        container[i] = base
        grads.append(grad)
    return grads


def run_case(case, dtype: str, oracle: str, seed: int = 0) -> ParityReport:
    """Run one row of cases.py: the reference layer against its twin or against stock Keras."""
    import keras

    import tf_layers
    from reference import examples as ref_examples

    from .cases import config_for

    config = config_for(case, dtype)
    ref_cls = getattr(reference.layers, case.layer, None) or getattr(ref_examples, case.layer)
    if oracle == "twin":
        other_cls = getattr(tf_layers, case.layer, None) or getattr(tf_layers.examples, case.layer)
    else:
        other_cls = getattr(keras.layers, case.layer)
    x = np.random.default_rng(seed).standard_normal(case.input_shape).astype(dtype)
    return assert_parity(
        ref_cls(**config),
        other_cls(**config),
        x,
        training=case.training,
        rtol=case.rtol.get(dtype),
        seed=seed,
    )
