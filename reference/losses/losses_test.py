"""reference.losses in NumPy only: reductions and sample weights by hand, gradients against
central finite differences (float64), and the errors for bad labels."""

import numpy as np
import pytest

from reference import losses
from reference.autodiff import vjp

RNG = np.random.default_rng(0)
Y_TRUE = RNG.standard_normal((4, 3))
Y_PRED = RNG.standard_normal((4, 3))
PER_SAMPLE = np.mean((Y_TRUE - Y_PRED) ** 2, axis=-1)
SW = np.array([0.5, 1.0, 0.0, 2.0])

REDUCTIONS = [
    ("sum_over_batch_size", None, PER_SAMPLE.mean()),
    ("sum_over_batch_size", SW, np.sum(PER_SAMPLE * SW) / 4),  # divides by the count, not sum(w)
    ("mean_with_sample_weight", SW, np.sum(PER_SAMPLE * SW) / SW.sum()),
    ("sum", SW, np.sum(PER_SAMPLE * SW)),
    # a (4, 1) weight against rank-1 values expands the values to (4, 1), as Keras
    (None, SW[:, None], (PER_SAMPLE * SW)[:, None]),
]


@pytest.mark.parametrize("reduction, sw, expected", REDUCTIONS, ids=lambda r: str(r)[:20])
def test_reductions_and_sample_weights(reduction, sw, expected):
    loss = losses.MeanSquaredError(reduction=reduction, dtype="float64")
    np.testing.assert_allclose(loss(Y_TRUE, Y_PRED, sample_weight=sw), expected, rtol=1e-14)


PROBS = RNG.uniform(0.05, 1, (4, 3))
PROBS /= PROBS.sum(-1, keepdims=True)
ONEHOT = np.eye(3)[[0, 2, 1, 2]]
GRAD_ROWS = [
    (losses.MeanAbsolutePercentageError(dtype="float64"), Y_TRUE, Y_PRED),
    (losses.Huber(delta=0.5, dtype="float64"), Y_TRUE, Y_PRED),
    (losses.LogCosh(dtype="float64"), Y_TRUE, Y_PRED),
    (losses.CategoricalCrossentropy(label_smoothing=0.1, dtype="float64"), ONEHOT, PROBS),
    (losses.CategoricalCrossentropy(from_logits=True, dtype="float64"), ONEHOT, Y_PRED),
    (
        losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64"),
        np.array([0, 2, 1, 2]),
        Y_PRED,
    ),  # fmt: skip
    (losses.BinaryCrossentropy(from_logits=True, dtype="float64"), (Y_TRUE > 0) * 1.0, Y_PRED),
    (losses.BinaryFocalCrossentropy(dtype="float64"), (Y_TRUE > 0) * 1.0, PROBS),
    (losses.KLDivergence(dtype="float64"), ONEHOT * 0.8 + 0.05, PROBS),
    (losses.CosineSimilarity(dtype="float64"), Y_TRUE, Y_PRED),
    (losses.SquaredHinge(dtype="float64"), np.sign(Y_TRUE), Y_PRED),
]


@pytest.mark.parametrize("loss, y_true, y_pred", GRAD_ROWS, ids=lambda r: type(r).__name__)
def test_gradient_matches_central_differences(loss, y_true, y_pred):
    _, back = vjp(lambda p: loss(y_true, p), y_pred)
    (grad,) = back(np.asarray(1.0))
    h, numeric = 1e-6, np.zeros_like(y_pred)
    for i in np.ndindex(y_pred.shape):
        step = np.zeros_like(y_pred)
        step[i] = h
        numeric[i] = (loss(y_true, y_pred + step) - loss(y_true, y_pred - step)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("labels", [np.array([0, 3, 1, 2]), np.array([0, -1, 1, 2])])
def test_sparse_labels_out_of_range_raise(labels):
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\[0, 3\)"):
        losses.SparseCategoricalCrossentropy()(labels, PROBS)


def test_bad_reduction_and_unknown_name():
    with pytest.raises(ValueError, match="reduction=avg"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: nope"):
        losses.get("nope")
