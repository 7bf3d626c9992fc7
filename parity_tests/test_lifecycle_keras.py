"""The Layer lifecycle side by side with Keras 3: the same custom layers, written once for both.

Each factory takes a namespace (`reference` + NumPy, or Keras 3 + keras.ops) and builds the same
class, so every observable here (weight order and paths, freezing, losses, training propagation,
error messages) is compared with what Keras actually does, not with a copied expectation.
"""

import types

import keras
import numpy as np
import pytest

import reference

NUMPY = types.SimpleNamespace(Layer=reference.Layer, layers=reference.layers, ops=np,
                              regularizers=reference.regularizers)  # fmt: skip
KERAS = types.SimpleNamespace(Layer=keras.layers.Layer, layers=keras.layers, ops=keras.ops,
                              regularizers=keras.regularizers)  # fmt: skip
BACKENDS = [NUMPY, KERAS]


def make_block(ns):
    class Block(ns.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.bn = ns.layers.BatchNormalization(name="bn")
            self.blocks = [ns.layers.Dense(2, name="d0"), ns.layers.Dense(2, name="d1")]
            self.by_key = {"b": ns.layers.Dense(2, name="db"), "a": ns.layers.Dense(2, name="da")}
            self.late = []

        def build(self, input_shape):
            self.own_nt = self.add_weight(shape=(1,), name="own_nt", trainable=False)
            self.scale = self.add_weight(shape=(input_shape[-1],), name="scale")
            self.own_t = self.add_weight(shape=(1,), name="own_t")

        def call(self, x, training=None):
            x = self.bn(x * self.scale, training=training)
            for layer in [*self.blocks, *self.by_key.values()]:
                x = layer(x)
            return x

    return Block(name="blk")


def layout(layer):
    return (
        [(w.path, tuple(w.shape), w.trainable) for w in layer.weights],
        [w.path for w in layer.trainable_weights],
        [w.path for w in layer.non_trainable_weights],
    )


def test_nested_weight_order_paths_and_freezing_equal_keras():
    seen = []
    for ns in BACKENDS:
        blk = make_block(ns)
        blk(np.ones((3, 2), dtype="float32"))
        states = [layout(blk)]
        blk.trainable = False
        states.append(layout(blk))
        blk.trainable = True
        states.append(layout(blk))
        seen.append(states)
    assert seen[0] == seen[1]


def make_probe(ns, log):
    class Rec(ns.Layer):
        def __init__(self, tag, **kwargs):
            super().__init__(**kwargs)
            self.tag = tag

        def call(self, x, training=None):
            log.append((self.tag, training))
            return x

    class DefaultTrue(Rec):
        def call(self, x, training=True):
            log.append((self.tag, training))
            return x

    class Outer(ns.Layer):
        def __init__(self):
            super().__init__()
            self.t, self.a = DefaultTrue("t"), Rec("a")
            self.e, self.z = Rec("e"), Rec("z")

        def call(self, x, training=None):
            log.append(("outer", training))
            self.t(x)
            self.a(x)
            self.e(x, training=False)
            return self.z(x)

    return Outer()


@pytest.mark.parametrize("training", [True, False, None, "absent"])
def test_training_propagation_equals_keras(training):
    """Keras's first call also traces call() symbolically (its sub-layers are unbuilt and Outer
    has no build), which the reference does not do; the eager calls after it must agree."""
    logs = []
    for ns in BACKENDS:
        log = []
        outer = make_probe(ns, log)
        x = np.ones((1, 1), dtype="float32")
        for _ in range(2):
            outer(x) if training == "absent" else outer(x, training=training)
        logs.append(log)
    ours, theirs = logs
    assert len(ours) == 10 and ours == theirs[-10:]


def test_losses_equal_keras():
    values = []
    for ns in BACKENDS:
        d = ns.layers.Dense(
            2, kernel_initializer="ones", bias_initializer="ones",
            kernel_regularizer=ns.regularizers.L2(0.5), bias_regularizer=ns.regularizers.L1(0.1),
            activity_regularizer=ns.regularizers.L1(1.0),
        )  # fmt: skip
        d(np.ones((4, 3), dtype="float32"))
        first = [float(v) for v in d.losses]
        d.kernel.assign(np.full((3, 2), 2.0, dtype="float32"))
        second = [float(v) for v in d.losses]
        d.trainable = False
        frozen = [float(v) for v in d.losses]
        values.append((first, second, frozen))
    np.testing.assert_allclose(np.array(values[0][0]), np.array(values[1][0]), rtol=1e-6)
    np.testing.assert_allclose(np.array(values[0][1]), np.array(values[1][1]), rtol=1e-6)
    np.testing.assert_allclose(np.array(values[0][2]), np.array(values[1][2]), rtol=1e-6)


BAD = [
    ("wrong last dim", lambda ns: ns.layers.Dense(4, name="my_dense"), (2, 3), (2, 5)),
    ("rank 1", lambda ns: ns.layers.Dense(4, name="my_dense"), None, (3,)),
    ("bn wrong axis size", lambda ns: ns.layers.BatchNormalization(name="bn"), (2, 3), (2, 4)),
    ("bn wrong rank", lambda ns: ns.layers.BatchNormalization(name="bn"), (2, 3), (2, 3, 1)),
]


@pytest.mark.parametrize("make, built_on, bad", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_input_errors_equal_keras(make, built_on, bad):
    messages = []
    for ns in BACKENDS:
        layer = make(ns)
        if built_on:
            layer(np.ones(built_on, dtype="float32"))
        with pytest.raises(ValueError) as err:
            layer(np.ones(bad, dtype="float32"))
        messages.append(str(err.value))
    assert messages[0] == messages[1]


SET_WEIGHTS = [
    ("count", [np.zeros((2, 3))]),
    ("shape", [np.zeros((3, 2)), np.zeros(3)]),
]


@pytest.mark.parametrize("weights", [s[1] for s in SET_WEIGHTS], ids=[s[0] for s in SET_WEIGHTS])
def test_set_weights_errors_start_like_keras(weights):
    messages = []
    for ns in BACKENDS:
        d = ns.layers.Dense(3, name="sd")
        d(np.ones((1, 2), dtype="float32"))
        with pytest.raises(ValueError) as err:
            d.set_weights(weights)
        messages.append(str(err.value))
    # The reference names the weight too, after Keras's sentence.
    assert messages[0].startswith(messages[1].rstrip("."))
