"""Parity of reference.metrics with keras.metrics: state after several update_state calls.

Each row is a metric class, its arguments and the kind of data; both metrics see the same three
batches (the second with a sample weight), then result() and every state variable must agree
(rtol 1e-6 in float32: sums of a few dozen values), and reset_state must zero them.
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from reference import metrics  # noqa: E402


def _batch(kind, rng):
    if kind == "real":
        return rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    if kind == "binary":
        return rng.integers(0, 2, (5, 1)).astype(float), rng.uniform(0, 1, (5, 1))
    if kind == "onehot":
        # float32: Keras's in_top_k (TopKCategoricalAccuracy) refuses float64 predictions
        return np.eye(4)[rng.integers(0, 4, 5)], rng.standard_normal((5, 4)).astype("float32")
    if kind == "sparse":
        return rng.integers(0, 4, (5, 1)), rng.standard_normal((5, 4))
    if kind == "labels":
        return rng.integers(0, 3, (5, 2)), rng.integers(0, 3, (5, 2))
    if kind == "multilabel":
        return rng.integers(0, 2, (5, 4)), rng.uniform(0, 1, (5, 4))
    if kind == "values":
        return (rng.standard_normal((5, 2)),)
    raise KeyError(kind)


ROWS = [
    ("Mean", {}, "values"),
    ("Sum", {}, "values"),
    ("Accuracy", {}, "labels"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("MeanSquaredError", {}, "real"),
    ("MeanAbsoluteError", {}, "real"),
    ("RootMeanSquaredError", {}, "real"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.9]}, "binary"),
    ("Recall", {"thresholds": 0.3}, "binary"),
    ("Recall", {"class_id": 2}, "multilabel"),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r[0]}-{r[1]}")
def test_metric_state_matches_keras(row):
    name, kwargs, kind = row
    k_metric, r_metric = getattr(keras.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    assert r_metric.name == k_metric.name
    rng = np.random.default_rng(0)
    for i in range(3):
        args = _batch(kind, rng)
        sw = rng.uniform(0, 2, 5) if i == 1 else None
        k_metric.update_state(*args, sample_weight=sw)
        r_metric.update_state(*args, sample_weight=sw)
    np.testing.assert_allclose(r_metric.result(), np.asarray(k_metric.result()), rtol=1e-6)
    assert [v.name for v in r_metric.variables] == [v.name for v in k_metric.variables]
    for r, k in zip(r_metric.variables, k_metric.variables, strict=True):
        assert r.dtype == k.dtype
        np.testing.assert_allclose(r.numpy(), k.numpy(), rtol=1e-6)
    r_metric.reset_state()
    assert all(not np.any(v.numpy()) for v in r_metric.variables)
    assert not np.any(r_metric.result())
