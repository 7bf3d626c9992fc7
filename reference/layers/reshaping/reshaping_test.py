"""Flatten, Reshape, Permute, RepeatVector (NumPy only): values, output shapes and errors.
(Cropping, padding and upsampling are tested with the convolution issue.)"""

import numpy as np
import pytest

from reference import layers

X = np.arange(24.0).reshape(2, 3, 4)

CASES = [
    (layers.Flatten(), X, X.reshape(2, 12)),
    (layers.Flatten(data_format="channels_first"), X, X.transpose(0, 2, 1).reshape(2, 12)),
    (layers.Flatten(), np.arange(3.0), np.arange(3.0).reshape(3, 1)),
    (layers.Reshape((4, -1)), X, X.reshape(2, 4, 3)),
    (layers.Permute((2, 1)), X, X.transpose(0, 2, 1)),
    (layers.RepeatVector(2), X[:, 0], np.stack([X[:, 0], X[:, 0]], axis=1)),
]


@pytest.mark.parametrize("layer,x,expected", CASES, ids=lambda v: getattr(v, "name", ""))
def test_values_and_output_shape(layer, x, expected):
    y = layer(x)
    np.testing.assert_array_equal(y, expected)
    assert layer.compute_output_shape(x.shape) == y.shape


@pytest.mark.parametrize(
    "make,x,error,match",
    [
        (lambda: layers.Reshape((5,)), X, ValueError, r"cannot reshape.*\(2, 3, 4\)"),
        (lambda: layers.Reshape((5, -1)), X, ValueError, "cannot reshape"),
        (lambda: layers.Reshape((-1, -1)), None, ValueError, "at most one -1"),
        (lambda: layers.Permute((1, 3)), None, ValueError, "consecutive"),
        (lambda: layers.Permute((2, 1)), np.ones((2, 3)), ValueError, "ndim"),
        (lambda: layers.RepeatVector(0), None, ValueError, "positive"),
        (lambda: layers.RepeatVector(2.0), None, TypeError, "integer"),
        (lambda: layers.RepeatVector(2), X, ValueError, "ndim"),
        (lambda: layers.Flatten(data_format="nchw"), None, ValueError, "data_format"),
    ],
)
def test_errors(make, x, error, match):
    with pytest.raises(error, match=match):
        make()(x)
