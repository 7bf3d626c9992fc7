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


TOP_K_BY_HAND = [
    # (cls, kwargs, y_true, y_pred, result): ties in the top k go to the lowest index
    ("Precision", {"top_k": 1}, [[0, 1, 0]], [[0.5, 0.5, 0.5]], 0.0),
    ("Precision", {"top_k": 2}, [[0, 1, 1]], [[0.5, 0.5, 0.5]], 0.5),
    ("Recall", {"top_k": 2}, [[0, 0, 1]], [[0.5, 0.5, 0.5]], 0.0),
    ("Recall", {"top_k": 3}, [[0, 0, 1]], [[0.5, 0.5, 0.5]], 1.0),
    # top_k, then class_id: class 2 (0.7) is not among the 2 largest of its row
    ("Recall", {"top_k": 2, "class_id": 2}, [[1, 1, 1]], [[0.9, 0.8, 0.7]], 0.0),
    # top_k and a threshold: 0.4 is kept but not above 0.5
    ("Precision", {"top_k": 2, "thresholds": 0.5}, [[1, 0, 0]], [[0.4, 0.9, 0.1]], 0.0),
    ("Precision", {"top_k": 0}, [[1, 0, 0]], [[0.4, 0.9, 0.1]], 0.0),  # Keras: nothing kept
]


@pytest.mark.parametrize("cls, kwargs, y_true, y_pred, result", TOP_K_BY_HAND)
def test_top_k_by_hand(cls, kwargs, y_true, y_pred, result):
    m = getattr(metrics, cls)(**kwargs)
    m.update_state(np.array(y_true), np.array(y_pred))
    assert m.result() == result
    assert m.get_config()["top_k"] == kwargs["top_k"]


def test_prgain_by_hand():
    # thresholds (-eps, 0.5, 1+eps), P = N = 2: recall gains (1, 1, 0) (0 where tp = 0), precision
    # gains (0, 1, 1); interpolation: (1 - 1) * 0.5 + (1 - 0) * 1 = 1
    m = metrics.AUC(num_thresholds=3, curve="PRGAIN")
    m.update_state(np.array([0, 0, 1, 1]), np.array([0.2, 0.3, 0.7, 0.8]))
    np.testing.assert_allclose(m.result(), 1.0, atol=1e-6)


BAD = [
    (lambda: metrics.AUC(curve="PRG"), ValueError, "AUC: invalid `curve`"),
    (lambda: metrics.AUC(summation_method="trapezoid"), ValueError, "AUC: invalid `summation"),
    (lambda: metrics.AUC(num_thresholds=1), ValueError, "must be an integer > 1"),
    (lambda: metrics.AUC(num_labels=3), ValueError, "`num_labels` is needed only when"),
    (lambda: metrics.FBetaScore(average="sum"), ValueError, "FBetaScore: invalid `average`"),
    (lambda: metrics.FBetaScore(beta=2), ValueError, "It should be a Python float"),
    (lambda: metrics.FBetaScore(beta=-1.0), ValueError, "It should be > 0"),
    (lambda: metrics.F1Score(threshold=1.5), ValueError, "F1Score: invalid `threshold`"),
    (lambda: metrics.Precision(top_k=-1), ValueError, r"Precision: top_k must be >= 0\. Rec"),
    (lambda: metrics.Recall(top_k=1.5), TypeError, "Recall: top_k must be an int or None"),
    (lambda: metrics.Precision(top_k="2"), TypeError, "Precision: top_k must be an int"),
    (lambda: metrics.Recall(thresholds=[0.5, 1.5]), ValueError, "Recall: thresholds must be in"),
]


@pytest.mark.parametrize("make, error, match", BAD, ids=[m for _, _, m in BAD])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_shapes_change_nothing():
    f1 = metrics.F1Score()
    f1.update_state(np.eye(3), np.eye(3))
    before = [v.numpy().copy() for v in f1.variables]
    with pytest.raises(ValueError, match=r"F1Score: expected y_true and y_pred of shape"):
        f1.update_state(np.eye(4), np.eye(4))
    with pytest.raises(ValueError, match="F1Score expects 2D inputs"):
        metrics.F1Score().update_state(np.ones(3), np.ones(3))
    for make, y_pred, match in [
        (lambda: metrics.Precision(top_k=3), np.full((2, 2), 0.5), "top_k=3 needs at least 3"),
        (lambda: metrics.Recall(class_id=1), np.full(3, 0.5), "Recall: with class_id, y_pred"),
        (lambda: metrics.Recall(), np.full(3, 1.5), r"Recall: predictions must be in \[0, 1\]"),
    ]:
        m = make()
        m.update_state(np.ones((2, 3)), np.array([[0.2, 0.6, 0.9], [0.7, 0.1, 0.4]]))
        assert np.any(m.true_positives.numpy())
        kept = [v.numpy().copy() for v in m.variables]
        with pytest.raises(ValueError, match=match):
            m.update_state(np.ones(y_pred.shape), y_pred)
        for v, b in zip(m.variables, kept, strict=True):
            np.testing.assert_array_equal(v.numpy(), b)
    auc = metrics.AUC(multi_label=True)
    with pytest.raises(ValueError, match="must have rank 2 when `multi_label=True`"):
        auc.update_state(np.ones(3), np.ones(3))
    for v, b in zip(f1.variables, before, strict=True):
        np.testing.assert_array_equal(v.numpy(), b)
