"""Recurrent dropout and stateful layers against stock Keras and the TF twins.

Dropout: the masks the reference draws are Keras's bit for bit (same seed, same SeedGenerator
steps, call after call); the math is compared with explicit masks fed to all three sides (the
cells' mask cache, as Keras's DropoutRNNCell keeps it; the twin's `dropout_masks=`), float64 at
the tight tier and float32 by the harness's verdict against a float64 truth computed with the
same masks. Stateful: states carried over calls and reset, the fixed batch size.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import reference
import tf_layers
from parity_tests.verdict import compare_tensors
from reference import layers

DROPOUT = [
    ("SimpleRNN", dict(dropout=0.3, recurrent_dropout=0.4)),
    ("GRU", dict(dropout=0.3)),  # one input mask (implementation 2)
    ("GRU", dict(dropout=0.3, recurrent_dropout=0.4)),  # 3 + 3 masks (implementation 1)
    ("GRU", dict(recurrent_dropout=0.4, reset_after=False, go_backwards=True)),
    ("LSTM", dict(dropout=0.3, return_sequences=True)),
    ("LSTM", dict(dropout=0.3, recurrent_dropout=0.4, return_state=True)),  # 4 + 4 masks
    ("LSTM", dict(dropout=0.5, implementation=1)),  # 4 input masks, no recurrent ones
]
# Keras 3.15 cannot run this row in training: LSTM.inner_loop broadcasts the list of 4 masks
# for its fused path (test_keras_lstm_implementation_1_dropout_fails_in_training).
KERAS_FAILS = ("LSTM", dict(dropout=0.5, implementation=1))
MODULES = {"ref": layers, "twin": tf_layers, "keras": keras.layers}


def _make(fw, name, kw, dtype, x, seed=7):
    kw = dict(kw)
    if fw == "twin":
        kw.pop("seed", None)
    layer = getattr(MODULES[fw], name)(3, dtype=dtype, **kw)
    layer(x.astype(dtype))  # build
    return layer


def _masks(cell_kw, name, shape, units, dtype, rng):
    """Explicit keep masks (count, B, width): 0 or 1 / (1 - rate), as keras.random.dropout."""
    count = 1 if name == "SimpleRNN" else {"GRU": 3, "LSTM": 4}[name]
    count = count if (cell_kw.get("recurrent_dropout") or cell_kw.get("implementation")) else 1
    out = []
    for rate, width in (
        (cell_kw.get("dropout", 0), shape[-1]),
        (cell_kw.get("recurrent_dropout", 0), units),
    ):
        if not rate:
            out.append(None)
            continue
        keep = rng.uniform(size=(count, shape[0], width)) >= rate
        out.append((keep / np.float64(1 - rate)).astype(dtype))
    return out


def _run(fw, layer, x, dys, masks, **call):
    """Outputs and the gradients of (x, *weights) for upstream `dys`, masks applied."""
    dtype = layer.dtype if isinstance(layer.dtype, str) else layer.dtype.name
    x = x.astype(dtype)
    masks = [None if m is None else m.astype(dtype) for m in masks]
    if fw == "ref":
        layer.cell._dropout_mask, layer.cell._recurrent_dropout_mask = masks
        with reference.GradientTape() as tape:
            y = reference.nest.flatten(layer(tape.watch(x), training=True, **call))
        grads = tape.gradient(y, [x, *layer.weights], [d.astype(dtype) for d in dys])
        return [np.asarray(v) for v in (*y, *grads)]
    tx = tf.constant(x)
    if fw == "keras":  # Keras's cell caches one tensor, or a list of `dropout_mask_count`
        one = getattr(layer.cell, "dropout_mask_count", None) is None
        k = [None if m is None else (m[0] if one else list(m)) for m in masks]
        layer.cell._dropout_mask, layer.cell._recurrent_dropout_mask = k
    else:
        call["dropout_masks"] = tuple(masks)
    with tf.GradientTape() as tape:
        tape.watch(tx)
        y = tf.nest.flatten(layer(tx, training=True, **call))
    grads = tape.gradient(y, [tx, *layer.weights], [d.astype(dtype) for d in dys])
    return [v.numpy() for v in (*y, *grads)]


def _output_shapes(layer, x) -> list:
    shape = layer.compute_output_shape(x.shape)
    return shape if isinstance(shape, list) else [shape]


def _assert_all(ours, theirs, dtype, truth=None):
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        row = compare_tensors(f"tensor {i}", a, b, dtype, None if truth is None else
                              (truth[0][i], truth[1][i]))  # fmt: skip
        assert row.ok, row


@pytest.mark.parametrize("name,kw", DROPOUT)
def test_dropout_masks_are_keras_bit_for_bit(name, kw):
    """Same seed: each call draws the same masks as Keras (input masks first, then recurrent;
    one per gate block under implementation 1), and the stream advances alike."""
    for dtype in ("float32", "float64"):
        x = np.ones((2, 5, 4), dtype)
        ours = getattr(layers, name)(3, seed=11, dtype=dtype, **kw).cell
        theirs = getattr(keras.layers, name)(3, seed=11, dtype=dtype, **kw).cell
        for _ in range(3):
            for cell in (ours, theirs):
                cell.reset_dropout_mask()
                cell.reset_recurrent_dropout_mask()
            pairs = [
                (ours.get_dropout_mask(x[:, 0]), theirs.get_dropout_mask(x[:, 0])),
                (ours.get_recurrent_dropout_mask(x[:, 0, :3]),
                 theirs.get_recurrent_dropout_mask(x[:, 0, :3])),
            ]  # fmt: skip
            for a, b in pairs:
                assert (a is None) == (b is None)
                if a is not None:
                    b = np.stack([np.asarray(m) for m in b]) if isinstance(b, list) else b
                    np.testing.assert_array_equal(a.reshape(np.shape(b)), np.asarray(b))
        assert np.array_equal(ours.seed_generator.state, theirs.seed_generator.state.numpy())


@pytest.mark.parametrize("name,kw", DROPOUT)
def test_seeded_dropout_calls_are_keras(name, kw):
    """float64, nothing injected: two training calls (new masks each) and one inference call
    give Keras's outputs."""
    if (name, kw) == KERAS_FAILS:
        pytest.skip("Keras fails this row (test_keras_lstm_implementation_1_dropout_fails)")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 4))
    ours, theirs = (_make(fw, name, {**kw, "seed": 5}, "float64", x) for fw in ("ref", "keras"))
    ours.set_weights([rng.standard_normal(w.shape) for w in theirs.weights])
    theirs.set_weights(ours.get_weights())
    for training in (True, True, False):
        y = reference.nest.flatten(ours(x, training=training))
        ty = tf.nest.flatten(theirs(x, training=training))
        for a, b in zip(y, ty, strict=True):
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12)
    assert np.array_equal(ours.cell.seed_generator.state, theirs.cell.seed_generator.state.numpy())


@pytest.mark.parametrize("oracle", ["twin", "keras"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", DROPOUT)
def test_dropout_with_explicit_masks_outputs_and_gradients(name, kw, dtype, oracle):
    if (name, kw) == KERAS_FAILS and oracle == "keras":
        pytest.skip("Keras fails this row (test_keras_lstm_implementation_1_dropout_fails)")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 4))
    masks = _masks(kw, name, x[:, 0].shape, 3, "float32", rng)  # float32 values, exact upcast
    pair = {d: [_make(fw, name, kw, d, x) for fw in ("ref", oracle)] for d in {dtype, "float64"}}
    values = [rng.standard_normal(w.shape) for w in pair["float64"][0].weights]
    for layer in (layer for both in pair.values() for layer in both):
        layer.set_weights([v.astype(layer.weights[0].dtype) for v in values])
    dys = [rng.standard_normal(s) for s in _output_shapes(pair["float64"][0], x)]
    fws = ("ref", oracle)
    runs = {d: [_run(fws[i], both[i], x, dys, masks) for i in (0, 1)] for d, both in pair.items()}
    truth = None if dtype == "float64" else runs["float64"]
    _assert_all(*runs[dtype], dtype, truth)


def test_keras_lstm_implementation_1_dropout_fails_in_training():
    """A Keras 3.15 bug, pinned so that a fixed Keras shows up: dropout without recurrent
    dropout under implementation=1 draws 4 masks, which LSTM.inner_loop's fused path cannot
    broadcast. The reference runs the row (and matches the twin)."""
    x = np.ones((2, 3, 4), "float32")
    with pytest.raises(Exception, match="BroadcastTo|broadcast"):
        keras.layers.LSTM(3, dropout=0.5, implementation=1)(x, training=True)
    assert layers.LSTM(3, dropout=0.5, implementation=1)(x, training=True).shape == (2, 3)


STATEFUL = [("SimpleRNN", {}), ("GRU", dict(reset_after=False, return_state=True)),
            ("LSTM", dict(return_sequences=True, go_backwards=True))]  # fmt: skip


@pytest.mark.parametrize("oracle", ["twin", "keras"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", STATEFUL)
def test_stateful_calls_carry_and_reset_states(name, kw, dtype, oracle):
    """Two calls carry the states (outputs and gradients each time, random upstream
    gradients), reset_states() zeroes them, a third call starts from zeros."""
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal((2, 5, 4)) for _ in range(3)]
    pair = {d: [_make(fw, name, {**kw, "stateful": True}, d, xs[0]) for fw in ("ref", oracle)]
            for d in {dtype, "float64"}}  # fmt: skip
    values = [rng.standard_normal(w.shape) * 0.7 for w in pair["float64"][0].weights]
    for layer in (layer for both in pair.values() for layer in both):
        layer.set_weights([v.astype(layer.weights[0].dtype) for v in values])
        layer.reset_states()

    def states(d):
        ours, theirs = pair[d]
        tf_states = theirs.states if oracle == "keras" else theirs._states
        return [v.numpy() for v in ours.states], [np.asarray(v) for v in tf_states]

    for step, x in enumerate(xs):
        if step == 2:
            for layer in (layer for both in pair.values() for layer in both):
                layer.reset_states()
        dys = [rng.standard_normal(s) for s in _output_shapes(pair["float64"][0], x)]
        fws = ("ref", oracle)
        runs = {d: [_run(fws[i], both[i], x, dys, [None, None]) for i in (0, 1)]
                for d, both in pair.items()}  # fmt: skip
        _assert_all(*runs[dtype], dtype, None if dtype == "float64" else runs["float64"])
        _assert_all(*states(dtype), dtype, None if dtype == "float64" else states("float64"))


@pytest.mark.parametrize("name", ["SimpleRNN", "GRU", "LSTM"])
def test_stateful_batch_size_is_fixed_and_a_wrong_one_changes_nothing(name):
    ours = getattr(layers, name)(3, stateful=True, name="s")
    theirs = getattr(keras.layers, name)(3, stateful=True)
    x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype("float32")
    ours(x)
    theirs(x)
    before = [v.numpy().copy() for v in ours.states]
    assert [v.path for v in ours.states] == ["s/rnn_state"] * len(before)
    assert len(ours.weights) == len(theirs.weights) == 3  # rnn_state is not a weight
    for layer in (ours, theirs):
        with pytest.raises(ValueError, match=r"(?s)batch size.*2.*3"):
            layer(np.zeros((3, 4, 5), "float32"))
    assert "s)" in str(pytest.raises(ValueError, ours, np.zeros((3, 4, 5), "float32")).value)
    for a, v in zip(before, ours.states, strict=True):
        np.testing.assert_array_equal(a, v.numpy())
    ours.reset_states()
    assert all(not v.numpy().any() for v in ours.states)
