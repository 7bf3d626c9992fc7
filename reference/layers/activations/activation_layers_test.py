"""ReLU, LeakyReLU, PReLU, ELU and Softmax layers (NumPy only): defaults, hand-checked values,
weights, masks and argument errors."""

import numpy as np
import pytest

from reference import layers

X = np.array([[-2.0, -0.5, 0.0, 0.5, 1.5, 7.0]])

VALUES = [
    (layers.ReLU(), [[0, 0, 0, 0.5, 1.5, 7]]),
    (layers.ReLU(max_value=1.0), [[0, 0, 0, 0.5, 1, 1]]),
    (layers.ReLU(threshold=1.0), [[0, 0, 0, 0, 1.5, 7]]),
    (layers.ReLU(negative_slope=0.5), [[-1, -0.25, 0, 0.5, 1.5, 7]]),
    (
        layers.LeakyReLU(),
        [[-0.6, -0.15, 0, 0.5, 1.5, 7]],
    ),  # the layer's 0.3, not the function's 0.2
    (layers.LeakyReLU(negative_slope=0.0), [[0, 0, 0, 0.5, 1.5, 7]]),
    (layers.ELU(alpha=2.0), [[2 * np.expm1(-2.0), 2 * np.expm1(-0.5), 0, 0.5, 1.5, 7]]),
]


@pytest.mark.parametrize("layer,expected", VALUES, ids=lambda v: getattr(v, "name", ""))
def test_values(layer, expected):
    np.testing.assert_allclose(layer(X.astype("float32")), np.float32(expected), rtol=1e-6)


def test_prelu_weights_and_values():
    layer = layers.PReLU(shared_axes=[1])
    x = np.array([[[-1.0, 2.0], [-3.0, -4.0], [5.0, 6.0]]])
    layer(x)
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [("alpha", (1, 2))]
    layer.set_weights([np.array([[0.5, 0.25]])])
    np.testing.assert_array_equal(layer(x), [[[-0.5, 2.0], [-1.5, -1.0], [5.0, 6.0]]])
    with pytest.raises(ValueError, match="shared_axes"):
        layers.PReLU(shared_axes=[0])(x)


def test_softmax_mask_replaces_logits_and_zeroes_outputs():
    y = layers.Softmax(dtype="float64")(np.array([[1.0, 2.0, 3.0]]), mask=np.array([[1, 1, 0]]))
    np.testing.assert_allclose(y, [[1 / (1 + np.e), np.e / (1 + np.e), 0.0]], rtol=1e-15)
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(np.ones((2, 3)), mask=np.ones((2, 2), bool))


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.ReLU(max_value=-1.0), "max_value"),
        (lambda: layers.ReLU(negative_slope=-0.1), "negative_slope"),
        (lambda: layers.ReLU(threshold=None), "threshold"),
        (lambda: layers.LeakyReLU(negative_slope=-1), "negative_slope"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_leaky_relu_alpha_alias_warns():
    with pytest.warns(UserWarning, match="alpha"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
