"""Recurrent layers and ops, NumPy only: the BPTT kernels of reference/ops/rnn.py against finite
differences (non-zero initial states, the returned cell state's gradient), Keras's layout and
initial bias, cells against their layer, and bad input. The layers' hand-written VJPs are also
rows of reference/layers/vjp_test.py; parity with TF and Keras is in parity_tests."""

import numpy as np
import pytest

import reference
from reference import activations, layers
from reference.ops import rnn as rnn_ops
from reference.testing import check_vjp

TANH, SIGMOID = activations.tanh, activations.sigmoid
D = rnn_ops.derivative_from_output


def _draw(seed, t, b, u, gates):
    rng = np.random.default_rng(seed)
    xw = rng.standard_normal((t, b, gates * u))
    rk = rng.standard_normal((u, gates * u)) * 0.7
    return rng, xw, rk, rng.standard_normal((b, u)), rng.standard_normal((b, u))


def _simple(seed):
    rng, xw, rk, h0, _ = _draw(seed, 6, 2, 3, 1)
    dhs = rng.standard_normal((6, 2, 3))

    def fwd(xw, rk, h0):
        return rnn_ops.simple_rnn_forward(xw, rk, h0, TANH)

    hs = fwd(xw, rk, h0)
    return fwd, (xw, rk, h0), dhs, rnn_ops.simple_rnn_backward(dhs, hs, h0, rk, D(TANH))


def _lstm(seed):
    rng, xw, rk, h0, c0 = _draw(seed, 6, 2, 3, 4)
    dhs, dc = rng.standard_normal((6, 2, 3)), rng.standard_normal((2, 3))

    def fwd(xw, rk, h0, c0):
        hs, cs, _, _ = rnn_ops.lstm_forward(xw, rk, h0, c0, TANH, SIGMOID)
        return [hs, cs[-1]]

    hs, cs, gates, act_cs = rnn_ops.lstm_forward(xw, rk, h0, c0, TANH, SIGMOID)
    grads = rnn_ops.lstm_backward(dhs, dc, hs, cs, gates, act_cs, h0, c0, rk, D(TANH), D(SIGMOID))
    return fwd, (xw, rk, h0, c0), [dhs, dc], grads


def _gru(reset_after):
    def make(seed):
        rng, xw, rk, h0, _ = _draw(seed, 6, 2, 3, 3)
        rb = rng.standard_normal(9) if reset_after else None
        dhs = rng.standard_normal((6, 2, 3))

        def fwd(xw, rk, h0, *rb):
            return rnn_ops.gru_forward(xw, rk, h0, TANH, SIGMOID, reset_after, *rb)[0]

        hs, gates, mhs = rnn_ops.gru_forward(xw, rk, h0, TANH, SIGMOID, reset_after, rb)
        dxw, drk, db, dh0 = rnn_ops.gru_backward(
            dhs, hs, gates, mhs, h0, rk, D(TANH), D(SIGMOID), reset_after
        )
        primals = (xw, rk, h0, rb) if reset_after else (xw, rk, h0)
        grads = (dxw, drk, dh0, db) if reset_after else (dxw, drk, dh0)
        return fwd, primals, dhs, grads

    return make


KERNELS = {
    "simple_rnn": _simple,
    "lstm": _lstm,
    "gru reset_after": _gru(True),
    "gru reset_before": _gru(False),
}


@pytest.mark.parametrize("name", list(KERNELS))
def test_bptt_kernel_matches_finite_differences(name):
    """Every gradient a BPTT kernel returns, the initial states' included (the layers start
    from zeros, so only this test sees dh0 and dc0)."""
    fwd, primals, dy, grads = KERNELS[name](seed=3)
    check_vjp(fwd, list(primals), list(grads), dy)


@pytest.mark.parametrize("name", list(KERNELS))
def test_bptt_kernel_finite_difference_check_can_fail(name):
    fwd, primals, dy, grads = KERNELS[name](seed=4)
    wrong = [g.copy() for g in grads]
    wrong[1][0, 0] += 1e-3  # one entry of d recurrent_kernel
    with pytest.raises(reference.testing.VJPCheckError):
        check_vjp(fwd, list(primals), wrong, dy)


LAYOUTS = [
    (layers.SimpleRNN, {}, "simple_rnn_cell", [(5, 3), (3, 3), (3,)]),
    (layers.LSTM, {}, "lstm_cell", [(5, 12), (3, 12), (12,)]),
    (layers.GRU, {}, "gru_cell", [(5, 9), (3, 9), (2, 9)]),
    (layers.GRU, dict(reset_after=False), "gru_cell", [(5, 9), (3, 9), (9,)]),
    (layers.LSTM, dict(use_bias=False), "lstm_cell", [(5, 12), (3, 12)]),
]


@pytest.mark.parametrize("cls,kw,cell,shapes", LAYOUTS)
def test_weight_names_shapes_and_order_are_keras(cls, kw, cell, shapes):
    layer = cls(3, **kw)
    layer(np.zeros((2, 4, 5), "float32"))
    names = ["kernel", "recurrent_kernel", "bias"][: len(shapes)]
    assert [w.path for w in layer.weights] == [f"{layer.name}/{cell}/{n}" for n in names]
    assert [w.shape for w in layer.weights] == shapes


@pytest.mark.parametrize("unit_forget_bias,expected", [(True, [0, 1, 0, 0]), (False, [0] * 4)])
def test_lstm_unit_forget_bias_initialises_the_forget_block_to_ones(unit_forget_bias, expected):
    layer = layers.LSTM(2, unit_forget_bias=unit_forget_bias)
    layer(np.zeros((1, 3, 4), "float32"))
    np.testing.assert_array_equal(layer.cell.bias.numpy(), np.repeat(expected, 2))


@pytest.mark.parametrize(
    "cls,kw",
    [(layers.SimpleRNN, {}), (layers.LSTM, {}), (layers.GRU, {}),
     (layers.GRU, dict(reset_after=False))],
)  # fmt: skip
def test_one_cell_step_is_the_layer_on_a_length_one_sequence(cls, kw):
    rng = np.random.default_rng(0)
    layer = cls(3, return_state=True, dtype="float64", **kw)
    x = rng.standard_normal((2, 1, 4))
    layer(x)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape))
    out, *states = layer(x)
    zeros = [np.zeros((2, 3))] * len(states)
    step_out, step_states = layer.cell(x[:, 0], zeros)
    np.testing.assert_allclose(step_out, out, rtol=1e-13)
    for a, b in zip(step_states, states, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


@pytest.mark.parametrize(
    "make,fused",
    [(lambda: layers.LSTM(2), True), (lambda: layers.LSTM(2, activation="relu"), True),
     (lambda: layers.GRU(2, recurrent_activation="hard_sigmoid"), True),
     (lambda: layers.SimpleRNN(2, activation="linear"), True),
     (lambda: layers.LSTM(2, activation="gelu"), False),
     (lambda: layers.GRU(2, recurrent_activation="softsign"), False),
     (lambda: layers.SimpleRNN(2, activation="elu"), False)],
)  # fmt: skip
def test_hand_written_bptt_only_for_activations_with_a_from_output_derivative(make, fused):
    layer = make()
    x = np.zeros((1, 2, 3), "float32")
    layer(x)
    assert (layer.vjp_fwd(x) is not NotImplemented) == fused


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_config_round_trip(cls):
    layer = cls(3, return_sequences=True, go_backwards=True, name="r")
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config


BAD_CONSTRUCTORS = [
    (lambda: layers.LSTM(0), ValueError, "units"),
    (lambda: layers.GRU(True), ValueError, "units"),
    (lambda: layers.SimpleRNN(3, activation="nope"), ValueError, "nope"),
    (lambda: layers.LSTM(3, dropout="0.5"), TypeError, r"LSTMCell: expected `dropout`.*'0.5'"),
    (lambda: layers.GRU(3, recurrent_dropout=None), TypeError, "recurrent_dropout=None"),
]


@pytest.mark.parametrize("make,error,words", BAD_CONSTRUCTORS)
def test_bad_constructor_arguments(make, error, words):
    with pytest.raises(error, match=words):
        make()


X = np.zeros((2, 4, 3), "float32")
BAD_CALLS = [
    (np.zeros((2, 4), "float32"), {}, ValueError, "expected ndim=3, found ndim=2"),
    (np.zeros((2, 4, 3, 1), "float32"), {}, ValueError, "expected ndim=3, found ndim=4"),
    (X, dict(initial_state=[np.zeros((2, 2))]), ValueError, r"2 array\(s\).*Received: 1"),
    (X, dict(initial_state=np.zeros((2, 2))), ValueError, r"Received: 1 array\(s\)"),
    (X, dict(initial_state=[np.zeros((2, 3))] * 2), ValueError, r"\(2, 2\).*\(2, 3\)"),
    (X, dict(initial_state=[np.zeros((3, 2))] * 2), ValueError, r"\(2, 2\).*\(3, 2\)"),
    (X, dict(mask=np.ones((4, 2), bool)), ValueError, r"mask of shape \(batch.*\(4, 2\)"),
    (X, dict(mask=np.ones((2, 4, 1), bool)), ValueError, r"Received: mask of shape \(2, 4, 1\)"),
]


@pytest.mark.parametrize("x,kw,error,words", BAD_CALLS)
def test_bad_calls_name_the_layer_and_change_no_weight(x, kw, error, words):
    layer = layers.LSTM(2, name="my_lstm")
    if kw:
        layer(np.ones((2, 4, 3), "float32"))
    before = [w.numpy().copy() for w in layer.weights]
    with pytest.raises(error, match=words) as info:
        layer(x, **kw)
    assert "LSTM (my_lstm)" in str(info.value) or "layer 'my_lstm'" in str(info.value)
    assert layer.built == bool(kw)
    for a, w in zip(before, layer.weights, strict=True):
        np.testing.assert_array_equal(a, w.numpy())


@pytest.mark.parametrize("cls,n", [(layers.SimpleRNN, 1), (layers.GRU, 1), (layers.LSTM, 2)])
def test_initial_state_gradient_is_traced_and_matches_finite_differences(cls, n):
    rng = np.random.default_rng(7)
    layer = cls(3, return_sequences=True, go_backwards=True, dtype="float64")
    x = rng.standard_normal((2, 5, 4))
    states = [rng.standard_normal((2, 3)) for _ in range(n)]
    layer(x)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape))
    check_vjp(lambda x, *s: layer(x, initial_state=list(s)), [x, *states])


@pytest.mark.parametrize("cls,n", [(layers.SimpleRNN, 1), (layers.GRU, 1), (layers.LSTM, 2)])
@pytest.mark.parametrize("how", ["constant initial_state", "stateful"])
def test_bptt_from_nonzero_states_matches_the_traced_call(cls, n, how):
    """Constant (untracked) initial states and a stateful layer's states take the hand-written
    BPTT from h0 (and c0); its gradients equal the traced call's."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 5, 4))
    states = [rng.standard_normal((2, 3)) for _ in range(n)]
    layer = cls(3, return_sequences=True, stateful=how == "stateful", dtype="float64")
    layer(x)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape))
    kw = {} if how == "stateful" else dict(initial_state=states)
    dy = rng.standard_normal((2, 5, 3))
    grads = []
    for fused in (True, False):
        if how == "stateful":
            for v, s in zip(layer.states, states, strict=True):
                v.assign(s)
        assert (layer.vjp_fwd(x, **kw) is NotImplemented) is False
        if how == "stateful":
            for v, s in zip(layer.states, states, strict=True):
                v.assign(s)
        with reference.GradientTape(use_layer_vjps=fused) as tape:
            y = layer(tape.watch(x), **kw)
        grads.append(tape.gradient(y, [x, *layer.weights], dy))
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


MASKED = [
    (layers.SimpleRNN, dict(return_sequences=True, go_backwards=True)),
    (layers.LSTM, dict(return_state=True, go_backwards=True)),
    (layers.LSTM, dict(return_sequences=True)),
    (layers.GRU, dict(return_sequences=True, return_state=True)),
    (layers.GRU, dict(reset_after=False, go_backwards=True)),
]


@pytest.mark.parametrize("cls,kw", MASKED)
def test_masked_bptt_matches_the_traced_call_and_finite_differences(cls, kw):
    rng = np.random.default_rng(9)
    layer = cls(3, dtype="float64", **kw)
    x = rng.standard_normal((3, 6, 2))
    mask = rng.uniform(size=(3, 6)) < 0.6
    mask[0] = False  # a fully masked row
    mask[1, -1] = False  # a masked last step (go_backwards: the first one processed)
    layer(x)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape))
    assert layer.vjp_fwd(x, mask=mask) is not NotImplemented
    outs = reference.nest.flatten(layer(x, mask=mask))
    dys = [rng.standard_normal(np.shape(o)) for o in outs]
    grads = []
    for fused in (True, False):
        with reference.GradientTape(use_layer_vjps=fused) as tape:
            y = reference.nest.flatten(layer(tape.watch(x), mask=mask))
        grads.append(tape.gradient(y, [x, *layer.weights], dys))
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    state = layer.get_weights()

    def f(x, *weights):
        layer.set_weights(weights)
        try:
            return reference.nest.flatten(layer(x, mask=mask))
        finally:
            layer.set_weights(state)

    check_vjp(f, [x, *state], grads[0], dys)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("masked", [False, True])
def test_lstm_fast_loop_is_the_readable_loop_bit_for_bit(dtype, masked):
    """The preallocated in-place loop (plain arrays, tanh/sigmoid) against the readable loop,
    reached through wrappers of the same activations: every returned array identical."""
    from reference import activations
    from reference.ops import rnn as rnn_ops

    rng = np.random.default_rng(12)
    xw, h0, c0 = (rng.standard_normal(s).astype(dtype) for s in ((7, 3, 16), (3, 4), (3, 4)))
    R = rng.standard_normal((4, 16)).astype(dtype)
    mask = rng.uniform(size=(7, 3)) < 0.6 if masked else None
    fast = rnn_ops.lstm_forward(xw, R, h0, c0, activations.tanh, activations.sigmoid, mask)
    slow = rnn_ops.lstm_forward(
        xw, R, h0, c0, lambda z: activations.tanh(z), lambda z: activations.sigmoid(z), mask
    )
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)


ACTIVATIONS = [
    (layers.SimpleRNN, dict(activation="relu", return_sequences=True)),
    (layers.GRU, dict(activation="relu", recurrent_activation="hard_sigmoid")),
    (layers.GRU, dict(recurrent_activation="hard_sigmoid", reset_after=False, go_backwards=True)),
    (layers.LSTM, dict(activation="relu", recurrent_activation="hard_sigmoid", return_state=True)),
]


@pytest.mark.parametrize("cls,kw", ACTIVATIONS)
def test_bptt_of_relu_and_hard_sigmoid_matches_traced_and_finite_differences(cls, kw):
    """relu and hard_sigmoid take the hand-written BPTT (derivatives from the outputs)."""
    rng = np.random.default_rng(13)
    layer = cls(3, dtype="float64", **kw)
    x = rng.standard_normal((2, 6, 2))
    layer(x)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape))
    assert layer.vjp_fwd(x) is not NotImplemented
    dys = [rng.standard_normal(np.shape(o)) for o in reference.nest.flatten(layer(x))]
    grads = []
    for fused in (True, False):
        with reference.GradientTape(use_layer_vjps=fused) as tape:
            y = reference.nest.flatten(layer(tape.watch(x)))
        grads.append(tape.gradient(y, [x, *layer.weights], dys))
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    state = layer.get_weights()

    def f(x, *weights):
        layer.set_weights(weights)
        try:
            return reference.nest.flatten(layer(x))
        finally:
            layer.set_weights(state)

    check_vjp(f, [x, *state], grads[0], dys)
