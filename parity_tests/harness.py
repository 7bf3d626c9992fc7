"""The parity harness: a layer under test, an oracle TF layer, same weights and inputs, compare.

`assert_parity` is the only comparison logic of the parity suite; `cases.py` is its only data.
It works on any pair: a reference layer and its TF twin, a reference layer and stock Keras, a
TF twin and stock Keras (the layer under test may be a TF layer too), or your own NumPy port
and your own TF layer. Compared, per tensor: outputs, every weight after the call (state
updates), and the gradients w.r.t. each float input and EVERY weight (non-trainable ones are
watched explicitly on both tapes) for a random upstream gradient. Layers whose `call` takes
`training` are compared in both modes unless `training=` says otherwise.

The verdict, per tensor (no tolerance is tuned per case). S, the oracle's sensitivity, is
max|oracle64(x~, w~) - oracle64(x, w)| with every float input and weight nudged by one rounding
of the tested dtype, x~ = x (1 + eps u), u ~ U(-1, 1): what a backward-stable implementation
may differ by. It is computed only when a tensor fails without it (it can only widen a bound),
and only for an oracle that a rerun on the same values reproduces (not for random layers).

- float64: max|ours - tf| <= FLOAT64_RTOL * max|tf| + C_TF * S (1e-10 norm-wise: more is a
  bug; S matters only where a tensor cancels to ~eps of its terms).
- float32 / float16: against a float64 truth. The layer under test and the oracle are both run
  again in float64 on the same weights, inputs and upstream gradient cast up exactly; the
  float64 run of the layer under test is the truth, and it must first agree with the float64
  oracle by the float64 rule (so a bug shared by both precisions cannot hide in the truth).
  Then, elementwise, with ulp = the spacing of the tested dtype at |truth|:
      |ours - truth| <= C_TF * max(max|tf - truth|, S) + K_ULPS * ulp(|truth|)
  with C_TF = 16 and K_ULPS = 4.
  A correct layer passes where a gradient cancels to ~0, because the oracle's own error (or its
  sensitivity) there is as large; an error in a component far smaller than the rest of the
  tensor (a sign flip) fails, because it is far above both the oracle's rounding and that
  component's ulps. Non-finite values must agree exactly (NaN with NaN, inf with the same inf).
- finite_differences=True (float64 only): the layer under test's gradients come from
  `reference.testing.numerical_vjp`; elementwise |fd - tf| <= fd.error + FLOAT64_RTOL *
  max|tf|, where fd.error is the method's own bound (Richardson truncation + rounding).

`ours/TF's` in the report is max|ours - truth| / max|tf - truth|, TF's error floored at half an
ulp of the tensor's largest value; about 1 for a faithful port.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import sys
from typing import Any

import numpy as np
import tensorflow as tf

import reference
from reference import nest
from reference import testing as fd_testing

from .verdict import (  # noqa: F401  (re-exported: the harness is the public entry point)
    C_TF,
    DEFAULT_TOLERANCES,
    FLOAT64_RTOL,
    K_ULPS,
    ParityError,
    ParityReport,
    Row,
    _max_abs_diff,
    compare_tensors,
    judge,
)

BOTH = "both"  # training=BOTH: False and True when the call takes `training`


def assert_parity(
    ours: Any,
    theirs: Any,
    inputs: Any,
    *,
    training: bool | None | str = BOTH,
    seed: int = 0,
    finite_differences: bool = False,
    float64_layers: tuple | None = None,
    call_kwargs: dict | None = None,
) -> ParityReport:
    """Check that a layer (NumPy, or TF) computes what a TF oracle layer computes.

    Builds both (one call each if unbuilt), checks that their weight names, shapes,
    trainability and order agree, gives both the same random non-degenerate weights (weights
    whose initial values are all positive, such as variances, stay positive), calls both on
    `inputs` (plus `call_kwargs`, e.g. a mask), and compares per the module docstring.

    training: True, False or None for one mode; BOTH (default) for False and True when the
    call takes `training`. float64_layers: (ours, theirs) in float64 for the truth of a
    float32/float16 comparison; by default made with from_config. finite_differences: the
    gradients of `ours` (a float64 reference layer) by central differences instead of its tape.
    Raises ParityError with a table on any mismatch; returns the ParityReport otherwise.
    """
    rng = np.random.default_rng(seed)
    flat = [np.asarray(x) for x in nest.flatten(inputs)]
    dtype = np.dtype(ours.dtype).name
    if finite_differences and (dtype != "float64" or not _is_reference(ours)):
        raise ValueError(
            "assert_parity(finite_differences=True) needs a float64 reference layer (central "
            f"differences in lower precision are too coarse). Received {type(ours).__name__} "
            f"'{ours.name}' with dtype {dtype}; create it with dtype='float64'."
        )

    def rebuild(xs):
        return nest.pack_sequence_as(inputs, list(xs))

    _build(ours, rebuild, flat)
    _build(theirs, rebuild, flat)
    _check_weight_layout(ours, theirs)
    values = [_fresh_value(w.numpy(), rng) for w in ours.weights]
    truth_pair = None
    if dtype != "float64":
        truth_pair = float64_layers or (_float64_copy(ours), _float64_copy(theirs))
        up = [x.astype(np.float64) if _is_float(x) else x for x in flat]
        for layer in truth_pair:
            _build(layer, rebuild, up)
        _check_weight_layout(*truth_pair)
    call_kwargs = dict(call_kwargs or {})
    modes = _modes(training, ours, theirs)
    rows = []
    for mode in modes:
        prefix = f"[training={mode}] " if len(modes) > 1 else ""
        kwargs = dict(call_kwargs) if mode == "absent" else {**call_kwargs, "training": mode}
        theirs_run = _run(theirs, flat, rebuild, kwargs, values, rng)
        dys = theirs_run.dys
        ours_run = _run(ours, flat, rebuild, kwargs, values, dys, finite_differences)
        runs = [ours_run, theirs_run]
        up = [x.astype(np.float64) if _is_float(x) else x for x in flat]
        up_dys = [None if d is None else d.astype(np.float64) for d in dys]
        up_values = [v.astype(np.float64) for v in values]
        if truth_pair is not None:
            runs += [_run(layer, up, rebuild, kwargs, up_values, up_dys) for layer in truth_pair]
        mode_rows = _compare_runs(prefix, ours, runs, dtype)
        if not all(r.ok for r in mode_rows) and not finite_differences:
            # The oracle's sensitivity to one rounding of its inputs and weights (module
            # docstring): computed only when needed, since it can only widen the bound.
            # A rerun on the same values must reproduce the oracle: a random one (noise,
            # dropout) would move by far more than a rounding and excuse any error.
            oracle64 = truth_pair[1] if truth_pair is not None else theirs
            base = runs[3] if truth_pair is not None else theirs_run
            again = _run(oracle64, up, rebuild, kwargs, up_values, up_dys)
            if _reproduces(base, again):
                eps = float(np.finfo(dtype).eps)
                jitter = np.random.default_rng(seed + 1)
                nudged = [_nudge(x, eps, jitter) for x in up]
                nudged_values = [_nudge(v, eps, jitter) for v in up_values]
                moved = _run(oracle64, nudged, rebuild, kwargs, nudged_values, up_dys)
                mode_rows = _compare_runs(prefix, ours, runs, dtype, (base, moved))
            else:
                for r in mode_rows:
                    if not r.ok:
                        r.note += "; oracle not deterministic (a rerun differs): no sensitivity"
        rows += mode_rows
    method = (
        "central differences (reference.testing.numerical_vjp)"
        if finite_differences
        else "each layer's own tape"
    )
    report = ParityReport(rows, method, dtype)
    if not report.ok:
        raise ParityError(
            f"{type(ours).__name__} '{ours.name}' vs {type(theirs).__name__} "
            f"'{theirs.name}' disagree:\n{report.table()}",
            report,
        )
    return report


@dataclasses.dataclass
class _Run:
    names: list  # gradient names, in order: inputs then weights
    outputs: list  # float arrays (None for non-float outputs)
    state: list
    grads: list
    dys: list  # the upstream gradients used, one per output (None for non-float ones)
    fd_error: list | None = None


def _is_reference(layer) -> bool:
    return isinstance(layer, reference.Layer)


def _is_float(x) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _value(x) -> np.ndarray | None:
    if x is None:
        return None
    if isinstance(x, tf.IndexedSlices):  # tf.gather's gradient: densify
        x = tf.convert_to_tensor(x)
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _tf_variable(w):
    """The tf.Variable behind a Keras 3 variable (tapes watch those); Keras 2's is one."""
    value = getattr(w, "value", w)
    return w if callable(value) else value


def _build(layer, rebuild, flat) -> None:
    if not layer.built:
        layer(rebuild(flat if _is_reference(layer) else [tf.constant(x) for x in flat]))


def _modes(training, ours, theirs) -> list:
    if training != BOTH:
        return [training]
    takes = any("training" in inspect.signature(layer.call).parameters for layer in (ours, theirs))
    return [False, True] if takes else ["absent"]


def _run(layer, flat, rebuild, kwargs, values, dys, finite_differences=False) -> _Run:
    """Call `layer` from `values` on `flat`; gradients of sum(dy * y) w.r.t. inputs and weights."""
    layer.set_weights(values)
    sources = [i for i, x in enumerate(flat) if _is_float(x)]
    names = [f"d input {i}" for i in range(len(sources))] + [
        f"d {_bare_name(w.name)}" for w in layer.weights
    ]
    if not _is_reference(layer):
        xs = [tf.constant(x) for x in flat]
        kw = {k: tf.constant(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        with tf.GradientTape() as tape:
            for i in sources:
                tape.watch(xs[i])
            for w in layer.weights:
                tape.watch(_tf_variable(w))
            out = nest.flatten(layer(rebuild(xs), **kw))
        outputs = [_value(o) if _is_float(_value(o)) else None for o in out]
        state = layer.get_weights()
        if isinstance(dys, np.random.Generator):  # the oracle draws the upstream gradients
            dys = [
                None if y is None else dys.standard_normal(y.shape).astype(y.dtype) for y in outputs
            ]
        pairs = [(o, tf.constant(d)) for o, d in zip(out, dys, strict=True) if d is not None]
        grads = tape.gradient(
            [o for o, _ in pairs],
            [xs[i] for i in sources] + [_tf_variable(w) for w in layer.weights],
            output_gradients=[d for _, d in pairs],
        )
        return _Run(names, outputs, state, [_value(g) for g in grads], dys)
    if finite_differences:
        return _finite_difference_run(layer, flat, rebuild, kwargs, values, dys, names, sources)
    with reference.GradientTape() as tape:
        xs = [tape.watch(x) if i in sources else x for i, x in enumerate(flat)]
        for w in layer.weights:
            tape.watch(w)
        out = nest.flatten(layer(rebuild(xs), **kwargs))
    outputs = [_value(o) if _is_float(_value(o)) else None for o in out]
    state = layer.get_weights()
    if len(dys) != len(out):
        return _Run(names, outputs, state, [], dys)  # reported as an output-count mismatch
    pairs = [(o, d.astype(_value(o).dtype)) for o, d in zip(out, dys, strict=True) if d is not None]
    grads = tape.gradient(
        [o for o, _ in pairs],
        [xs[i] for i in sources] + list(layer.weights),
        output_gradients=[d for _, d in pairs],
    )
    return _Run(names, outputs, state, [_value(g) for g in grads], dys)


def _finite_difference_run(layer, flat, rebuild, kwargs, values, dys, names, sources) -> _Run:
    out = nest.flatten(layer(rebuild(flat), **kwargs))
    outputs = [_value(o) if _is_float(_value(o)) else None for o in out]
    state = layer.get_weights()
    n = len(sources)

    def fun(*args):  # the layer as a function of its float inputs and all its weights
        xs = list(flat)
        for i, a in zip(sources, args[:n], strict=True):
            xs[i] = a
        layer.set_weights(list(args[n:]))
        return [
            o
            for o, d in zip(nest.flatten(layer(rebuild(xs), **kwargs)), dys, strict=True)
            if d is not None
        ]

    primals = [flat[i] for i in sources] + list(values)
    fds = fd_testing.numerical_vjp(fun, primals, [d for d in dys if d is not None])
    layer.set_weights(state)
    return _Run(names, outputs, state, [f.value for f in fds], dys, [f.error for f in fds])


def _reproduces(a: _Run, b: _Run) -> bool:
    """Every tensor of run b equals run a's to FLOAT64_RTOL of its size."""
    pairs = zip([*a.outputs, *a.state, *a.grads], [*b.outputs, *b.state, *b.grads], strict=True)
    return all(
        _max_abs_diff(p, q) <= FLOAT64_RTOL * _max_abs_diff(p, np.zeros(np.shape(p)))
        for p, q in pairs
        if p is not None
    )


def _nudge(x, eps, rng):
    """x * (1 + eps * u), u ~ U(-1, 1) elementwise: one rounding's worth of perturbation."""
    if not _is_float(x):
        return x
    return x * (1.0 + eps * rng.uniform(-1.0, 1.0, np.shape(x)))


def _compare_runs(prefix, ours, runs, dtype, sensitivity=None) -> list[Row]:
    def tensors(run):
        return [*run.outputs, *run.state, *run.grads]

    a, b = runs[0], runs[1]
    names = ["output" if len(b.outputs) == 1 else f"output {i}" for i in range(len(b.outputs))]
    names += [f"weight {_bare_name(w.name)} after call" for w in ours.weights]
    names += b.names
    if len(a.outputs) != len(b.outputs):
        return [
            Row(
                f"{prefix}outputs",
                np.inf,
                np.inf,
                (),
                False,
                "count",
                note=f"ours returned {len(a.outputs)} tensors, TF {len(b.outputs)}",
            )
        ]
    truth = list(zip(tensors(runs[2]), tensors(runs[3]), strict=True)) if len(runs) > 2 else None
    fd = [None] * (len(names) - len(a.grads)) + a.fd_error if a.fd_error else None
    sens = [0.0] * len(names)
    if sensitivity is not None:
        sens = [_max_abs_diff(p, q) for p, q in zip(*map(tensors, sensitivity), strict=True)]
    rows = []
    for i, (name, x, y) in enumerate(zip(names, tensors(a), tensors(b), strict=True)):
        rows.append(judge(prefix + name, x, y, dtype, truth and truth[i], fd and fd[i], sens[i]))
    return rows


def _check_weight_layout(ours, theirs) -> None:
    def layout(layer):
        return [(_bare_name(w.name), tuple(w.shape), bool(w.trainable)) for w in layer.weights]

    a, b = layout(ours), layout(theirs)
    if a != b:
        raise ParityError(
            f"Weight layout differs between {type(ours).__name__} '{ours.name}' and "
            f"{type(theirs).__name__} '{theirs.name}' (name, shape, trainable, in order):\n"
            f"  ours:       {a}\n  TensorFlow: {b}"
        )


def _bare_name(name: str) -> str:
    """Keras 2 (tf_keras) names weights "scope/kernel:0"; Keras 3 and the reference "kernel"."""
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def _fresh_value(initial: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random weight of the same shape: positive stays positive (variances, scales)."""
    if initial.size and np.all(initial > 0):
        return (initial * rng.uniform(0.5, 1.5, initial.shape)).astype(initial.dtype)
    return (initial + rng.normal(0.0, 0.5, initial.shape)).astype(initial.dtype)


@contextlib.contextmanager
def floatx(dtype: str):
    """reference, Keras 3 (and Keras 2 when loaded) create layers in `dtype` by default."""
    import keras

    import reference.config

    tf_keras = sys.modules.get("tf_keras")
    saved = (
        reference.config.floatx(),
        keras.config.floatx(),
        keras.config.dtype_policy(),
        tf_keras.backend.floatx() if tf_keras else None,
        reference.config.dtype_policy(),
    )
    reference.config.set_floatx(dtype)
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)  # Keras caches the policy it derived from floatx
    reference.config.set_dtype_policy(dtype)  # and reference.config mirrors that cache
    if tf_keras:
        tf_keras.backend.set_floatx(dtype)
    try:
        yield
    finally:
        reference.config.set_floatx(saved[0])
        keras.config.set_floatx(saved[1])
        keras.config.set_dtype_policy(saved[2])
        reference.config.set_dtype_policy(saved[4])
        if tf_keras:
            tf_keras.backend.set_floatx(saved[3])


def _float64_copy(layer):
    """The same layer in float64, from its config (for the truth of a low-precision run)."""
    problem = ""
    try:
        config = layer.get_config()
        try:
            copy = type(layer).from_config({**config, "dtype": "float64"})
        except (TypeError, ValueError):  # a constructor without `dtype`: floatx decides
            params = inspect.signature(type(layer).__init__).parameters
            if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                config = {k: v for k, v in config.items() if k in params}
            with floatx("float64"):
                copy = type(layer)(**{k: v for k, v in config.items() if k != "dtype"})
        if np.dtype(copy.dtype) == np.float64:
            return copy
        problem = f"the copy's dtype is {copy.dtype}"
    except Exception as e:  # noqa: BLE001 - any failure gets the same advice
        problem = f"{type(e).__name__}: {e}"
    raise ValueError(
        f"assert_parity: a {layer.dtype} comparison is judged against a float64 truth, but no "
        f"float64 copy of {type(layer).__name__} '{layer.name}' could be made from its config "
        f"({problem}). Pass float64_layers=(ours_in_float64, theirs_in_float64)."
    )


def run_case(case, dtype: str, oracle: str, seed: int = 0) -> ParityReport:
    """Run one row of cases.py: 'twin' (reference vs twin), 'keras' (reference vs stock
    Keras) or 'twin-keras' (the TF twin vs stock Keras)."""
    import keras

    import tf_layers
    from reference import examples as ref_examples

    from .cases import config_for

    ref_cls = getattr(reference.layers, case.layer, None) or getattr(ref_examples, case.layer)
    twin_cls = getattr(tf_layers, case.layer, None) or getattr(tf_layers.examples, case.layer)
    ours_cls, theirs_cls = {
        "twin": (ref_cls, twin_cls),
        "keras": (ref_cls, getattr(keras.layers, case.layer, None)),
        "twin-keras": (twin_cls, getattr(keras.layers, case.layer, None)),
    }[oracle]

    def make(cls, d):
        with floatx(d):
            return cls(**config_for(case, d))

    rng = np.random.default_rng(seed)
    x = rng.normal(case.x_mean, case.x_std, case.input_shape).astype(dtype)
    call_kwargs = {}
    if case.mask_shape:
        call_kwargs["mask"] = rng.random(case.mask_shape) < 0.7
    pair64 = (
        None if dtype == "float64" else (make(ours_cls, "float64"), make(theirs_cls, "float64"))
    )
    return assert_parity(
        make(ours_cls, dtype),
        make(theirs_cls, dtype),
        x,
        training=case.training,
        seed=seed,
        float64_layers=pair64,
        call_kwargs=call_kwargs,
    )
