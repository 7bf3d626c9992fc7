"""Attention layers and EinsumDense, NumPy only: ops.attention.einsum against np.einsum, the
hand-written EinsumDense VJP against the traced call and finite differences, the attention
layers' tape gradients against finite differences (masks, both MultiHeadAttention paths), and
bad input. The comparison with TensorFlow and Keras is parity_tests/test_attention_keras.py."""

import numpy as np
import pytest

import reference
from reference import layers
from reference.layers.fused import has_fused_vjp
from reference.ops import attention as ops
from reference.testing import check_vjp

EINSUMS = [
    ("abc,cd->abd", (2, 3, 4), (4, 5)),
    ("abc,cde->abde", (2, 3, 4), (4, 5, 6)),
    ("aecd,abcd->acbe", (2, 5, 3, 4), (2, 6, 3, 4)),  # MultiHeadAttention's scores
    ("acbe,aecd->abcd", (2, 3, 6, 5), (2, 5, 3, 4)),  # and its combination
    ("abc,cd->ad", (2, 3, 4), (4, 5)),  # b summed in the first operand alone
    ("ab,cb->ca", (3, 4), (5, 4)),  # output transposed
    ("abcd,cde->abe", (2, 3, 4, 5), (4, 5, 6)),
]


@pytest.mark.parametrize("equation, sa, sb", EINSUMS)
def test_einsum_is_np_einsum_and_its_vjp_passes_finite_differences(equation, sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    np.testing.assert_allclose(ops.einsum(equation, a, b), np.einsum(equation, a, b), rtol=1e-13)
    dy = rng.standard_normal(np.shape(np.einsum(equation, a, b)))
    check_vjp(
        lambda a, b: np.einsum(equation, a, b), [a, b], ops.einsum_vjp(equation, dy, a, b), dy
    )


def test_expand_ellipsis_spells_the_elided_axes():
    assert ops.expand_ellipsis("...b,bc->...c", (4, 2)) == "adeb,bc->adec"
    assert ops.expand_ellipsis("ab...,bc->ac...", (4, 2)) == "abde,bc->acde"


F64 = dict(dtype="float64")
DENSE = {
    "ab,bc->ac": (lambda: layers.EinsumDense("ab,bc->ac", 4, bias_axes="c", **F64), (3, 5)),
    "abc,cde->abde tanh": (
        lambda: layers.EinsumDense("abc,cde->abde", (3, 2, 6), "tanh", "de", **F64),
        (2, 3, 4),
    ),
    "...b,bc->...c relu": (
        lambda: layers.EinsumDense("...b,bc->...c", 4, "relu", bias_axes="c", **F64),
        (2, 3, 5),
    ),
    "ab...,bc->ac... bias with 1s": (
        lambda: layers.EinsumDense("ab...,bc->ac...", 4, bias_axes="c", **F64),
        (2, 5, 3),
    ),
    "abc,cd->ad summed alone": (
        lambda: layers.EinsumDense("abc,cd->ad", 4, bias_axes="d", **F64),
        (2, 3, 5),
    ),
    "abcd,cde->abe no bias": (
        lambda: layers.EinsumDense("abcd,cde->abe", (None, 6), **F64),
        (2, 3, 2, 4),
    ),  # fmt: skip
}


def _prepared(make, shape, seed=0):
    rng = np.random.default_rng(seed)
    layer = make()
    x = rng.standard_normal(shape)
    layer(x)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape))
    return layer, x, rng.standard_normal(np.shape(layer(x)))


def _grads(layer, x, dy, use_layer_vjps):
    with reference.GradientTape(use_layer_vjps=use_layer_vjps) as tape:
        tx = tape.watch(x)
        y = layer(tx)
    return tape.gradient(y, [tx, *layer.weights], dy)


@pytest.mark.parametrize("name", list(DENSE))
def test_einsum_dense_vjp_matches_the_traced_call_and_finite_differences(name):
    make, shape = DENSE[name]
    layer, x, dy = _prepared(make, shape)
    assert has_fused_vjp(type(layer))
    fused = _grads(layer, x, dy, True)
    for a, b in zip(fused, _grads(layer, x, dy, False), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    state = layer.get_weights()

    def f(x, *weights):
        layer.set_weights(weights)
        try:
            return layer(x)
        finally:
            layer.set_weights(state)

    check_vjp(f, [x, *state], fused, dy)
    y_fwd, _ = layer.vjp_fwd(x)
    np.testing.assert_array_equal(y_fwd, layer.call(x))


ATTENTION = {
    "MHA fast path, value mask with a fully masked row": (
        lambda: layers.MultiHeadAttention(2, 3, **F64),
        [(2, 4, 5), (2, 6, 5)],
        dict(value_mask=np.array([[False] * 6, [True, True, False, True, False, True]])),
    ),
    "MHA explicit path, causal, key": (
        lambda: layers.MultiHeadAttention(2, 3, value_dim=2, output_shape=4, **F64),
        [(2, 4, 5), (2, 4, 3), (2, 4, 6)],
        dict(use_causal_mask=True, return_attention_scores=True),
    ),
    "MHA two attention axes": (
        lambda: layers.MultiHeadAttention(2, 2, attention_axes=(1, 2), **F64),
        [(1, 2, 3, 4), (1, 2, 3, 4)],
        dict(),
    ),
    "Attention concat scaled, masks": (
        lambda: layers.Attention(use_scale=True, score_mode="concat", **F64),
        [(2, 3, 4), (2, 5, 4)],
        dict(mask=[np.array([[1, 0, 1], [1, 1, 1]], bool), np.array([[1, 1, 0, 1, 0]] * 2, bool)]),
    ),
    "AdditiveAttention causal": (
        lambda: layers.AdditiveAttention(**F64),
        [(2, 4, 3), (2, 4, 3)],
        dict(use_causal_mask=True),
    ),
}


@pytest.mark.parametrize("name", list(ATTENTION))
def test_attention_tape_gradients_match_finite_differences(name):
    make, shapes, kwargs = ATTENTION[name]
    rng = np.random.default_rng(1)
    layer = make()
    xs = [rng.standard_normal(s) for s in shapes]
    spread = isinstance(layer, layers.MultiHeadAttention)

    def call(inputs):
        return layer(*inputs, **kwargs) if spread else layer(list(inputs), **kwargs)

    call(xs)  # builds it
    state = [rng.standard_normal(w.shape) for w in layer.weights]
    layer.set_weights(state)
    out = call(xs)
    flat = list(out) if isinstance(out, tuple) else [out]
    dys = [rng.standard_normal(np.shape(o)) for o in flat]
    with reference.GradientTape() as tape:
        txs = [tape.watch(x) for x in xs]
        tape.watch(layer.weights)
        got = call(txs)
    grads = tape.gradient(list(got) if isinstance(got, tuple) else got,
                          [*txs, *layer.weights], dys if len(dys) > 1 else dys[0])  # fmt: skip

    def f(*args):
        layer.set_weights(list(args[len(xs) :]))
        try:
            return call(list(args[: len(xs)]))
        finally:
            layer.set_weights(state)

    check_vjp(f, [*xs, *state], grads, tuple(dys) if len(dys) > 1 else dys[0])


def test_mha_scale_is_keras_float32_rounded_value():
    """Keras casts 1/sqrt(key_dim) with ops.cast: a float32 constant first (keras-notes 10)."""
    layer = layers.MultiHeadAttention(2, 3, **F64)
    assert layer._scale == float(np.float32(1 / np.sqrt(3)))
    assert layer._scale != 1 / np.sqrt(3)


BAD_EINSUM = [
    ("ab,bc", 4, "Invalid einsum equation 'ab,bc'"),
    ("ab,bc->ad", 4, "Dimension 'd' was specified in the output"),
    ("ab,bcd->ac", 4, "Weight dimension 'd' did not have a match"),
]


@pytest.mark.parametrize("equation, out, words", BAD_EINSUM)
def test_einsum_dense_rejects_equations_keras_rejects(equation, out, words):
    layer = layers.EinsumDense(equation, out)
    with pytest.raises(ValueError, match=words):
        layer(np.ones((2, 3)))
    assert not layer.built and layer.weights == []


def test_einsum_dense_names_itself_for_a_wrong_contracted_size():
    layer = layers.EinsumDense("abc,cd->abd", (None, 4), name="proj")
    layer(np.ones((2, 3, 5)))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"'proj'.*inputs.shape=\(2, 3, 6\)"):
        layer(np.ones((2, 3, 6)))
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("masked", [False, True])
def test_fused_attention_core_matches_the_traced_call(masked):
    """MultiHeadAttention's first path records the attention core as one node with a
    hand-written backward; without layer VJPs the same forward is traced op by op."""
    rng = np.random.default_rng(6)
    layer = layers.MultiHeadAttention(2, 3, **F64)
    q, v = rng.standard_normal((2, 4, 5)), rng.standard_normal((2, 6, 5))
    kwargs = dict(value_mask=rng.random((2, 6)) < 0.6) if masked else {}
    if masked:
        kwargs["value_mask"][0] = False  # a fully masked row
    layer(q, v)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.weights])
    dy = rng.standard_normal((2, 4, 5))
    runs = []
    for fused in (True, False):
        with reference.GradientTape(use_layer_vjps=fused) as tape:
            tq, tv = tape.watch(q), tape.watch(v)
            y = layer(tq, tv, **kwargs)
        runs.append((y, tape.gradient(y, [tq, tv, *layer.weights], dy)))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])  # the same forward, bit for bit
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_fused_attention_core_second_order_matches_the_traced_call():
    """A recorded backward (gradient of a gradient) replays the readable forward."""
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal((1, 3, 2, 2)) for _ in range(3))
    dy = rng.standard_normal((1, 3, 2, 2))
    results = []
    for fused in (True, False):
        with reference.GradientTape(use_layer_vjps=fused) as outer:
            tq = outer.watch(q)
            with reference.GradientTape(use_layer_vjps=fused) as inner:
                tq2 = inner.watch(tq)
                y = ops.dot_product_attention(tq2, k, v, None, 0.5)
            g = inner.gradient(y, tq2, dy)
            s = np.sum(g * g)
        results.append(outer.gradient(s, tq))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)
