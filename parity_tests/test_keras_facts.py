"""Facts of docs/keras-facts.md that no other test pins, checked against stock Keras / TF.

One row per fact, named by its anchor in docs/keras-facts.md. Each check runs Keras 3.15 (or TF
2.21 / tf_keras where the fact is about them) and asserts what the document says; the reference
code relies on these facts, so a Keras upgrade that changes one fails here first.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


def fact_1_3_build_gets_concrete_shapes_per_call_argument():
    seen = {}

    class Two(keras.layers.Layer):
        def build(self, y_shape, x_shape):
            seen.update(x=x_shape, y=y_shape)

        def call(self, x, y):
            return x + y[..., :1]

    Two()(np.ones((2, 3), "float32"), np.ones((2, 4), "float32"))
    assert seen == {"x": (2, 3), "y": (2, 4)}  # tuples of ints, the eager batch size included

    class BadNames(keras.layers.Layer):
        def build(self, a_shape, b):
            pass

        def call(self, x, y):
            return x

    with pytest.raises(
        ValueError, match=r"should have a `_shape` suffix.*does not have argument `a`"
    ):
        BadNames()(np.ones((1, 1), "float32"), np.ones((1, 1), "float32"))


def fact_2_7_constraints_apply_only_after_an_optimizer_step():
    class Holder(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(2,), initializer=keras.initializers.Constant(-5.0), constraint="non_neg"
            )

        def call(self, x):
            return x * self.w

    layer = Holder()
    layer(np.ones((1, 2), "float32"))
    assert layer.w.numpy().tolist() == [-5.0, -5.0]  # not at creation
    layer.w.assign([-3.0, 2.0])
    assert layer.w.numpy().tolist() == [-3.0, 2.0]  # not on assign
    layer.set_weights([np.array([-3.0, 2.0], "float32")])
    assert layer.w.numpy().tolist() == [-3.0, 2.0]  # not on set_weights
    keras.optimizers.SGD(0.1).apply_gradients([(tf.ones(2), layer.w)])
    np.testing.assert_allclose(layer.w.numpy(), [0.0, 1.9], rtol=1e-6)  # after the update


def fact_4_1_automatic_config_keeps_name_only_for_name_or_kwargs():
    class WithKw(keras.layers.Layer):
        def __init__(self, units, **kw):
            super().__init__(**kw)
            self.units = units

    class WithKwargs(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

    dropped = WithKw(3, name="a").get_config()
    kept = WithKwargs(3, name="b").get_config()
    assert dropped["units"] == kept["units"] == 3
    assert "name" not in dropped and kept["name"] == "b"


def fact_6_1_activation_definitions():
    dense = keras.layers.Dense(1, activation="gelu", kernel_initializer="ones")
    assert dense(np.ones((1, 1), "float32")).numpy().item() == np.float32(0.8413447)  # erf form
    approx = keras.ops.gelu(np.float32(1.0)).numpy()  # keras.ops.gelu defaults to the tanh form
    assert approx != np.float32(0.8413447)
    assert keras.activations.elu(np.array([-1e-8], "float32")).numpy()[0] == 0.0  # exp(x) - 1
    assert np.expm1(np.float32(-1e-8)) != 0.0  # what expm1 would have given
    assert keras.activations.softplus(np.array([14.0], "float32")).numpy()[0] == 14.0
    # TF on CPU flushes float32 denormals to zero; NumPy keeps them.
    assert tf.exp(tf.constant(-88.5, tf.float32)).numpy() == 0.0 != np.exp(np.float32(-88.5))
    assert (tf.constant(1e-39, tf.float32) * 1.0).numpy() == 0.0


KINKS = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])


def _tf_grad(fn, *args):
    xs = [tf.constant(a, tf.float64) for a in args]
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = fn(*xs)
    return [g.numpy().tolist() for g in tape.gradient(y, xs)]


def fact_7_gradient_conventions_of_the_numpy_level_ops():
    assert _tf_grad(lambda x: tf.maximum(x, 1.0), KINKS) == [[0, 0, 0, 1, 1, 1]]
    assert _tf_grad(lambda x: tf.minimum(x, 1.0), KINKS) == [[1, 1, 1, 1, 0, 0]]
    assert _tf_grad(tf.maximum, [2.0], [2.0]) == [[1.0], [0.0]]  # ties go to the first argument
    assert _tf_grad(tf.minimum, [2.0], [2.0]) == [[1.0], [0.0]]
    assert _tf_grad(lambda x: tf.clip_by_value(x, -1.0, 3.0), KINKS) == [[0, 1, 1, 1, 1, 0]]
    assert _tf_grad(tf.abs, KINKS) == [[-1, -1, 0, 1, 1, 1]]
    assert _tf_grad(tf.sign, KINKS) == [[0, 0, 0, 0, 0, 0]]
    assert _tf_grad(tf.reduce_max, [0.0, 1.0, 1.0, 0.0]) == [[0, 0.5, 0.5, 0]]  # split evenly
    assert _tf_grad(tf.nn.relu, KINKS) == [[0, 0, 0, 1, 1, 1]]
    # Max pooling routes a tie to the first maximum of its window in row-major order, and
    # overlapping windows add up: unlike reduce_max's even split.
    (pool2d,) = _tf_grad(lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"), np.zeros((1, 2, 2, 1)))
    assert np.squeeze(pool2d).tolist() == [[1, 0], [0, 0]]
    (pool1d,) = _tf_grad(lambda x: tf.nn.max_pool1d(x, 2, 1, "VALID"), np.full((1, 3, 1), 3.0))
    assert np.squeeze(pool1d).tolist() == [1, 1, 0]


def fact_8_1_with_onednn_off_a_traced_model_equals_the_eager_one():
    from tensorflow.python.util import _pywrap_util_port

    # parity_tests sets TF_ENABLE_ONEDNN_OPTS=0 before TF is imported, unless the caller chose.
    if _pywrap_util_port.IsMklEnabled():
        pytest.skip("TF_ENABLE_ONEDNN_OPTS was set to enable oneDNN for this run")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.layers.Dense(32, activation="gelu"), keras.layers.BatchNormalization(),
         keras.layers.Dense(8)]
    )  # fmt: skip
    x = np.random.default_rng(0).standard_normal((16, 24)).astype("float32")
    eager = model(x, training=True).numpy()
    graph = tf.function(lambda v: model(v, training=True))(tf.constant(x)).numpy()
    np.testing.assert_array_equal(graph, eager)


def fact_8_3_softmax_output_carries_its_logits_into_crossentropy():
    logits = tf.constant([[30.0, 0.0]])
    target = tf.constant([[0.0, 1.0]])
    probs = keras.activations.softmax(logits)
    assert probs._keras_logits is logits
    with_logits = keras.losses.categorical_crossentropy(target, probs).numpy()[0]
    plain = keras.losses.categorical_crossentropy(target, tf.identity(probs)).numpy()[0]
    np.testing.assert_allclose(with_logits, 30.0, rtol=1e-6)  # the exact loss, from the logits
    np.testing.assert_allclose(plain, -np.log(1e-7), rtol=1e-5)  # clipped at epsilon: 16.118


def fact_10_dense_rejects_a_non_positive_units_with_keras_words():
    import reference

    messages = []
    for dense in (keras.layers.Dense, reference.layers.Dense):
        with pytest.raises(ValueError) as err:
            dense(0)
        messages.append(str(err.value))
    assert (
        messages[0]
        == messages[1]
        == ("Received an invalid value for `units`, expected a positive integer. Received: units=0")
    )


FACTS = [
    ("fact-1-3", fact_1_3_build_gets_concrete_shapes_per_call_argument),
    ("fact-2-7", fact_2_7_constraints_apply_only_after_an_optimizer_step),
    ("fact-4-1", fact_4_1_automatic_config_keeps_name_only_for_name_or_kwargs),
    ("fact-6-1", fact_6_1_activation_definitions),
    ("fact-7", fact_7_gradient_conventions_of_the_numpy_level_ops),
    ("fact-8-1", fact_8_1_with_onednn_off_a_traced_model_equals_the_eager_one),
    ("fact-8-3", fact_8_3_softmax_output_carries_its_logits_into_crossentropy),
    ("fact-10-dense", fact_10_dense_rejects_a_non_positive_units_with_keras_words),
]


@pytest.mark.parametrize("check", [f[1] for f in FACTS], ids=[f[0] for f in FACTS])
def test_keras_fact(check):
    check()
