"""Embedding (NumPy only): lookup, the scatter-add gradient, masks, and index errors that
change nothing."""

import numpy as np
import pytest

import reference
from reference import layers


def _layer():
    layer = layers.Embedding(4, 2, dtype="float64")
    layer.build()
    layer.set_weights([np.arange(8.0).reshape(4, 2)])
    return layer


def test_lookup_and_scatter_add_gradient_over_repeated_indices():
    layer = _layer()
    x = np.array([[3, 1, 3], [3, 0, 1]])
    dy = np.arange(12.0).reshape(2, 3, 2)
    with reference.GradientTape() as tape:
        y = layer(x)
    np.testing.assert_array_equal(y.numpy(), np.arange(8.0).reshape(4, 2)[x])
    grad = tape.gradient(y, layer.embeddings, output_gradients=dy)
    # row 3 appears three times: dy[0,0] + dy[0,2] + dy[1,0]; row 2 never
    expected = [dy[1, 1], dy[0, 1] + dy[1, 2], [0.0, 0.0], dy[0, 0] + dy[0, 2] + dy[1, 0]]
    np.testing.assert_array_equal(grad, expected)


def test_mask_zero_and_whole_float_indices():
    layer = layers.Embedding(4, 2, mask_zero=True)
    np.testing.assert_array_equal(layer.compute_mask(np.array([[2, 0], [0, 0]])),
                                  [[True, False], [False, False]])  # fmt: skip
    assert layers.Embedding(4, 2).compute_mask(np.array([[0]])) is None
    np.testing.assert_array_equal(_layer()(np.array([1.0, 3.0])), _layer()(np.array([1, 3])))


@pytest.mark.parametrize(
    "x,error,match",
    [
        (np.array([[0, 4]]), ValueError, r"index 4 at position \(0, 1\).*input_dim=4"),
        (np.array([[2, -1]]), ValueError, r"index -1 at position \(0, 1\).*input_dim=4"),
        (np.array([1.5]), ValueError, "non-integer value 1.5"),
        (np.array([np.nan]), ValueError, "non-integer"),
        (np.array([True, False]), TypeError, "integer indices.*bool"),
    ],
    ids=["too-large", "negative", "fraction", "nan", "bool"],
)
def test_bad_indices_raise_and_change_nothing(x, error, match):
    layer = _layer()
    before = layer.get_weights()
    with pytest.raises(error, match=match):
        layer(x)
    np.testing.assert_array_equal(layer.get_weights()[0], before[0])


@pytest.mark.parametrize(
    "args,match",
    [
        ((0, 2), "input_dim"),
        ((3, -1), "output_dim"),
        ((True, 2), "input_dim"),
        ((2.0, 2), "input_dim"),
    ],
)
def test_bad_dimensions(args, match):
    with pytest.raises(ValueError, match=match):
        layers.Embedding(*args)
