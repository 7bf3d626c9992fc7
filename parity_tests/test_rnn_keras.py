"""Recurrent layers against stock Keras, beyond the parity rows of cases.py: configs, seeded
initial weights (unit_forget_bias, orthogonal recurrent kernels), one cell step, bad input."""

import keras
import numpy as np
import pytest

import reference
from parity_tests.harness import floatx
from reference import layers

LAYERS = [
    ("SimpleRNN", {}),
    ("GRU", {}),
    ("GRU", dict(reset_after=False, use_bias=False)),
    ("LSTM", {}),
    ("LSTM", dict(unit_forget_bias=False, go_backwards=True, return_state=True)),
]


KEYS = ("units", "activation", "recurrent_activation", "use_bias", "return_sequences",
        "return_state", "go_backwards", "stateful", "unroll", "reset_after", "unit_forget_bias",
        "dropout", "recurrent_dropout", "zero_output_for_mask")  # fmt: skip


@pytest.mark.parametrize("name,kw", LAYERS)
def test_config_is_keras_config(name, kw):
    ours = getattr(layers, name)(3, name="r", **kw).get_config()
    theirs = getattr(keras.layers, name)(3, name="r", **kw).get_config()
    assert sorted(ours) == sorted(theirs)
    for key in KEYS:
        assert ours.get(key) == theirs.get(key), key


@pytest.mark.parametrize("name,kw", LAYERS)
def test_seeded_initial_weights_are_keras(name, kw):
    """Same seed, same initial weights: glorot kernel, orthogonal recurrent kernel, and the
    bias (ones in LSTM's forget block when unit_forget_bias)."""
    with floatx("float64"):
        keras.utils.set_random_seed(11)
        k = getattr(keras.layers, name)(3, **kw)
        k.build((2, 4, 5))
        reference.utils.set_random_seed(11)
        r = getattr(layers, name)(3, **kw)
        r.build((2, 4, 5))
    assert [w.path.split("/", 1)[1] for w in r.weights] == [
        w.path.split("/", 1)[1] for w in k.weights
    ]
    for a, b in zip(r.weights, k.weights, strict=True):
        # normal draws (orthogonal's) agree within a few ulp, not bit for bit (docs/random.md)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


CELLS = [("SimpleRNNCell", {}, 1), ("GRUCell", {}, 1), ("GRUCell", dict(reset_after=False), 1),
         ("LSTMCell", {}, 2)]  # fmt: skip


@pytest.mark.parametrize("name,kw,n_states", CELLS)
def test_one_cell_step_is_keras(name, kw, n_states):
    rng = np.random.default_rng(5)
    with floatx("float64"):
        ours, theirs = getattr(layers, name)(4, **kw), getattr(keras.layers, name)(4, **kw)
        ours.build((3, 2))
        theirs.build((3, 2))
    values = [rng.standard_normal(w.shape) for w in theirs.weights]
    theirs.set_weights(values)
    ours.set_weights(values)
    x = rng.standard_normal((3, 2))
    states = [rng.standard_normal((3, 4)) for _ in range(n_states)]
    out, new = ours(x, states)
    k_out, k_new = theirs(x, states)
    np.testing.assert_allclose(out, np.asarray(k_out), rtol=1e-12)
    for a, b in zip(new, k_new, strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12)


@pytest.mark.parametrize("shape", [(2, 4), (2, 4, 3, 1)])
@pytest.mark.parametrize("name", ["SimpleRNN", "GRU", "LSTM"])
def test_wrong_input_rank_is_a_value_error_in_both(name, shape):
    x = np.zeros(shape, "float32")
    for layer in (getattr(layers, name)(2), getattr(keras.layers, name)(2)):
        with pytest.raises(ValueError, match=f"expected ndim=3, found ndim={len(shape)}"):
            layer(x)
        assert not layer.built


MASK = np.array([[0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 1, 0]], bool)  # row 0 fully masked


@pytest.mark.parametrize("mask", [None, MASK], ids=["no mask", "mask"])
@pytest.mark.parametrize("oracle", ["keras", "twin"])
@pytest.mark.parametrize(
    "name,kw,n",
    [("SimpleRNN", {}, 1), ("GRU", dict(reset_after=False), 1), ("GRU", {}, 1),
     ("LSTM", dict(go_backwards=True, return_state=True), 2)],
)  # fmt: skip
def test_initial_state_outputs_and_gradients_are_keras(name, kw, n, oracle, mask):
    """float64: outputs and the gradients of the sequence, the initial states and the weights;
    with a mask (a fully masked row: its outputs are zeros, its states the initial ones)."""
    import tensorflow as tf

    import tf_layers

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 4))
    states = [rng.standard_normal((2, 3)) for _ in range(n)]
    with floatx("float64"):
        ours = getattr(layers, name)(3, return_sequences=True, **kw)
        theirs = getattr(keras.layers if oracle == "keras" else tf_layers, name)(
            3, return_sequences=True, **kw
        )
        ours(x)
        theirs(x)
    values = [rng.standard_normal(w.shape) for w in theirs.weights]
    ours.set_weights(values)
    theirs.set_weights(values)
    with reference.GradientTape() as tape:
        sources = [tape.watch(v) for v in (x, *states)]
        y = ours(sources[0], initial_state=list(sources[1:]), mask=mask)
    dys = [rng.standard_normal(np.shape(o)) for o in reference.nest.flatten(y)]
    g = tape.gradient(reference.nest.flatten(y), [x, *states, *ours.weights], dys)
    tx = [tf.constant(v) for v in (x, *states)]
    with tf.GradientTape() as ttape:
        ttape.watch(tx)
        ty = theirs(tx[0], initial_state=list(tx[1:]), mask=mask)
    tg = ttape.gradient(tf.nest.flatten(ty), [*tx, *theirs.weights], dys)
    for a, b in zip(reference.nest.flatten(y), tf.nest.flatten(ty), strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(g, tg, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12)
