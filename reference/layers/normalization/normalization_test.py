"""LayerNormalization, RMSNormalization, GroupNormalization, UnitNormalization (NumPy only):
weights, hand-computed values, large-mean inputs, and errors that change nothing. (Gradients:
vjp_test.py; TensorFlow and Keras: the parity suite.)"""

import numpy as np
import pytest

from reference import layers

F64 = dict(dtype="float64")


@pytest.mark.parametrize(
    "layer,shape,weights",
    [
        (layers.LayerNormalization(), (2, 3, 4), [("gamma", (4,)), ("beta", (4,))]),
        (layers.LayerNormalization(axis=[2, 1]), (2, 3, 4), [("gamma", (3, 4)), ("beta", (3, 4))]),
        (layers.LayerNormalization(center=False), (2, 5), [("gamma", (5,))]),
        (layers.LayerNormalization(center=False, scale=False), (2, 5), []),
        (layers.RMSNormalization(), (2, 5), [("scale", (5,))]),
        (layers.GroupNormalization(groups=2, axis=1), (2, 4, 3), [("gamma", (4,)), ("beta", (4,))]),
        (layers.UnitNormalization(), (2, 5), []),
    ],
    ids=["ln", "ln-axes", "ln-no-center", "ln-bare", "rms", "gn", "unit"],
)  # fmt: skip
def test_weights_in_keras_order(layer, shape, weights):
    layer(np.ones(shape))
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == weights


X = np.array([[1.0, 2.0, 3.0, 6.0], [-1.0, 0.0, 0.0, 1.0]])


def _by_hand(x, eps):
    m = x.mean(-1, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + eps)


@pytest.mark.parametrize(
    "layer,expected",
    [
        (layers.LayerNormalization(**F64), _by_hand(X, 1e-3)),
        (layers.RMSNormalization(**F64), X / np.sqrt((X**2).mean(-1, keepdims=True) + 1e-6)),
        (layers.UnitNormalization(**F64), X / np.linalg.norm(X, axis=-1, keepdims=True)),
        (layers.GroupNormalization(groups=2, **F64),
         np.concatenate([_by_hand(X[:, :2], 1e-3), _by_hand(X[:, 2:], 1e-3)], -1)),
        (layers.GroupNormalization(groups=-1, epsilon=0.5, **F64), np.zeros_like(X)),  # 1 channel
    ],
    ids=["ln", "rms", "unit", "gn", "instance"],
)  # fmt: skip
def test_values_by_hand(layer, expected):
    np.testing.assert_allclose(layer(X), expected, rtol=1e-14, atol=1e-15)


def test_layer_norm_of_large_mean_inputs_is_accurate_in_float32():
    """Mean 1e4, std 1: E[x^2] - E[x]^2 would lose every digit in float32; the centred
    moments keep the result within a few float32 ulps of float64."""
    x = np.random.default_rng(0).normal(1e4, 1.0, (8, 64))
    y32 = layers.LayerNormalization(epsilon=1e-5)(x.astype("float32"))
    y64 = layers.LayerNormalization(epsilon=1e-5, **F64)(x.astype("float32").astype("float64"))
    assert np.max(np.abs(y32 - y64)) < 2e-3  # float32's own rounding of x at 1e4 is 1e-3 / std


@pytest.mark.parametrize(
    "make,shape,error,match",
    [
        (lambda: layers.LayerNormalization(axis=2), (3, 4), ValueError, "axis 2 is out of bounds"),
        (lambda: layers.LayerNormalization(axis=[1, -1]), (3, 4), ValueError, "repeated axis"),
        (lambda: layers.LayerNormalization(axis="x"), None, TypeError, "axis"),
        (lambda: layers.RMSNormalization(axis=-3), (3, 4), ValueError, "out of bounds"),
        (lambda: layers.UnitNormalization(axis=5), (3, 4), ValueError, "out of bounds"),
        (lambda: layers.GroupNormalization(groups=3), (2, 4), ValueError, "multiple"),
        (lambda: layers.GroupNormalization(groups=8), (2, 4), ValueError, "cannot be more"),
        (lambda: layers.GroupNormalization(groups=0), None, ValueError, "groups"),
        (lambda: layers.GroupNormalization(groups=2, axis=3), (2, 4), ValueError, "out of bounds"),
    ],
)
def test_bad_axes_and_groups_create_nothing(make, shape, error, match):
    with pytest.raises(error, match=match):
        layer = make()
        layer(np.ones(shape))
    if shape is not None:
        assert layer.weights == []  # (UnitNormalization, weightless, is built at construction)


@pytest.mark.parametrize("training", [True, False])
def test_a_failed_batch_norm_call_leaves_the_moving_statistics(training):
    layer = layers.BatchNormalization(**F64)
    layer(np.random.default_rng(0).standard_normal((8, 3)), training=True)
    before = layer.get_weights()
    for bad in (np.ones((8, 4)), np.array([["a"] * 3])):
        with pytest.raises(ValueError):
            layer(bad, training=training)
    for a, b in zip(layer.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_failed_layer_norm_call_leaves_its_weights():
    layer = layers.LayerNormalization(**F64)
    layer(np.ones((2, 3)))
    layer.set_weights([np.full(3, 2.0), np.full(3, 0.5)])
    with pytest.raises(ValueError):
        layer(np.array([["a", "b", "c"]]))
    np.testing.assert_array_equal(layer.get_weights(), [np.full(3, 2.0), np.full(3, 0.5)])


def test_rms_scaling_warns_and_keeps_only_gamma():
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = layers.LayerNormalization(rms_scaling=True)
    layer(np.ones((2, 5)))
    assert [w.name for w in layer.weights] == ["gamma"]
    assert layer.get_config()["rms_scaling"] is True
