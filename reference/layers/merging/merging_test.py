"""Merging layers (NumPy only): values on small hand-checked inputs, broadcasting, rank
alignment, masks, and shape errors."""

import numpy as np
import pytest

from reference import layers

A = np.array([[1.0, -2.0, 3.0]])
B = np.array([[4.0, 5.0, -6.0]])
C = np.array([[2.0]])

VALUES = [
    (layers.Add(), [A, B, C], [[7.0, 5.0, -1.0]]),
    (layers.Subtract(), [A, B], [[-3.0, -7.0, 9.0]]),
    (layers.Multiply(), [A, B, C], [[8.0, -20.0, -36.0]]),
    (layers.Average(), [A, B], [[2.5, 1.5, -1.5]]),
    (layers.Maximum(), [A, B, C], [[4.0, 5.0, 3.0]]),
    (layers.Minimum(), [A, B, C], [[1.0, -2.0, -6.0]]),
    (layers.Concatenate(), [A, C], [[1.0, -2.0, 3.0, 2.0]]),
    (layers.Concatenate(axis=0), [A, B], [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]),
    (layers.Dot(axes=1), [A, B], [[4.0 - 10.0 - 18.0]]),
    (layers.Add(), [np.ones((2, 2, 3)), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])],
     [[[2.0, 3.0, 4.0]] * 2, [[5.0, 6.0, 7.0]] * 2]),  # (2, 3) -> (2, 1, 3)
]  # fmt: skip


@pytest.mark.parametrize("layer,inputs,expected", VALUES, ids=lambda v: getattr(v, "name", ""))
def test_values(layer, inputs, expected):
    np.testing.assert_array_equal(layer(inputs), expected)


def test_dot_normalize_is_cosine_similarity_and_rank3_axes():
    cos = layers.Dot(axes=1, normalize=True, dtype="float64")([A, B])
    np.testing.assert_allclose(cos, A @ B.T / np.linalg.norm(A) / np.linalg.norm(B), rtol=1e-15)
    x, y = np.random.default_rng(0).standard_normal((2, 2, 3, 4))
    np.testing.assert_allclose(
        layers.Dot(axes=(2, 2), dtype="float64")([x, y]), np.einsum("bik,bjk->bij", x, y)
    )
    assert layers.Dot(axes=(1, 2)).compute_output_shape([(2, 4), (2, 5, 4)]) == (2, 5)


def test_compute_mask_is_the_or_of_the_masks():
    m1, m2 = np.array([[True, False, False]]), np.array([[False, False, True]])
    np.testing.assert_array_equal(layers.Add().compute_mask([A, B], [m1, m2]), [[1, 0, 1]])
    assert layers.Add().compute_mask([A, B], [m1, None]) is None


@pytest.mark.parametrize(
    "layer,inputs,match",
    [
        (layers.Add(), [np.ones((2, 3)), np.ones((2, 4))], r"incompatible shapes.*\(3,\).*\(4,\)"),
        (layers.Multiply(), [np.ones((2, 3)), np.ones((3, 3))], "different batch sizes"),
        (layers.Subtract(), [A, A, A], "exactly 2 inputs"),
        (layers.Add(), A, "list"),
        (layers.Concatenate(), [np.ones((2, 3)), np.ones((2, 3, 1))], "one rank"),
        (layers.Concatenate(axis=0), [np.ones((2, 3)), np.ones((2, 4))], "matching shapes"),
        (layers.Concatenate(axis=2), [np.ones((2, 3)), np.ones((2, 4))], "axis=2"),
        (layers.Dot(axes=1), [np.ones((2, 3)), np.ones((2, 4))], r"axis values 3 .* != 4"),
        (layers.Dot(axes=0), [np.ones((2, 3)), np.ones((2, 3))], "non-batch axis"),
        (layers.Dot(axes=1), [np.ones((2, 3))], "list of 2 inputs"),
    ],
    ids=["add", "batch", "subtract3", "not-list", "rank", "concat", "concat-axis", "dot",
         "dot-batch-axis", "dot-one"],
)  # fmt: skip
def test_shape_errors(layer, inputs, match):
    with pytest.raises(ValueError, match=match):
        layer(inputs)


@pytest.mark.parametrize(
    "axes,error", [("1", TypeError), ((1, 2, 3), ValueError), ((1.0, 2), ValueError)]
)
def test_dot_bad_axes(axes, error):
    with pytest.raises(error, match="axes"):
        layers.Dot(axes=axes)
