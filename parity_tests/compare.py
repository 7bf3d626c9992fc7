"""Model-level parity: which layer of a port is the first to disagree with Keras, and how.

`compare_models(ref_model, keras_model, inputs)` runs the Keras model once, recording what each
of its layer calls received and returned. Every layer is then compared on its own, on the
inputs KERAS gave it (so an error upstream never blames a correct layer downstream): its output,
its weights after the call, its input gradient and its weight gradients for a random upstream
gradient, each judged by the harness's verdict (harness.py), with each side's own weights. The
first failing layer in execution order gets a hint from the error's shape (diagnose.py).

Neither model is changed: every weight is put back after the comparison, and the float64 truth
of a float32 comparison runs on copies made from each layer's config.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any

import numpy as np

from reference import nest

from . import bundle, diagnose, harness
from .verdict import ParityError, ParityReport, Row

TOLERANCE = {"float64": "1e-10 rel"}  # below float64: the truth-based rule (verdict.py)


@dataclasses.dataclass
class LayerRow:
    """One layer's verdict. status: "ok", "FAIL", "unsupported" (no reference class), "error"."""

    name: str
    cls: str
    status: str
    output_error: float | None = None  # max|ours - keras| / max|keras| over its outputs
    gradient_error: float | None = None  # the same, worst over input and weight gradients
    ratio: float | None = None  # ours/TF's error against the float64 truth (below float64)
    tolerance: str = ""
    hint: str = ""
    detail: str = ""
    first: bool = False  # the first diverging layer in execution order
    parity: ParityReport | None = None

    def as_dict(self) -> dict:
        out = {k: v for k, v in dataclasses.asdict(self).items() if k != "parity"}
        out["class"] = out.pop("cls")
        out["tensors"] = [
            {
                "tensor": r.tensor,
                "max_abs": _finite(r.max_abs),
                "max_rel": _finite(r.max_rel),
                "ratio": r.ratio,
                "ok": r.ok,
                "rule": r.rule,
                "note": r.note,
            }
            for r in (self.parity.rows if self.parity else [])
        ]
        for key in ("output_error", "gradient_error"):
            out[key] = _finite(out[key])
        return out


@dataclasses.dataclass
class ModelReport:
    """What compare_models measured: one row per layer call, in execution order."""

    rows: list[LayerRow]
    dtype: str
    training: bool
    end_to_end: float | None = None  # max|ref(x) - keras(x)| / max|keras(x)|, informative
    note: str = ""
    # (layer, tensor, |ours - keras| array, failed, max_rel): the tensor --plot draws
    worst: tuple | None = None

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.rows)

    @property
    def first_divergence(self) -> LayerRow | None:
        return next((r for r in self.rows if r.first), None)

    def table(self) -> str:
        lines = [
            f"   {'layer':<28} {'class':<22} {'out err':>8} {'grad err':>8} {'ours/TF':>7} "
            f"{'tolerance':<16} status"
        ]
        for r in self.rows:
            lines.append(
                f"{'>> ' if r.first else '   '}{r.name[:28]:<28} {r.cls[:22]:<22} "
                f"{_fmt(r.output_error)} {_fmt(r.gradient_error)} {_fmt(r.ratio, 7, '.2f')} "
                f"{r.tolerance:<16} {r.status}"
            )
            for label, text in (("hint", r.hint), ("detail", r.detail)):
                if text and (r.first or r.status in ("unsupported", "error") or label == "hint"):
                    lines.append(f"      {label}: " + text.replace("\n", "\n        "))
        passed = sum(r.status == "ok" for r in self.rows)
        first = self.first_divergence
        lines.append(
            f"{passed}/{len(self.rows)} layers agree (dtype {self.dtype}, training="
            f"{self.training}); "
            + (f"first divergence: {first.name} ({first.cls})" if first else "no divergence")
            + ("" if self.end_to_end is None else f"; end to end {self.end_to_end:.1e}")
        )
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def as_dict(self) -> dict:
        first = self.first_divergence
        return {
            "ok": self.ok,
            "dtype": self.dtype,
            "training": self.training,
            "end_to_end": _finite(self.end_to_end),
            "first_divergence": first.name if first else None,
            "note": self.note,
            "layers": [r.as_dict() for r in self.rows],
        }

    def save_json(self, path) -> None:
        with open(path, "w") as f:
            json.dump(self.as_dict(), f, indent=1)


def compare_models(
    ref_model: Any, keras_model: Any, inputs: Any, *, training: bool = False, seed: int = 0
) -> ModelReport:
    """Compare a reference model with a Keras 3 model layer by layer; see the module docstring.

    ref_model: a reference model whose layers carry the Keras layers' names (as loaded by
    reference.saving.load_model) or come in the same order; None rebuilds each layer from its
    Keras config and weights. A Keras layer the reference does not implement gets an
    "unsupported" row naming it and its class. inputs: an array, a list or a dict by input name.
    Returns a ModelReport (`.table()`, `.as_dict()`, `.save_json(path)`, `.ok`).
    """
    calls, keras_out = _keras_calls(keras_model, inputs, training)
    pairs = _pair(ref_model, [c[0] for c in calls])
    rows, report = [], ModelReport([], "", training)
    for (layer, args, kwargs), ours in zip(calls, pairs, strict=True):
        row = LayerRow(layer.name, type(layer).__name__, "error")
        first = not any(r.status == "FAIL" for r in rows)
        try:
            if ours is None:
                ours = _rebuild(layer, args)
            _compare_layer(row, ours, layer, args, kwargs, training, seed, report, first)
        except _Unsupported as e:
            row.status, row.detail = "unsupported", str(e)
        except Exception as e:  # noqa: BLE001 - one layer's crash is its row, not the report's
            row.detail = f"{type(e).__name__}: {e}"
        rows.append(row)
    first = next((r for r in rows if r.status == "FAIL"), None)
    if first is not None:
        first.first = True
    report.rows = rows
    report.dtype = next((r.parity.dtype for r in rows if r.parity), "float32")
    if ref_model is not None:
        report.end_to_end = _end_to_end(ref_model, keras_out, inputs, training)
    else:
        report.note = "each layer rebuilt from its Keras config and weights (no reference model)"
    return report


class _Unsupported(Exception):
    pass


def _keras_calls(model, inputs, training) -> tuple[list, list]:
    """[(layer, args, kwargs)] with NumPy values for every layer call of the Keras model, and
    its outputs. Calls run through the model's own graph; weights are restored afterwards."""
    import keras
    import tensorflow as tf

    graph = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    if not hasattr(graph, "_run_through_graph"):
        raise ValueError(
            "compare_models: the Keras model must be Sequential (with an Input) or functional; "
            f"received {type(model).__name__} '{model.name}' (a subclassed model, or a "
            "Sequential built without an Input, has no graph)."
        )
    flat = _flat_inputs(graph, inputs)
    calls, saved = [], model.get_weights()

    def wrap(op):
        if not isinstance(op, keras.layers.Layer) or isinstance(op, keras.layers.InputLayer):
            return op

        def run(*args, **kwargs):
            if "training" in inspect.signature(op.call).parameters:
                kwargs = {**kwargs, "training": training}
            out = op(*args, **kwargs)
            calls.append((op, nest.map_structure(_np, list(args)), _np_kwargs(kwargs)))
            return out

        return run

    try:
        out = graph._run_through_graph([tf.constant(x) for x in flat], operation_fn=wrap)
    finally:
        model.set_weights(saved)  # training=True moves BatchNormalization's statistics
    return calls, [_np(o) for o in nest.flatten(out)]


def _flat_inputs(graph, inputs) -> list:
    if isinstance(inputs, dict):
        missing = [x.name for x in graph.inputs if x.name not in inputs]
        if missing:
            raise ValueError(
                f"compare_models: inputs lack {missing}; received keys {sorted(inputs)}."
            )
        flat = [inputs[x.name] for x in graph.inputs]
    else:
        flat = nest.flatten(inputs)
    if len(flat) != len(graph.inputs):
        raise ValueError(
            f"compare_models: the model takes {len(graph.inputs)} input(s), received {len(flat)}."
        )
    out = []
    for x, spec in zip(flat, graph.inputs, strict=True):
        x = np.asarray(x)
        shape = tuple(spec.shape)
        if not bundle.shape_fits(x.shape, shape):
            raise ValueError(
                f"compare_models: input {spec.name!r} expects shape {shape}, received {x.shape}."
            )
        out.append(x.astype(spec.dtype) if x.dtype.kind == "f" else x)
    return out


def _np(x):
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return x


def _np_kwargs(kwargs: dict) -> dict:
    # Keras records mask=None on model calls: a None keyword is its default, and a reference
    # layer whose call takes no mask would refuse it.
    return {
        k: nest.map_structure(_np, v)
        for k, v in kwargs.items()
        if k != "training" and v is not None
    }


def _pair(ref_model, keras_layers: list) -> list:
    """The reference layer for each Keras layer call: by name, else by position."""
    if ref_model is None:
        return [None] * len(keras_layers)
    ref_layers = [x for x in ref_model.layers if type(x).__name__ != "InputLayer"]
    by_name = {x.name: x for x in ref_layers}
    if all(k.name in by_name for k in keras_layers):
        return [by_name[k.name] for k in keras_layers]
    unique = list({id(k): k for k in keras_layers}.values())
    if len(unique) == len(ref_layers):  # user-built models: same order, other names
        position = {id(k): i for i, k in enumerate(unique)}
        return [ref_layers[position[id(k)]] for k in keras_layers]
    return [by_name.get(k.name) for k in keras_layers]


def _rebuild(layer, args):
    """The reference's class for a Keras layer, from its config, with the Keras weights."""
    import keras

    from reference.saving.keras_file import deserialize

    entry = keras.saving.serialize_keras_object(layer)
    try:
        ours = deserialize(entry, None, "compare_models")
    except ValueError as e:
        raise _Unsupported(
            f"the reference has no class for layer '{layer.name}' ({type(layer).__name__}): {e}"
        ) from e
    inputs = args[0] if len(args) == 1 else list(args)
    ours(inputs)
    ours.set_weights(layer.get_weights())
    return ours


def _compare_layer(row, ours, theirs, args, kwargs, training, seed, report, first) -> None:
    """Fill `row` with the harness's verdict on one layer call (assert_parity's steps, with
    each side's own weights instead of fresh random ones)."""
    if len(args) != 1:
        raise ValueError(f"{len(args)} positional inputs (the harness takes one structure)")
    inputs = args[0]
    flat = [np.asarray(x) for x in nest.flatten(inputs)]

    def rebuild(xs):
        return nest.pack_sequence_as(inputs, list(xs))

    harness._build(ours, rebuild, flat)
    saved = [[w.numpy().copy() for w in layer.weights] for layer in (ours, theirs)]
    try:
        harness._check_weight_layout(ours, theirs)
    except ParityError as e:
        row.status, row.detail = "FAIL", str(e)
        row.hint = diagnose.layout_mismatch(ours, theirs)
        return
    dtype = np.dtype(ours.dtype).name
    row.tolerance = TOLERANCE.get(dtype, "16xTF + 4 ulp")
    takes = any("training" in inspect.signature(x.call).parameters for x in (ours, theirs))
    kwargs = {**kwargs, "training": training} if takes else dict(kwargs)
    rng = np.random.default_rng(seed)
    try:
        runs = [harness._run(theirs, flat, rebuild, kwargs, saved[1], rng)]
        runs.insert(0, harness._run(ours, flat, rebuild, kwargs, saved[0], runs[0].dys))
        up = [x.astype(np.float64) if harness._is_float(x) else x for x in flat]
        up_dys = [None if d is None else d.astype(np.float64) for d in runs[1].dys]
        up_values = [v.astype(np.float64) for v in saved[1]]
        oracle64 = theirs
        if dtype != "float64":
            for layer, values in zip((ours, theirs), saved, strict=True):
                oracle64 = harness._float64_copy(layer)
                harness._build(oracle64, rebuild, up)
                values64 = [v.astype(np.float64) for v in values]
                runs.append(harness._run(oracle64, up, rebuild, kwargs, values64, up_dys))
        rows = harness._compare_runs("", ours, runs, dtype)
        if not all(r.ok for r in rows):  # the harness's sensitivity step (harness.py)
            base = runs[3] if len(runs) > 2 else runs[1]
            again = harness._run(oracle64, up, rebuild, kwargs, up_values, up_dys)
            if harness._reproduces(base, again):
                eps, jitter = float(np.finfo(dtype).eps), np.random.default_rng(seed + 1)
                nudged = [harness._nudge(x, eps, jitter) for x in up]
                nudged_values = [harness._nudge(v, eps, jitter) for v in up_values]
                moved = harness._run(oracle64, nudged, rebuild, kwargs, nudged_values, up_dys)
                rows = harness._compare_runs("", ours, runs, dtype, (base, moved))
    finally:
        for layer, values in zip((ours, theirs), saved, strict=True):
            layer.set_weights(values)
    row.parity = ParityReport(rows, "each layer's own tape", dtype)
    row.output_error = row.parity.worst("output")
    row.gradient_error = row.parity.worst("d ")
    row.ratio = row.parity.ratio()
    row.status = "ok" if row.parity.ok else "FAIL"
    _keep_worst(report, row, rows, runs)
    if row.status == "FAIL" and first:
        row.hint = diagnose.hint(ours, theirs, rows, runs, saved, rebuild, flat, kwargs)


def _keep_worst(report: ModelReport, row: LayerRow, rows: list[Row], runs: list) -> None:
    """Keep |ours - keras| of the worst tensor of the first failing layer (else the worst)."""
    if len(rows) != len(runs[0].outputs) + len(runs[0].state) + len(runs[0].grads):
        return
    failed_before = report.worst is not None and report.worst[3]
    if failed_before:
        return
    i = int(np.argmax([r.max_rel if np.isfinite(r.max_rel) else -1.0 for r in rows]))
    if report.worst is not None and not row.status == "FAIL" and rows[i].max_rel <= report.worst[4]:
        return
    a = [*runs[0].outputs, *runs[0].state, *runs[0].grads][i]
    b = [*runs[1].outputs, *runs[1].state, *runs[1].grads][i]
    if a is None or b is None or np.shape(a) != np.shape(b):
        return
    diff = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    report.worst = (row.name, rows[i].tensor, diff, row.status == "FAIL", rows[i].max_rel)


def _end_to_end(ref_model, keras_out: list, inputs, training) -> float | None:
    saved = ref_model.get_weights()
    try:
        ours = [_np(o) for o in nest.flatten(ref_model(inputs, training=training))]
    except Exception:  # noqa: BLE001 - informative only; the per-layer rows carry the verdict
        return None
    finally:
        ref_model.set_weights(saved)  # training=True moves BatchNormalization's statistics
    worst = 0.0
    for a, b in zip(ours, keras_out, strict=False):
        if np.shape(a) != np.shape(b):
            return float("inf")
        scale = float(np.max(np.abs(b), initial=0.0)) or 1.0
        worst = max(worst, float(np.max(np.abs(np.asarray(a, np.float64) - b), initial=0)) / scale)
    return worst


def _finite(x):
    return None if x is None or not np.isfinite(x) else float(x)


def _fmt(value, width: int = 8, spec: str = ".1e") -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}{spec}}"
