"""Every hand-written layer VJP (the vjp_fwd/vjp_bwd contract of reference/layers/fused.py),
checked against the traced gradient of the same call, against central finite differences in
float64 (reference.testing), and pinned bit-identical in its forward pass to `call`. The third
check, against TensorFlow, is the parity suite. NumPy only."""

import numpy as np
import pytest

import reference
from reference import layers
from reference.layers.fused import has_fused_vjp
from reference.testing import VJPCheckError, check_vjp

F64 = dict(dtype="float64")
CASES = {
    "Dense linear": (lambda: layers.Dense(4, **F64), (3, 5), None),
    "Dense relu no bias": (lambda: layers.Dense(3, "relu", use_bias=False, **F64), (6, 4), None),
    "Dense gelu rank 4": (lambda: layers.Dense(3, "gelu", **F64), (2, 3, 2, 4), None),
    "Dense softmax rank 3": (lambda: layers.Dense(5, "softmax", **F64), (2, 3, 4), None),
    "Dense selu": (lambda: layers.Dense(4, "selu", **F64), (5, 3), None),
    "Dense tanh": (lambda: layers.Dense(4, "tanh", **F64), (5, 3), None),
    "Dense sigmoid": (lambda: layers.Dense(4, "sigmoid", **F64), (5, 3), None),
    "BN training": (lambda: layers.BatchNormalization(**F64), (8, 3), True),
    "BN inference": (lambda: layers.BatchNormalization(**F64), (8, 3), False),
    "BN axis 1 rank 4": (lambda: layers.BatchNormalization(axis=1, **F64), (4, 3, 2, 2), True),
    "BN no scale": (lambda: layers.BatchNormalization(scale=False, **F64), (6, 2), True),
    "BN no center": (lambda: layers.BatchNormalization(center=False, **F64), (6, 2), True),
    "BN frozen": (lambda: layers.BatchNormalization(trainable=False, **F64), (6, 2), True),
    "BN inference no affine": (
        lambda: layers.BatchNormalization(center=False, scale=False, **F64),
        (6, 2),
        False,
    ),
    # Convolutions and pooling (issue 8): padding, strides, dilation, groups, channels_first.
    "Conv1D causal dilated": (
        lambda: layers.Conv1D(3, 3, padding="causal", dilation_rate=2, **F64),
        (2, 9, 2),
        None,
    ),
    "Conv2D same stride 2": (
        lambda: layers.Conv2D(4, 2, strides=2, padding="same", **F64),
        (2, 7, 6, 3),
        None,
    ),
    "Conv2D groups tanh": (
        lambda: layers.Conv2D(4, 3, groups=2, activation="tanh", **F64),
        (1, 6, 5, 4),
        None,
    ),
    "Conv2D channels_first relu": (
        lambda: layers.Conv2D(3, (3, 2), data_format="channels_first", activation="relu", **F64),
        (2, 2, 5, 6),
        None,
    ),
    "Conv3D no bias": (
        lambda: layers.Conv3D(2, 2, use_bias=False, padding="same", **F64),
        (1, 3, 4, 3, 2),
        None,
    ),
    "MaxPooling2D same": (lambda: layers.MaxPooling2D(3, 2, "same", **F64), (2, 7, 6, 2), None),
    "MaxPooling1D overlapping": (lambda: layers.MaxPooling1D(3, 1, **F64), (2, 8, 3), None),
    "AveragePooling2D same cf": (
        lambda: layers.AveragePooling2D(3, 2, "same", data_format="channels_first", **F64),
        (2, 2, 7, 6),
        None,
    ),
    "AveragePooling3D": (
        lambda: layers.AveragePooling3D(2, padding="same", **F64),
        (1, 3, 5, 4, 2),
        None,
    ),
    "Conv2DTranspose same stride 2": (
        lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same", **F64),
        (2, 4, 3, 2),
        None,
    ),
    "Conv1DTranspose output_padding cf": (
        lambda: layers.Conv1DTranspose(
            2, 2, strides=3, output_padding=1, data_format="channels_first", **F64
        ),
        (2, 3, 4),
        None,
    ),
    "Conv3DTranspose tanh": (
        lambda: layers.Conv3DTranspose(2, 2, activation="tanh", **F64),
        (1, 2, 3, 2, 2),
        None,
    ),
    "DepthwiseConv2D multiplier 2": (
        lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", **F64),
        (2, 5, 4, 3),
        None,
    ),
    "DepthwiseConv1D stride 2 cf": (
        lambda: layers.DepthwiseConv1D(3, strides=2, data_format="channels_first", **F64),
        (2, 3, 8),
        None,
    ),
    "SeparableConv2D relu": (
        lambda: layers.SeparableConv2D(4, 3, depth_multiplier=2, activation="relu", **F64),
        (2, 6, 5, 3),
        None,
    ),
    "SeparableConv1D dilated same": (
        lambda: layers.SeparableConv1D(3, 3, dilation_rate=2, padding="same", **F64),
        (2, 9, 2),
        None,
    ),
    # Issue 9: the other normalizations.
    "LN": (lambda: layers.LayerNormalization(**F64), (4, 5), None),
    "LN axes 1,2 rank 4": (
        lambda: layers.LayerNormalization(axis=[1, 2], **F64),
        (2, 3, 4, 2),
        None,
    ),
    "LN axis 1 no center": (
        lambda: layers.LayerNormalization(axis=1, center=False, **F64),
        (3, 4, 2),
        None,
    ),
    "LN no affine": (
        lambda: layers.LayerNormalization(center=False, scale=False, **F64),
        (3, 6),
        None,
    ),
    "LN rms_scaling": (lambda: layers.LayerNormalization(rms_scaling=True, **F64), (3, 6), None),
    "RMSNorm": (lambda: layers.RMSNormalization(**F64), (4, 5), None),
    "RMSNorm axes -2,-1": (lambda: layers.RMSNormalization(axis=[-2, -1], **F64), (2, 3, 4), None),
    "GroupNorm": (lambda: layers.GroupNormalization(groups=2, **F64), (3, 4, 6), None),
    "GroupNorm axis 1": (
        lambda: layers.GroupNormalization(groups=3, axis=1, **F64),
        (2, 6, 2, 2),
        None,
    ),
    "GroupNorm instance": (
        lambda: layers.GroupNormalization(groups=-1, center=False, **F64),
        (2, 5, 3),
        None,
    ),
    # --- Recurrent layers (issue 10): backpropagation through time, one output each.
    "SimpleRNN sequences": (
        lambda: layers.SimpleRNN(3, return_sequences=True, **F64),
        (2, 5, 4),
        None,
    ),
    "SimpleRNN backwards": (lambda: layers.SimpleRNN(3, go_backwards=True, **F64), (2, 5, 4), None),
    "LSTM sequences": (lambda: layers.LSTM(3, return_sequences=True, **F64), (2, 5, 4), None),
    "LSTM backwards no bias": (
        lambda: layers.LSTM(3, go_backwards=True, use_bias=False, **F64),
        (2, 4, 3),
        None,
    ),
    "LSTM length 50": (lambda: layers.LSTM(4, **F64), (2, 50, 3), None),
    "GRU sequences": (lambda: layers.GRU(3, return_sequences=True, **F64), (2, 5, 4), None),
    "GRU no bias": (lambda: layers.GRU(3, use_bias=False, **F64), (2, 4, 3), None),
    "GRU reset_after=False backwards": (
        lambda: layers.GRU(3, reset_after=False, go_backwards=True, return_sequences=True, **F64),
        (2, 5, 4),
        None,
    ),
    "GRU reset_after=False length 50": (
        lambda: layers.GRU(4, reset_after=False, **F64),
        (2, 50, 3),
        None,
    ),
    # --- end of recurrent layers (issue 10)
}
IDS = list(CASES)


def prepared(make, shape, seed=0):
    """A built layer with random non-degenerate weights, an input and an upstream gradient."""
    rng = np.random.default_rng(seed)
    layer = make()
    x = rng.standard_normal(shape)
    layer(x)
    for w in layer.weights:
        positive = "variance" in w.name
        w.assign(rng.uniform(0.5, 1.5, w.shape) if positive else rng.standard_normal(w.shape))
    dy = rng.standard_normal(np.shape(layer(x)))
    return layer, x, dy


def gradients(layer, x, dy, training, use_layer_vjps):
    """Gradients for x and every weight (non-trainable ones watched), state restored after."""
    state = layer.get_weights()
    with reference.GradientTape(use_layer_vjps=use_layer_vjps) as tape:
        tx = tape.watch(x)
        tape.watch(layer.weights)
        y = layer(tx, training=training)
    layer.set_weights(state)  # BN training updated its moving statistics: undo for the next run
    return tape.gradient(y, [x, *layer.weights], dy)


@pytest.mark.parametrize("name", IDS)
def test_hand_written_vjp_matches_the_traced_call(name):
    make, shape, training = CASES[name]
    layer, x, dy = prepared(make, shape)
    assert has_fused_vjp(type(layer))
    fused = gradients(layer, x, dy, training, use_layer_vjps=True)
    traced = gradients(layer, x, dy, training, use_layer_vjps=False)
    for a, b in zip(fused, traced, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", IDS)
def test_hand_written_vjp_matches_finite_differences(name):
    """<dy, J v> by central differences equals <J^T dy, v> for random directions v."""
    make, shape, training = CASES[name]
    layer, x, dy = prepared(make, shape, seed=1)
    grads = gradients(layer, x, dy, training, use_layer_vjps=True)
    state = layer.get_weights()

    def f(x, *weights):
        layer.set_weights(weights)
        try:
            return layer(x, training=training)
        finally:
            layer.set_weights(state)

    check_vjp(f, [x, *state], grads, dy)


@pytest.mark.parametrize("name", IDS)
def test_fused_forward_is_bit_identical_to_call_with_identical_state_updates(name):
    make, shape, training = CASES[name]
    layer, x, _ = prepared(make, shape, seed=2)
    state = layer.get_weights()
    kw = {} if training is None else {"training": training}  # not every call takes training
    y_call = layer.call(x, **kw)
    after_call = layer.get_weights()
    layer.set_weights(state)
    y_fwd, _ = layer.vjp_fwd(x, **kw)
    np.testing.assert_array_equal(y_fwd, y_call)
    assert y_fwd.dtype == y_call.dtype
    for a, b in zip(layer.get_weights(), after_call, strict=True):
        np.testing.assert_array_equal(a, b)


class OffByTwo(layers.Dense):
    """A Dense whose backward pass doubles the kernel gradient: the checks must catch it."""

    call = layers.Dense.call
    vjp_fwd = layers.Dense.vjp_fwd

    def vjp_bwd(self, residuals, output_grad):
        dx, grads = super().vjp_bwd(residuals, output_grad)
        return dx, {**grads, "kernel": 2 * grads["kernel"]}


def test_a_wrong_vjp_fails_both_checks():
    layer, x, dy = prepared(lambda: OffByTwo(3, "tanh", **F64), (4, 5))
    fused = gradients(layer, x, dy, None, use_layer_vjps=True)
    traced = gradients(layer, x, dy, None, use_layer_vjps=False)
    np.testing.assert_allclose(fused[1], 2 * traced[1], rtol=1e-12)  # the bug is live
    state = layer.get_weights()

    def f(x, *weights):
        layer.set_weights(weights)
        return layer(x)

    with pytest.raises(VJPCheckError):
        check_vjp(f, [x, *state], fused, dy)
    check_vjp(f, [x, *state], traced, dy)


def test_bn_input_gradient_vanishes_under_an_all_ones_cotangent():
    """Why the harness never uses dy = 1: this (correct) gradient would hide any bug in dx."""
    layer, x, _ = prepared(lambda: layers.BatchNormalization(scale=False, **F64), (8, 3))
    dx, *_ = gradients(layer, x, np.ones((8, 3)), True, use_layer_vjps=True)
    np.testing.assert_allclose(dx, 0.0, atol=1e-12)


def test_bn_training_updates_moving_statistics_with_the_biased_variance():
    bn = layers.BatchNormalization(momentum=0.9, **F64)
    x = np.random.default_rng(3).standard_normal((10, 4)) * 3.0 + 1.0
    bn(x, training=True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * x.mean(axis=0), rtol=1e-12)
    expected_var = 0.9 + 0.1 * x.var(axis=0)  # ddof=0: the biased variance, as Keras
    np.testing.assert_allclose(bn.moving_variance.numpy(), expected_var, rtol=1e-12)
    before = bn.get_weights()
    bn(x, training=False)
    bn(x)  # training=None is inference
    for a, b in zip(before, bn.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bn_training_under_a_tape_updates_the_moving_statistics_once():
    x = np.random.default_rng(6).standard_normal((10, 4))
    plain, taped = (layers.BatchNormalization(momentum=0.5, **F64) for _ in range(2))
    plain(x, training=True)
    with reference.GradientTape() as tape:
        y = taped(x, training=True)
    tape.gradient(y, taped.trainable_weights, np.ones_like(x))
    for a, b in zip(plain.get_weights(), taped.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_frozen_bn_runs_in_inference_mode_even_when_training():
    bn = layers.BatchNormalization(**F64)
    x = np.random.default_rng(4).standard_normal((6, 2))
    inference = bn(x, training=False)
    bn.trainable = False
    np.testing.assert_array_equal(bn(x, training=True), inference)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(2))


def test_bn_normalizes_in_training_mode():
    bn = layers.BatchNormalization(epsilon=0.0, **F64)
    x = np.random.default_rng(5).standard_normal((50, 3)) * 4.0 - 2.0
    y = bn(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-10)
