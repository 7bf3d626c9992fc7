"""reference.metrics in NumPy only: AUC and F-scores by hand, and their bad-input errors."""

import numpy as np
import pytest

from reference import metrics


def test_f1_matches_the_keras_docstring_example():
    # keras.metrics.F1Score's docstring: threshold 0.5 gives [0.5, 0.8, 0.6666667]
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    m = metrics.F1Score(threshold=0.5)
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(m.result(), [0.5, 0.8, 2 / 3], rtol=1e-6)


AUC_BY_HAND = [
    # (y_true, y_pred, kwargs, area): a perfect ranking, a reversed one, a random-like one
    ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], {}, 1.0),
    ([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1], {}, 0.0),
    # thresholds (-eps, 0.5, 1+eps): ROC points (1,1), (0.5,0.5), (0,0): the diagonal
    ([0, 1, 0, 1], [0.3, 0.3, 0.7, 0.7], {"num_thresholds": 3}, 0.5),
]


@pytest.mark.parametrize("y_true, y_pred, kwargs, area", AUC_BY_HAND)
def test_auc_by_hand(y_true, y_pred, kwargs, area):
    m = metrics.AUC(**kwargs)
    m.update_state(np.array(y_true), np.array(y_pred))
    np.testing.assert_allclose(m.result(), area, atol=1e-6)
    assert [v.name for v in m.variables] == [
        "true_positives", "false_positives", "true_negatives", "false_negatives"
    ]  # fmt: skip


BAD = [
    (lambda: metrics.AUC(curve="PRGAIN"), "AUC: invalid `curve`"),
    (lambda: metrics.AUC(summation_method="trapezoid"), "AUC: invalid `summation_method`"),
    (lambda: metrics.AUC(num_thresholds=1), "must be an integer > 1"),
    (lambda: metrics.AUC(num_labels=3), "`num_labels` is needed only when"),
    (lambda: metrics.FBetaScore(average="sum"), "FBetaScore: invalid `average`"),
    (lambda: metrics.FBetaScore(beta=2), "It should be a Python float"),
    (lambda: metrics.FBetaScore(beta=-1.0), "It should be > 0"),
    (lambda: metrics.F1Score(threshold=1.5), "F1Score: invalid `threshold`"),
]


@pytest.mark.parametrize("make, match", BAD, ids=[m for _, m in BAD])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_shapes_change_nothing():
    f1 = metrics.F1Score()
    f1.update_state(np.eye(3), np.eye(3))
    before = [v.numpy().copy() for v in f1.variables]
    with pytest.raises(ValueError, match=r"F1Score: expected y_true and y_pred of shape"):
        f1.update_state(np.eye(4), np.eye(4))
    with pytest.raises(ValueError, match="F1Score expects 2D inputs"):
        metrics.F1Score().update_state(np.ones(3), np.ones(3))
    auc = metrics.AUC(multi_label=True)
    with pytest.raises(ValueError, match="must have rank 2 when `multi_label=True`"):
        auc.update_state(np.ones(3), np.ones(3))
    for v, b in zip(f1.variables, before, strict=True):
        np.testing.assert_array_equal(v.numpy(), b)
