"""Keras 2 -> Keras 3 traps that change a port, beyond the porting guide's section 6 table
(listed in its section 16): each row runs Keras 2 (tf_keras), Keras 3 and the reference, and
checks that Keras 2 differs while the reference follows Keras 3."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import reference

X = np.linspace(-2.0, 2.0, 9).astype("float32")


def _outcome(fn: Callable) -> Any:
    """fn's result, or the type of the exception it raised."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the exception type is the observed behaviour
        return type(e)


def _built_dense(mod, **kwargs):
    layer = mod.layers.Dense(2, **kwargs)
    layer.build((None, 3))
    return layer


def _nested_names(mod):
    base = mod.Model if mod is not reference else reference.Model

    class Net(base):
        def __init__(self):
            super().__init__()
            self.child = mod.layers.Dense(2, name="child")

        def build(self, input_shape):
            self.own = self.add_weight(name="own", shape=(2,))
            self.child.build(input_shape)

        def call(self, x):
            return self.child(x) + self.own

    net = Net()
    net(np.ones((1, 3), "float32"))
    return [w.name.rsplit("/", 1)[-1].split(":")[0] for w in net.weights]


def _frozen_regularized_losses(mod):
    layer = _built_dense(mod, kernel_regularizer=mod.regularizers.L2(0.1))
    layer.trainable = False
    return len(layer.losses)


@dataclasses.dataclass
class Trap:
    id: str
    observe: Callable  # (module) -> an observable value: Keras 2's must differ from Keras 3's
    same: Callable = staticmethod(lambda a, b: a == b)


TRAPS = [
    Trap("weight.name has no scope or :0 suffix", lambda m: _built_dense(m).kernel.name),
    Trap("a model's own weights come before its children's", _nested_names),
    Trap(
        "relu's leak is negative_slope, not alpha",
        lambda m: _outcome(lambda: np.asarray(m.activations.relu(tf.constant(X), alpha=0.1))),
        lambda a, b: a is b,
    ),
    Trap("LeakyReLU's argument is negative_slope", lambda m: "negative_slope" in _leaky_config(m)),
    Trap(
        "softmax takes a 1-D input",
        lambda m: _outcome(lambda: float(np.sum(m.activations.softmax(_tensor(m, X))))),
        lambda a, b: a == b or (isinstance(a, float) and np.isclose(a, b)),
    ),
    Trap("a frozen layer's regularizer adds no loss", _frozen_regularized_losses),
]


def _leaky_config(mod) -> dict:
    return mod.layers.LeakyReLU().get_config()


def _tensor(mod, x):
    return tf.constant(x) if mod is not reference else x


@pytest.mark.parametrize("trap", TRAPS, ids=[t.id for t in TRAPS])
def test_keras2_differs_and_the_reference_follows_keras3(trap):
    k2, k3, ours = (trap.observe(m) for m in (tf_keras, keras, reference))
    assert not trap.same(k2, k3), f"Keras 2 and 3 agree ({k2!r}): not a trap"
    assert trap.same(ours, k3), f"reference {ours!r}, Keras 3 {k3!r}, Keras 2 {k2!r}"


def test_gelu_default_differs_between_ops_and_activations():
    """keras.ops.gelu defaults to the tanh approximation, keras.activations.gelu to the exact
    erf form; the reference's activations.gelu is the exact one."""
    exact, approx = keras.activations.gelu(X).numpy(), keras.ops.gelu(X).numpy()
    assert np.max(np.abs(exact - approx)) > 1e-4
    np.testing.assert_allclose(reference.activations.gelu(X), exact, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        reference.activations.gelu(X, approximate=True), approx, rtol=1e-6, atol=1e-7
    )
