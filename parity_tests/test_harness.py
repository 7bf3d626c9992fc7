"""The harness must catch what it exists to catch, on any user layer pair."""

import numpy as np
import pytest
import tensorflow as tf

import reference
from parity_tests import ParityError, assert_parity
from reference import layers

X = np.random.default_rng(0).standard_normal((6, 4))


class BiasBug(layers.Dense):
    """A Dense whose hand-written VJP drops the bias gradient's batch sum to a mean."""

    def vjp(self, inputs, output_grad, training=None):
        dx, grads = super().vjp(inputs, output_grad, training)
        grads["bias"] = grads["bias"] / len(inputs)
        return dx, grads


class MomentumBug(layers.BatchNormalization):
    """Updates the moving statistics with the PyTorch convention (momentum on the batch side)."""

    def call(self, inputs, training=None):
        m = self.momentum
        self.momentum = 1.0 - m
        try:
            return super().call(inputs, training)
        finally:
            self.momentum = m


class TransposedKernel(reference.Layer):
    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(3, input_shape[-1]), name="kernel")

    def call(self, x):
        return np.matmul(x, self.kernel.T)


BUGS = [
    (
        "vjp bug",
        lambda: BiasBug(3, dtype="float64"),
        lambda: tf.keras.layers.Dense(3, dtype="float64"),
        False,
        "d bias",
    ),  # fmt: skip
    (
        "state bug",
        lambda: MomentumBug(dtype="float64"),
        lambda: tf.keras.layers.BatchNormalization(dtype="float64"),
        True,
        "weight moving_mean after call",
    ),  # fmt: skip
    (
        "layout bug",
        lambda: TransposedKernel(dtype="float64"),
        lambda: tf.keras.layers.Dense(3, use_bias=False, dtype="float64"),
        False,
        "Weight layout differs",
    ),  # fmt: skip
]


@pytest.mark.parametrize("ref, other, training, where", [b[1:] for b in BUGS],
                         ids=[b[0] for b in BUGS])  # fmt: skip
def test_harness_reports_each_kind_of_bug_with_a_table(ref, other, training, where):
    with pytest.raises(ParityError) as err:
        assert_parity(ref(), other(), X, training=training)
    message = str(err.value)
    assert where in message
    if "layout" not in where:
        failing = [line for line in message.splitlines() if line.endswith("FAIL")]
        assert failing and all(where in line for line in failing[:1]), message


def test_a_correct_pair_passes_with_tight_float64_errors():
    report = assert_parity(layers.Dense(3, "tanh", dtype="float64"),
                           tf.keras.layers.Dense(3, "tanh", dtype="float64"), X)  # fmt: skip
    assert [r.tensor for r in report.rows] == [
        "output", "weight kernel after call", "weight bias after call", "d input 0", "d kernel",
        "d bias"]  # fmt: skip
    assert report.worst("") < 1e-13


class NumpyProd(reference.Layer):
    """Uses np.prod, which has no VJP rule: only finite differences can check its gradient."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=input_shape[-1:], initializer="ones", name="w")

    def call(self, x):
        return np.prod(x * self.w, axis=-1, keepdims=True)


class TfProd(tf.keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=input_shape[-1:], initializer="ones", name="w")

    def call(self, x):
        return tf.reduce_prod(x * self.w, axis=-1, keepdims=True)


def test_finite_differences_check_a_call_without_vjp_rules():
    with pytest.raises(reference.autodiff.MissingVJPError, match="np.prod"):
        assert_parity(NumpyProd(dtype="float64"), TfProd(dtype="float64"), X)
    report = assert_parity(NumpyProd(dtype="float64"), TfProd(dtype="float64"), X,
                           finite_differences=True, rtol=1e-7)  # fmt: skip
    assert "central differences" in report.gradient_method
    assert report.worst("d ") < 1e-7


def test_finite_differences_need_a_float64_reference_layer():
    with pytest.raises(ValueError, match="float64"):
        assert_parity(NumpyProd(), TfProd(), X.astype("float32"), finite_differences=True)


def test_fresh_weights_are_random_and_keep_positive_weights_positive():
    ref, other = layers.BatchNormalization(dtype="float64"), tf.keras.layers.BatchNormalization(
        dtype="float64")  # fmt: skip
    assert_parity(ref, other, X, training=False)
    gamma, beta, mean, variance = ref.get_weights()
    assert np.all(variance > 0) and np.all(gamma > 0) and not np.allclose(variance, 1.0)
    assert np.all(beta != 0) and np.all(mean != 0)


class NumpyGatedSum(reference.Layer):
    """Two inputs: y = a * sigmoid(b) @ w."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[0][-1], 2), name="w")

    def call(self, inputs):
        a, b = inputs
        return np.matmul(a * (1.0 / (1.0 + np.exp(-b))), self.w)


class TfGatedSum(tf.keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[0][-1], 2), name="w")

    def call(self, inputs):
        a, b = inputs
        return tf.matmul(a * tf.sigmoid(b), self.w)


def test_a_layer_with_a_list_of_inputs_gets_a_gradient_per_input():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    report = assert_parity(NumpyGatedSum(dtype="float64"), TfGatedSum(dtype="float64"), [a, b])
    assert [r.tensor for r in report.rows if r.tensor.startswith("d ")] == [
        "d input 0",
        "d input 1",
        "d w",
    ]
    assert report.worst("") < 1e-13


def test_the_numpy_port_matches_the_verbatim_keras_2_tutorial_layer():
    from reference.examples import MyDenseLayer
    from tf_layers.examples import make_keras2_tutorial_layer

    x = np.random.default_rng(4).standard_normal((10, 5)).astype("float32")
    report = assert_parity(MyDenseLayer(10), make_keras2_tutorial_layer(10), x)
    assert report.worst("") < 1e-6
