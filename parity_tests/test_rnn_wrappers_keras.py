"""RNN(cell) (a user's NumPy cell, built-in cells, StackedRNNCells), Bidirectional and
TimeDistributed: parity (outputs, input and weight gradients for a random upstream gradient)
against the TF twins and stock Keras, float64 and float32 (against a float64 truth), with the
harness; bad input.

Each row builds the three sides from one recipe: `make(m, dtype)` where `m` is the module
(reference.layers, tf_layers or keras.layers) plus the user cell of that framework.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import reference
import tf_layers
from parity_tests.harness import assert_parity, floatx
from reference import layers


class NumpyMinimalCell(reference.Layer):
    """A user's cell in NumPy (Keras's RNN docs example, with a tanh): no VJP is written; the
    tape traces `call`.  h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )

    def call(self, inputs, states):
        h = np.tanh(np.matmul(inputs, self.kernel) + np.matmul(states[0], self.recurrent_kernel))
        return h, [h]


class TFMinimalCell(keras.layers.Layer):
    """The same cell in TensorFlow, for the twin RNN and for stock keras.layers.RNN."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )

    def call(self, inputs, states):
        h = tf.tanh(tf.matmul(inputs, self.kernel) + tf.matmul(states[0], self.recurrent_kernel))
        return h, [h]


FW = {
    "ref": (layers, NumpyMinimalCell),
    "twin": (tf_layers, TFMinimalCell),
    "keras": (keras.layers, TFMinimalCell),
}
MASK = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 1, 1, 0]], bool)  # row 1 empty

ROWS = [  # (id, recipe(m, Cell, dtype), input shape, mask)
    ("RNN(user cell) sequences", lambda m, C, d: m.RNN(C(4, dtype=d), return_sequences=True,
                                                       dtype=d), (3, 5, 2), None),
    ("RNN(user cell) backwards+state, mask", lambda m, C, d: m.RNN(
        C(4, dtype=d), go_backwards=True, return_state=True, dtype=d), (3, 5, 2), MASK),
    ("RNN(LSTMCell) mask", lambda m, C, d: m.RNN(m.LSTMCell(3, dtype=d), return_sequences=True,
                                                 dtype=d), (3, 5, 2), MASK),
    ("RNN([LSTMCell, GRUCell]) stacked", lambda m, C, d: m.RNN(
        [m.LSTMCell(3, dtype=d), m.GRUCell(2, dtype=d)], return_sequences=True,
        return_state=True, dtype=d), (3, 5, 2), None),
    ("RNN(StackedRNNCells([SimpleRNNCell, user cell]))", lambda m, C, d: m.RNN(
        m.StackedRNNCells([m.SimpleRNNCell(3, dtype=d), C(2, dtype=d)], dtype=d), dtype=d),
     (3, 5, 2), MASK),
    *[(f"Bidirectional(LSTM) merge_mode={mode}", lambda m, C, d, mode=mode: m.Bidirectional(
        m.LSTM(3, return_sequences=True, dtype=d), merge_mode=mode, dtype=d), (3, 5, 2), MASK)
      for mode in ("concat", "sum", "mul", "ave", None)],
    ("Bidirectional(GRU) return_state", lambda m, C, d: m.Bidirectional(
        m.GRU(3, return_state=True, dtype=d), dtype=d), (3, 5, 2), None),
    ("Bidirectional(SimpleRNN, backward_layer=GRU)", lambda m, C, d: m.Bidirectional(
        m.SimpleRNN(3, return_sequences=True, dtype=d),
        backward_layer=m.GRU(3, return_sequences=True, go_backwards=True, dtype=d), dtype=d),
     (3, 5, 2), None),
    ("TimeDistributed(Dense relu)", lambda m, C, d: m.TimeDistributed(
        m.Dense(3, activation="relu", dtype=d), dtype=d), (2, 4, 5), None),
    ("TimeDistributed(Conv2D)", lambda m, C, d: m.TimeDistributed(
        m.Conv2D(2, 3, dtype=d), dtype=d), (2, 3, 5, 5, 2), None),
]  # fmt: skip


# The merge arithmetic of sum/mul/ave does not depend on the dtype: float64 only (time).
PARAMS = [
    pytest.param(*row, dtype, oracle, id=f"{row[0]}-{dtype}-{oracle}")
    for row in ROWS
    for dtype in ("float32", "float64")
    for oracle in ("twin", "keras")
    if dtype == "float64" or not any(f"={m}" in row[0] for m in ("sum", "mul", "ave"))
]


@pytest.mark.parametrize("name,recipe,shape,mask,dtype,oracle", PARAMS)
def test_wrapper_parity(name, recipe, shape, mask, dtype, oracle):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)

    def make(fw, d):
        return recipe(*FW[fw], d)

    truth = None if dtype == "float64" else (make("ref", "float64"), make(oracle, "float64"))
    kwargs = {} if mask is None else {"mask": mask}
    with floatx(dtype):  # Keras's RNN builds its cell's zero states in floatx
        assert_parity(make("ref", dtype), make(oracle, dtype), x, training=None,
                      call_kwargs=kwargs, float64_layers=truth)  # fmt: skip


def test_user_cell_gradient_is_traced_and_matches_finite_differences():
    """The NumPy cell has no VJP: the tape traces the loop; checked by central differences."""
    from reference.testing import check_vjp

    rng = np.random.default_rng(3)
    with floatx("float64"):
        layer = layers.RNN(NumpyMinimalCell(3), return_sequences=True, go_backwards=True)
        x = rng.standard_normal((2, 5, 2))
        layer(x)
    state = layer.get_weights()
    mask = MASK[[0, 2]]
    dy = rng.standard_normal((2, 5, 3))
    with reference.GradientTape() as tape:
        y = layer(tape.watch(x), mask=mask)
    grads = tape.gradient(y, [x, *layer.weights], dy)

    def f(x, *weights):
        layer.set_weights(weights)
        try:
            return layer(x, mask=mask)
        finally:
            layer.set_weights(state)

    check_vjp(f, [x, *state], grads, dy)


BAD = [  # (make reference, make keras, input, call kwargs, error, words in ours)
    (lambda m: m.Bidirectional(m.LSTM(2), merge_mode="max"), None, None, {}, ValueError,
     "merge_mode='max'"),
    (lambda m: m.Bidirectional("lstm"), None, None, {}, ValueError, "Received: layer='lstm'"),
    (lambda m: m.TimeDistributed(m.Dense(2)), None, (2, 3), {}, ValueError,
     "at least 3 dimensions, received: \\(2, 3\\)"),
    (lambda m: m.RNN(object()), None, None, {}, ValueError, "`call` method"),
    (lambda m: m.RNN(m.GRUCell(2)), None, (2, 4, 3), {"initial_state": [np.zeros((2, 3))]},
     ValueError, r"initial_state.*\(2, 2\).*\(2, 3\)"),
    (lambda m: m.RNN(m.GRUCell(2)), None, (2, 4, 3), {"mask": np.ones((4, 2), bool)},
     ValueError, r"mask of shape \(batch, timesteps\) = \(2, 4\)"),
]  # fmt: skip


@pytest.mark.parametrize("make,_k,shape,kwargs,error,words", BAD)
def test_bad_input_is_a_clear_error_in_ours_and_an_error_in_keras(
    make, _k, shape, kwargs, error, words
):
    """Ours: the error names what was received; Keras raises too (its type may differ)."""
    if shape is None:  # a bad constructor argument
        with pytest.raises(error, match=words):
            make(layers)
        with pytest.raises((ValueError, TypeError)):
            make(keras.layers)
        return
    x = np.zeros(shape, "float32")
    ours = make(layers)
    if kwargs:
        ours(x)  # built; the bad call must change no weight
    before = [w.numpy().copy() for w in ours.weights]
    with pytest.raises(error, match=words):
        ours(x, **kwargs)
    for a, w in zip(before, ours.weights, strict=True):
        np.testing.assert_array_equal(a, w.numpy())
    with pytest.raises(Exception):  # noqa: B017 - Keras's types vary (ValueError, InvalidArgument)
        make(keras.layers)(x, **kwargs)


SEEDED = [  # dropout masks drawn as Keras (stacked: cell by cell), stateful wrappers
    ("RNN(LSTMCell) dropout", lambda m: m.RNN(
        m.LSTMCell(3, dropout=0.3, recurrent_dropout=0.2, seed=3), return_sequences=True)),
    ("RNN([GRUCell, SimpleRNNCell]) dropout", lambda m: m.RNN(
        [m.GRUCell(3, dropout=0.3, seed=4), m.SimpleRNNCell(2, recurrent_dropout=0.4, seed=5)],
        return_state=True)),
    ("RNN(GRUCell) stateful", lambda m: m.RNN(m.GRUCell(3), stateful=True)),
    ("Bidirectional(LSTM) stateful", lambda m: m.Bidirectional(
        m.LSTM(3, stateful=True, return_sequences=True))),
]  # fmt: skip


@pytest.mark.parametrize("name,make", SEEDED, ids=[r[0] for r in SEEDED])
def test_seeded_and_stateful_wrapper_calls_are_keras(name, make):
    """float64, two training calls then an inference call: new dropout masks at each call
    (Keras's streams), states carried by stateful layers; then reset_states."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3))
    with floatx("float64"):
        ours, theirs = make(layers), make(keras.layers)
        ours(x)
        theirs(x)
    ours.set_weights([rng.standard_normal(w.shape) * 0.5 for w in ours.weights])
    theirs.set_weights(ours.get_weights())
    for layer in (ours, theirs):
        if hasattr(layer, "reset_states"):
            layer.reset_states()
    for training in (True, True, False):
        y, ty = reference.nest.flatten(ours(x, training=training)), tf.nest.flatten(
            theirs(x, training=training))  # fmt: skip
        for a, b in zip(y, ty, strict=True):
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12)
