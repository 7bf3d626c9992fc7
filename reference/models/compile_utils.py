"""What `compile` resolves at the first batch, and the names fit's logs use (Keras's
trainers/compile_utils.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module


def _is_binary_or_sparse(y_true, y_pred) -> tuple[bool, bool]:
    """Keras's is_binary_or_sparse_categorical, from the shapes."""
    t_shape, p_shape = np.shape(y_true), np.shape(y_pred)
    binary = p_shape[-1] == 1
    sparse = len(t_shape) < len(p_shape) or (t_shape[-1] == 1 and p_shape[-1] > 1)
    return binary, sparse


def get_loss(identifier, y_true, y_pred):
    """Keras's compile_utils.get_loss: a Loss object (functions are wrapped, named as given)."""
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        loss = (losses_module.binary_crossentropy if binary else
                losses_module.sparse_categorical_crossentropy if sparse else
                losses_module.categorical_crossentropy)  # fmt: skip
    else:
        loss = losses_module.get(identifier)
    if not isinstance(loss, losses_module.Loss):
        name = identifier if isinstance(identifier, str) else getattr(loss, "__name__", None)
        loss = losses_module.LossFunctionWrapper(loss, name=name)
    return loss


def get_metric(identifier, y_true, y_pred):
    """Keras's compile_utils.get_metric: "accuracy"/"acc" picks the accuracy from the shapes."""
    if str(identifier).lower() in ("accuracy", "acc"):
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        cls = (metrics_module.BinaryAccuracy if binary else
               metrics_module.SparseCategoricalAccuracy if sparse else
               metrics_module.CategoricalAccuracy)  # fmt: skip
        metric = cls(name=str(identifier))
    else:
        metric = metrics_module.get(identifier)
    name = identifier if isinstance(identifier, str) else getattr(metric, "name", None)
    if not isinstance(metric, metrics_module.Metric):
        metric = metrics_module.MeanMetricWrapper(metric)
        name = name or metric.name
    metric.name = name
    return metric


def per_output(spec, names: list, what: str) -> list:
    """A loss/metrics/loss_weights argument as one entry per output."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"compile: {what} keys {sorted(unknown)} are not outputs {names}.")
        return [spec.get(n) for n in names]
    if isinstance(spec, list | tuple) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(
                f"compile: {what} has {len(spec)} entries, but the model has {len(names)} outputs."
            )
        return list(spec)
    return [spec] * len(names)


@dataclasses.dataclass
class CompiledMetric:
    """One metric of compile(metrics=...) or weighted_metrics: which output it reads, whether
    it takes the sample weights, and the output name that prefixes its log key (multi-output)."""

    index: int
    metric: Any
    weighted: bool
    output_name: str | None


def metric_results(compiled: list) -> dict:
    """Keras's CompileMetrics.result: log keys `<output>_<name>`; a repeated key gets `_<k>`;
    a weighted metric whose key is taken becomes `weighted_<name>` (then `_<k>`)."""
    results: dict = {}
    counters: dict = {}

    def prefixed(name, output):
        return f"{output}_{name}" if output else name

    for weighted in (False, True):
        for c in (c for c in compiled if c.weighted is weighted):
            name = prefixed(c.metric.name, c.output_name)
            if name in counters and weighted:
                name = prefixed(f"weighted_{c.metric.name}", c.output_name)
            if name in counters:
                counters[name] += 1
                name = f"{name}_{counters[name] - 1}"
            else:
                counters[name] = 1
            results[name] = c.metric.result()
    return results


def flatten_in_order(logs: dict, names: list):
    """Keras's _flatten_metrics_in_order: the logs listed by `names` (the loss, the compiled
    metrics' own names -- which match a log key only for a single output, and may match twice
    -- and the per-output losses), then every other key sorted; one value alone is returned
    bare."""
    results = [logs[n] for n in names if n in logs]
    results += [logs[k] for k in sorted(logs) if k not in names]
    return results[0] if len(results) == 1 else results


def pythonify(value) -> Any:
    """A scalar result as a Python float, as Keras's logs hold; a vector (F1Score per class)
    stays an array."""
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value
