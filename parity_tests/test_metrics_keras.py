"""Parity of reference.metrics with keras.metrics: state after several update_state calls.

Each row is a metric class, its arguments and the kind of data; both metrics see the same three
batches (the second with a sample weight), then result() and every state variable must agree
(rtol 1e-6 in float32: sums of a few dozen values; for the state, norm-wise, 1e-6 of the
variable's largest entry), and reset_state must zero them.
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from reference import metrics, naming  # noqa: E402


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
    if kind == "logits":
        return rng.integers(0, 2, (5, 3)), rng.standard_normal((5, 3)) * 3
    if kind == "ties":
        # predictions on the threshold grid (0, 0.25, ..., 1): Keras's bucket rule, exactly
        return rng.integers(0, 2, (5, 1)), rng.integers(0, 5, (5, 1)) / 4
    if kind == "grid":
        # float32 scores one ulp above 0, 0.1, ..., 1 (and 1): where Keras's bucket rule for
        # evenly spaced thresholds, ceil(p (n - 1)) - 1 >= i, is not p > t_i
        grid = (rng.integers(0, 11, (5, 3)) / 10).astype("float32")
        return rng.integers(0, 2, (5, 3)), np.minimum(np.nextafter(grid, np.float32(2)), 1)
    if kind == "multilabel_ties":
        # several labels per row and scores on (0, 0.5, 1): ties inside and across the top k
        return rng.integers(0, 2, (5, 4)), rng.integers(0, 3, (5, 4)) / 2
    if kind == "multiclass":
        # one-hot rows (single-label) and scores with ties for the argmax rule of F1 (None)
        return np.eye(4)[rng.integers(0, 4, 5)], rng.integers(0, 3, (5, 4)) / 2
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
    ("Precision", {"thresholds": [0.5]}, "binary"),  # one listed threshold: a scalar
    # top_k: the k largest of each row (ties to the lowest index), then class_id, thresholds
    ("Precision", {"top_k": 1}, "multiclass"),
    ("Precision", {"top_k": 2}, "multilabel_ties"),
    ("Precision", {"top_k": 0}, "multilabel"),
    ("Precision", {"top_k": 2, "class_id": 1}, "multilabel_ties"),
    ("Precision", {"top_k": 2, "thresholds": [0.0, 0.5, 1.0]}, "multilabel_ties"),  # evenly
    ("Precision", {"top_k": 2, "dtype": "float64"}, "multilabel_ties"),
    ("Precision", {"thresholds": [i / 10 for i in range(11)]}, "grid"),  # evenly: buckets
    ("Recall", {"top_k": 2, "thresholds": [i / 10 for i in range(11)]}, "grid"),
    ("Recall", {"top_k": 1}, "multiclass"),
    ("Recall", {"top_k": 2}, "multilabel"),
    ("Recall", {"top_k": 3, "class_id": 3, "thresholds": [0.2, 0.5]}, "multilabel"),
    ("Recall", {"top_k": 1, "class_id": 0, "dtype": "float64"}, "multilabel_ties"),
    ("AUC", {"name": "auc"}, "binary"),
    ("AUC", {"name": "auc", "num_thresholds": 5}, "ties"),
    ("AUC", {"name": "auc", "thresholds": [0.25, 0.5, 0.75]}, "ties"),  # evenly: bucket path
    ("AUC", {"name": "auc", "thresholds": [0.1, 0.4, 0.45, 0.8]}, "multilabel"),
    ("AUC", {"name": "auc", "curve": "PR"}, "binary"),
    ("AUC", {"name": "auc", "curve": "PR", "num_thresholds": 7}, "multilabel"),
    ("AUC", {"name": "auc", "summation_method": "minoring", "num_thresholds": 9}, "multilabel"),
    ("AUC", {"name": "auc", "curve": "PR", "summation_method": "majoring"}, "binary"),
    ("AUC", {"name": "auc", "multi_label": True}, "multilabel"),
    (
        "AUC",
        {
            "name": "auc",
            "multi_label": True,
            "num_labels": 4,
            "curve": "PR",
            "label_weights": [0.5, 1.0, 0.0, 2.0],
        },
        "multilabel",
    ),
    (
        "AUC",
        {
            "name": "auc",
            "multi_label": True,
            "thresholds": [0.3, 0.6],
            "label_weights": [1.0, 2.0, 3.0, 0.5],
        },
        "multilabel",
    ),
    ("AUC", {"name": "auc", "label_weights": [0.5, 1.0, 2.0, 0.0]}, "multilabel"),
    ("AUC", {"name": "auc", "from_logits": True, "num_thresholds": 50}, "logits"),
    # PRGAIN: every summation method, with and without multi_label and label_weights
    *[
        ("AUC", {"name": "auc", "curve": "PRGAIN", "summation_method": method, **extra}, kind)
        for method in ("interpolation", "minoring", "majoring")
        for extra, kind in [
            ({}, "binary"),
            ({"label_weights": [0.5, 1.0, 2.0, 0.0]}, "multilabel"),
            ({"multi_label": True}, "multilabel"),
            ({"multi_label": True, "label_weights": [1.0, 2.0, 0.0, 0.5]}, "multilabel"),
        ]
    ],
    # uneven thresholds: a count is a sum whose float32 order is not TF's (1 ulp in the state),
    # and PRGAIN's signed terms can cancel: over seeds 0-19, results within 5e-6 relative (1e-7
    # absolute) of Keras's; this seed is within 1e-6
    ("AUC", {"name": "auc", "curve": "PRGAIN", "thresholds": [0.1, 0.4, 0.45]}, "multilabel"),
    ("AUC", {"name": "auc", "curve": "PRGAIN", "num_thresholds": 5}, "ties"),
    ("AUC", {"name": "auc", "curve": "PRGAIN", "from_logits": True}, "logits"),
    ("AUC", {"name": "auc", "curve": "PRGAIN", "dtype": "float64"}, "binary"),
    ("AUC", {"name": "auc", "curve": "PRGAIN", "multi_label": True, "dtype": "float64"}, "ties"),
    # float32 counts times float64 label_weights: a float64 result, in Keras as here
    (
        "AUC",
        {
            "name": "auc",
            "curve": "PRGAIN",
            "multi_label": True,
            "dtype": "float64",
            "label_weights": [1.0, 2.0, 0.0, 0.5],
        },
        "multilabel",
    ),  # fmt: skip
    ("F1Score", {}, "multiclass"),
    ("F1Score", {"average": "micro", "threshold": 0.4}, "multilabel"),
    ("F1Score", {"average": "macro"}, "multiclass"),
    ("F1Score", {"average": "weighted", "threshold": 0.5}, "multilabel"),
    ("FBetaScore", {"beta": 2.0}, "multiclass"),
    ("FBetaScore", {"beta": 0.5, "average": "weighted"}, "multiclass"),
    ("FBetaScore", {"beta": 3.0, "average": "micro", "threshold": 0.6}, "multilabel"),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r[0]}-{r[1]}")
def test_metric_state_matches_keras(row):
    name, kwargs, kind = row
    # auto names come from global counters that other tests in this process move (docs blocks)
    keras.backend.clear_session()
    naming._uids.clear()
    k_metric, r_metric = getattr(keras.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    assert r_metric.name == k_metric.name
    rng = np.random.default_rng(0)
    for i in range(3):
        args = _batch(kind, rng)
        sw = rng.uniform(0, 2, 5) if i == 1 else None
        k_metric.update_state(*args, sample_weight=sw)
        r_metric.update_state(*args, sample_weight=sw)
    r_result, k_result = r_metric.result(), np.asarray(k_metric.result())
    assert np.shape(r_result) == np.shape(k_result) and r_result.dtype == k_result.dtype
    np.testing.assert_allclose(r_result, k_result, rtol=1e-6)
    r_config, k_config = r_metric.get_config(), k_metric.get_config()
    assert list(r_config) == list(k_config)
    for key, value in k_config.items():  # label_weights: a tensor in Keras, an array here
        np.testing.assert_array_equal(np.asarray(r_config[key]), np.asarray(value), err_msg=key)
    assert [v.name for v in r_metric.variables] == [v.name for v in k_metric.variables]
    for r, k in zip(r_metric.variables, k_metric.variables, strict=True):
        assert r.dtype == k.dtype
        # norm-wise: AUC's fn and tn are totals minus cumulative sums, so a count that is
        # exactly 0 comes out as +-ulp(total) in float32, on either side, in any sum order
        atol = 1e-6 * np.max(np.abs(k.numpy()), initial=0)
        np.testing.assert_allclose(r.numpy(), k.numpy(), rtol=1e-6, atol=atol, err_msg=k.name)
    r_metric.reset_state()
    assert all(not np.any(v.numpy()) for v in r_metric.variables)
    assert not np.any(r_metric.result())
