"""Verification bundles: Keras's answers recorded once with TensorFlow, checked later without it.

`record(model_path, bundle_path)` (needs TensorFlow) stores, in one `.npz` of plain arrays (no
pickle): the inputs, a random upstream gradient per output, Keras's outputs and its gradients
w.r.t. each float input and every weight, and for a float32/float16 model the same from a
float64 copy of the model (the truth of the harness's verdict). `verify(model_path,
bundle_path)` (NumPy only: the deployment side) runs the reference on the same inputs and
upstream gradients and judges every tensor by the harness's rule (verdict.py): float64 within
1e-10; below float64 |ours - truth| <= 16 max|keras - truth| + 4 ulp, the truth being the
reference's own float64 run, which must first agree with Keras's float64 run.

Bundle keys: format, dtype, training, weight_paths, input_i, dy_i, output_i, grad_input_i,
grad_weight_i, and (below float64) the same with a "64_" prefix: 64_output_i, ...
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import os
import zipfile
from typing import Any

import numpy as np

from reference import nest

from .verdict import ParityReport, judge

FORMAT = "keras-numpy-reference parity bundle 1"


def record(model_path, bundle_path, inputs: Any = None, *, training=False, seed=0) -> dict:
    """Run the Keras model (TensorFlow) and write its answers to `bundle_path`; returns them."""
    import keras

    model = keras.saving.load_model(os.fspath(model_path), compile=False)
    flat = model_inputs(model.inputs, inputs, seed)
    arrays = {"format": np.array(FORMAT), "training": np.array(bool(training))}
    dtype = np.dtype(model.weights[0].dtype if model.weights else "float32").name
    arrays["dtype"] = np.array(dtype)
    arrays["weight_paths"] = np.array([w.path for w in model.weights], dtype=str)
    rng = np.random.default_rng(seed)
    out, gin, gw = _keras_run(model, flat, training, rng=rng)
    dys = [rng.standard_normal(o.shape).astype(o.dtype) for o in out]
    out, gin, gw = _keras_run(model, flat, training, dys=dys)
    _put(arrays, "", flat, dys, out, gin, gw)
    if dtype != "float64":
        model64 = keras.saving.deserialize_keras_object(
            float64_config(keras.saving.serialize_keras_object(model))
        )
        model64.set_weights([w.astype(np.float64) for w in model.get_weights()])
        up = [x.astype(np.float64) if x.dtype.kind == "f" else x for x in flat]
        up_dys = [d.astype(np.float64) for d in dys]
        out64, gin64, gw64 = _keras_run(model64, up, training, dys=up_dys)
        _put(arrays, "64_", [], [], out64, gin64, gw64)
    with open(bundle_path, "wb") as f:
        np.savez(f, **arrays)
    return arrays


def _keras_run(model, flat, training, dys=None, rng=None):
    import tensorflow as tf

    xs = [tf.constant(x) for x in flat]
    saved = model.get_weights()
    sources = [x for x in xs if x.dtype.is_floating]
    variables = [getattr(w, "value", w) for w in model.weights]
    with tf.GradientTape(persistent=False) as tape:
        for x in sources:
            tape.watch(x)
        for v in variables:
            tape.watch(v)
        y = nest.flatten(model(xs if len(xs) > 1 else xs[0], training=training))
    out = [np.asarray(o.numpy()) for o in y]
    if dys is None:
        model.set_weights(saved)
        return out, [], []
    grads = tape.gradient(y, sources + variables, output_gradients=[tf.constant(d) for d in dys])
    model.set_weights(saved)
    grads = [np.asarray(tf.convert_to_tensor(g).numpy()) if g is not None else None for g in grads]
    return out, grads[: len(sources)], grads[len(sources) :]


def _put(arrays, prefix, flat, dys, out, gin, gw) -> None:
    for key, values in (("input", flat), ("dy", dys), ("output", out), ("grad_input", gin),
                        ("grad_weight", gw)):  # fmt: skip
        for i, v in enumerate(values):
            if v is None:  # a weight the outputs do not depend on: a zero gradient, stated
                v = np.zeros(0)
                arrays[f"{prefix}{key}_{i}_none"] = np.array(True)
            arrays[f"{prefix}{key}_{i}"] = np.asarray(v)


def model_inputs(specs: list, inputs: Any, seed: int) -> list:
    """The model's inputs: given ones (a dict by input name, or positional), else random ones
    (batch 2; other unknown sizes 8; integer inputs in {0, 1})."""
    if inputs is not None:
        if isinstance(inputs, dict) and all(s.name in inputs for s in specs):
            flat = [inputs[s.name] for s in specs]
        else:
            flat = list(inputs.values()) if isinstance(inputs, dict) else nest.flatten(inputs)
        if len(flat) != len(specs):
            raise ValueError(
                f"the model takes {len(specs)} input(s) ({[s.name for s in specs]}), "
                f"received {len(flat)}."
            )
    else:
        rng = np.random.default_rng(seed + 1)
        flat = []
        for s in specs:
            shape = tuple(2 if i == 0 and d is None else 8 if d is None else d
                          for i, d in enumerate(s.shape))  # fmt: skip
            kind = np.dtype(str(s.dtype)).kind
            flat.append(rng.integers(0, 2, shape) if kind in "iu" else rng.standard_normal(shape))
    out = []
    for x, s in zip(flat, specs, strict=True):
        x, shape = np.asarray(x), tuple(s.shape)
        if not shape_fits(x.shape, shape):
            raise ValueError(f"input {s.name!r} expects shape {shape}, received {x.shape}.")
        out.append(x.astype(str(s.dtype)))
    return out


def shape_fits(shape: tuple, spec: tuple) -> bool:
    """Whether an array shape fits a model input's shape (None: any size)."""
    return len(shape) == len(spec) and all(d in (None, n) for d, n in zip(spec, shape, strict=True))


def float64_config(config: Any) -> Any:
    """A serialized model with every dtype (policy) set to float64: the truth's model."""
    config = copy.deepcopy(config)

    def visit(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "dtype" and value in ("float32", "float16", "bfloat16"):
                    node[key] = "float64"
                elif key == "dtype" and isinstance(value, dict) and "config" in value:
                    value["config"]["name"] = "float64"
                else:
                    visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(config)
    return config


def load(bundle_path) -> dict:
    """The bundle's arrays; ValueError naming the file if it is not a readable bundle."""
    path = os.fspath(bundle_path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - zip, CRC, header or pickle errors: one clear message
        raise ValueError(
            f"verify: {path} is not a readable parity bundle (a .npz written by `python -m "
            f"parity_tests record`): {type(e).__name__}: {e}"
        ) from None
    if str(arrays.get("format", "")) != FORMAT:
        raise ValueError(
            f"verify: {path} is not a parity bundle: its 'format' entry is "
            f"{str(arrays.get('format'))[:80]!r}, expected {FORMAT!r}."
        )
    return arrays


def _series(arrays: dict, key: str) -> list:
    out, i = [], 0
    while f"{key}_{i}" in arrays:
        out.append(None if f"{key}_{i}_none" in arrays else arrays[f"{key}_{i}"])
        i += 1
    return out


def verify(model_path, bundle_path) -> ParityReport:
    """Check the reference's port of the model against a recorded bundle (no TensorFlow)."""
    import reference

    arrays = load(bundle_path)
    model = reference.saving.load_model(os.fspath(model_path), compile=False)
    dtype = str(arrays["dtype"])
    flat, dys = _series(arrays, "input"), _series(arrays, "dy")
    _check_shapes(model, arrays, flat, dys, os.fspath(bundle_path))
    training = bool(arrays["training"])
    ours = _reference_run(model, flat, dys, training)
    names = _names(arrays, len(ours[0]), len(ours[1]))
    theirs = [*_series(arrays, "output"), *_series(arrays, "grad_input"),
              *_series(arrays, "grad_weight")]  # fmt: skip
    truths = [None] * len(names)
    if dtype != "float64":
        model64 = _float64_reference(model, os.fspath(model_path))
        up = [x.astype(np.float64) if x.dtype.kind == "f" else x for x in flat]
        ours64 = _reference_run(model64, up, [d.astype(np.float64) for d in dys], training)
        theirs64 = [*_series(arrays, "64_output"), *_series(arrays, "64_grad_input"),
                    *_series(arrays, "64_grad_weight")]  # fmt: skip
        if len(theirs64) != len(names):
            raise ValueError(f"verify: {bundle_path} lacks Keras's float64 results (64_*).")
        truths = list(zip([*ours64[0], *ours64[1], *ours64[2]], theirs64, strict=True))
    ours_flat = [*ours[0], *ours[1], *ours[2]]
    rows = [
        judge(name, a, b, dtype, truth)
        for name, a, b, truth in zip(names, ours_flat, theirs, truths, strict=True)
    ]
    report = BundleReport(rows, "the reference's tape vs Keras's recorded gradients", dtype)
    i = int(np.argmax([r.max_rel if np.isfinite(r.max_rel) else -1.0 for r in rows]))
    if ours_flat[i] is not None and theirs[i] is not None and ours_flat[i].shape == theirs[i].shape:
        diff = np.abs(ours_flat[i].astype(np.float64) - theirs[i])
        report.worst = ("model", rows[i].tensor, diff)
    return report


@dataclasses.dataclass
class BundleReport(ParityReport):
    """verify's rows, and the worst tensor's |ours - keras| (what --plot draws)."""

    worst: tuple | None = None


def _names(arrays, n_out, n_in) -> list:
    paths = [str(p) for p in arrays["weight_paths"]]
    return (
        [f"output {i}" for i in range(n_out)]
        + [f"d input {i}" for i in range(n_in)]
        + [f"d {p}" for p in paths]
    )


def _check_shapes(model, arrays, flat, dys, path) -> None:
    problems = []
    if len(flat) != len(model.inputs):
        problems.append(f"{len(flat)} inputs, the model takes {len(model.inputs)}")
    for i, (x, spec) in enumerate(zip(flat, model.inputs, strict=False)):
        shape = tuple(spec.shape)
        if not shape_fits(x.shape, shape):
            problems.append(f"input_{i} has shape {x.shape}, the model expects {shape}")
    weights = _series(arrays, "grad_weight")
    if len(weights) != len(model.weights):
        problems.append(f"{len(weights)} weight gradients, the model has {len(model.weights)}")
    for i, (g, w) in enumerate(zip(weights, model.weights, strict=False)):
        if g is not None and tuple(g.shape) != tuple(w.shape):
            problems.append(f"grad_weight_{i} has shape {g.shape}, weight '{w.path}' {w.shape}")
    outputs = _series(arrays, "output")
    if len(dys) != len(outputs) or any(
        np.shape(d) != np.shape(o) for d, o in zip(dys, outputs, strict=False)
    ):
        problems.append("the upstream gradients (dy_i) do not match the outputs (output_i)")
    if problems:
        raise ValueError(
            f"verify: the bundle {path} does not match the model: " + "; ".join(problems) + "."
        )


def _reference_run(model, flat, dys, training) -> tuple[list, list, list]:
    import reference

    saved = model.get_weights()
    try:
        with reference.GradientTape() as tape:
            xs = [tape.watch(x) if x.dtype.kind == "f" else x for x in flat]
            for w in model.weights:
                tape.watch(w)
            y = nest.flatten(model(xs if len(xs) > 1 else xs[0], training=training))
        for o, d in zip(y, dys, strict=True):
            if np.shape(o) != np.shape(d):
                raise ValueError(
                    f"verify: the model's output has shape {np.shape(o)}, the bundle's {d.shape}."
                )
        sources = [x for x in xs if np.asarray(x).dtype.kind == "f"]
        grads = tape.gradient(y, sources + list(model.weights), output_gradients=dys)
    finally:
        model.set_weights(saved)
    values = [None if g is None else np.asarray(g) for g in grads]
    return [np.asarray(o) for o in y], values[: len(sources)], values[len(sources) :]


def _float64_reference(model, model_path: str):
    """The same model in float64 (the truth of a float32 check), from the file's config."""
    from reference.saving import _h5, legacy_config, legacy_h5
    from reference.saving.keras_file import deserialize

    where = f"{model_path}:config"
    if legacy_h5.is_legacy_path(model_path):  # a Keras 2 style .h5: config in an attribute
        with _h5.h5py().File(model_path, "r") as f:
            text = f.attrs["model_config"]
        text = text.decode() if isinstance(text, bytes) else str(text)
        config = legacy_config.convert(legacy_config.decode_json(text, where), where)
    else:
        with zipfile.ZipFile(model_path) as archive:
            config = json.load(io.BytesIO(archive.read("config.json")))
    model64 = deserialize(float64_config(config), None, where)
    model64.set_weights([w.astype(np.float64) for w in model.get_weights()])
    return model64
