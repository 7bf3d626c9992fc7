"""Every hand-written layer VJP, checked against the traced gradient of the same call and
against central finite differences in float64 (the third check, against TensorFlow, is the
parity suite). NumPy only."""

import numpy as np
import pytest

import reference
from reference import layers

CASES = [
    ("Dense linear", lambda: layers.Dense(4, dtype="float64"), (3, 5), None),
    (
        "Dense relu no bias",
        lambda: layers.Dense(3, "relu", use_bias=False, dtype="float64"),
        (6, 4),
        None,
    ),  # fmt: skip
    ("Dense gelu rank 4", lambda: layers.Dense(3, "gelu", dtype="float64"), (2, 3, 2, 4), None),
    ("Dense softmax rank 3", lambda: layers.Dense(5, "softmax", dtype="float64"), (2, 3, 4), None),
    ("BN training", lambda: layers.BatchNormalization(dtype="float64"), (8, 3), True),
    ("BN inference", lambda: layers.BatchNormalization(dtype="float64"), (8, 3), False),
    (
        "BN axis 1 rank 4",
        lambda: layers.BatchNormalization(axis=1, dtype="float64"),
        (4, 3, 2, 2),
        True,
    ),  # fmt: skip
    ("BN no scale", lambda: layers.BatchNormalization(scale=False, dtype="float64"), (6, 2), True),
    (
        "BN no center",
        lambda: layers.BatchNormalization(center=False, dtype="float64"),
        (6, 2),
        True,
    ),  # fmt: skip
    (
        "BN frozen",
        lambda: layers.BatchNormalization(trainable=False, dtype="float64"),
        (6, 2),
        True,
    ),  # fmt: skip
]


def prepared(make, shape, seed=0):
    """A built layer with random non-degenerate weights, an input and an upstream gradient."""
    rng = np.random.default_rng(seed)
    layer = make()
    x = rng.standard_normal(shape)
    layer(x)
    for w in layer.weights:
        positive = "variance" in w.name
        w.assign(rng.uniform(0.5, 1.5, w.shape) if positive else rng.standard_normal(w.shape))
    dy = rng.standard_normal(np.asarray(layer(x)).shape)
    return layer, x, dy


def gradients(layer, x, dy, training, use_layer_vjps):
    state = layer.get_weights()
    with reference.GradientTape(use_layer_vjps=use_layer_vjps) as tape:
        tx = tape.watch(x)
        y = layer(tx, training=training)
    layer.set_weights(state)  # BN training updated its moving statistics: undo for the next run
    return tape.gradient(y, [x, *layer.trainable_weights], dy)


@pytest.mark.parametrize("make, shape, training", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hand_written_vjp_matches_the_traced_call(make, shape, training):
    layer, x, dy = prepared(make, shape)
    assert type(layer).vjp is not None
    fused = gradients(layer, x, dy, training, use_layer_vjps=True)
    traced = gradients(layer, x, dy, training, use_layer_vjps=False)
    assert len(fused) == 1 + len(layer.trainable_weights)
    for a, b in zip(fused, traced, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make, shape, training", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hand_written_vjp_matches_finite_differences(make, shape, training):
    """<dy, J v> by central differences equals <J^T dy, v> for random directions v."""
    layer, x, dy = prepared(make, shape, seed=1)
    grads = gradients(layer, x, dy, training, use_layer_vjps=True)
    state = layer.get_weights()
    trainable = [any(w is t for t in layer.trainable_weights) for w in layer.weights]
    rng = np.random.default_rng(2)
    directions = [rng.standard_normal(x.shape)] + [
        rng.standard_normal(w.shape) for w in layer.trainable_weights
    ]

    def objective(t):
        it = iter(directions[1:])
        layer.set_weights(
            [s + t * next(it) if tr else s for s, tr in zip(state, trainable, strict=True)]
        )
        out = np.asarray(layer(x + t * directions[0], training=training))
        layer.set_weights(state)
        return float(np.sum(dy * out))

    eps = 1e-6
    lhs = (objective(eps) - objective(-eps)) / (2 * eps)
    rhs = sum(float(np.sum(g * v)) for g, v in zip(grads, directions, strict=True))
    assert lhs == pytest.approx(rhs, rel=1e-6, abs=1e-8)


def test_bn_input_gradient_vanishes_under_an_all_ones_cotangent():
    """Why the harness never uses dy = 1: this (correct) gradient would hide any bug in dx."""
    layer, x, _ = prepared(lambda: layers.BatchNormalization(scale=False, dtype="float64"), (8, 3))
    dx, *_ = gradients(layer, x, np.ones((8, 3)), True, use_layer_vjps=True)
    np.testing.assert_allclose(dx, 0.0, atol=1e-12)


def test_bn_training_updates_moving_statistics_with_the_biased_variance():
    bn = layers.BatchNormalization(momentum=0.9, dtype="float64")
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


def test_frozen_bn_runs_in_inference_mode_even_when_training():
    bn = layers.BatchNormalization(dtype="float64")
    x = np.random.default_rng(4).standard_normal((6, 2))
    inference = bn(x, training=False)
    bn.trainable = False
    np.testing.assert_array_equal(bn(x, training=True), inference)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(2))


def test_bn_normalizes_in_training_mode():
    bn = layers.BatchNormalization(epsilon=0.0, dtype="float64")
    x = np.random.default_rng(5).standard_normal((50, 3)) * 4.0 - 2.0
    y = bn(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-10)
