"""Attention layers (MultiHeadAttention, Attention, AdditiveAttention) against their TF twins
and stock Keras: outputs and gradients for a random upstream gradient (harness.assert_parity),
masks with fully masked rows, both of Keras's MultiHeadAttention code paths, bad input.

The harness calls `layer(inputs, **kwargs)` with one positional argument; MultiHeadAttention
takes (query, value, key) apart, so `Positional` wrappers spread the input list (their weights
are the inner layer's, names and order unchanged). A query mask reaches MultiHeadAttention
only attached to the query (Keras 3.15 overwrites its `query_mask` argument): the wrappers
attach `attach_query_mask` as Keras's `_keras_mask` before the call.

float32 MultiHeadAttention rows run with use_bias=False: the key projection's bias has an
exactly zero gradient (it adds q . b_k to every logit of a query row, and softmax is invariant
to that shift), so both sides return pure rounding noise there (~1e-17 in float64), which no
float64 truth can judge. The float64 rows keep the bias; test_key_bias_gradient_is_zero pins
the zero itself.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import reference
import tf_layers
from parity_tests.harness import assert_parity, floatx
from reference.layers.core.masking import get_keras_mask, set_keras_mask


class RefPositional(reference.Layer):
    """reference: calls the inner layer with the input list spread as positional arguments."""

    def __init__(self, inner, **kwargs):
        super().__init__(dtype=inner.dtype, **kwargs)
        self.inner = inner

    def build(self, input_shape):
        self.inner.build(*input_shape)

    def call(self, inputs, training=None, attach_query_mask=None, value_mask=None,
             key_mask=None, attention_mask=None, return_attention_scores=False,
             use_causal_mask=False):  # fmt: skip
        q = set_keras_mask(inputs[0], attach_query_mask)
        return self.inner(q, *inputs[1:], training=training, value_mask=value_mask,
                          key_mask=key_mask, attention_mask=attention_mask,
                          return_attention_scores=return_attention_scores,
                          use_causal_mask=use_causal_mask)  # fmt: skip


class TFPositional(keras.layers.Layer):
    """The same for a Keras layer (the twin or stock Keras)."""

    def __init__(self, inner, **kwargs):
        super().__init__(dtype=inner.dtype_policy, **kwargs)
        self.inner = inner

    def build(self, input_shape):
        self.inner.build(*input_shape)

    def call(self, inputs, training=None, attach_query_mask=None, value_mask=None,
             key_mask=None, attention_mask=None, return_attention_scores=False,
             use_causal_mask=False):  # fmt: skip
        q = inputs[0]
        if attach_query_mask is not None:
            q = tf.identity(q)
            q._keras_mask = tf.convert_to_tensor(attach_query_mask)
        return self.inner(q, *inputs[1:], training=training, value_mask=value_mask,
                          key_mask=key_mask, attention_mask=attention_mask,
                          return_attention_scores=return_attention_scores,
                          use_causal_mask=use_causal_mask)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Row:
    layer: str
    config: dict
    shapes: tuple  # input shapes: query, value[, key]
    call: dict = dataclasses.field(default_factory=dict)  # masks as boolean-array shapes
    dtypes: tuple = ("float64",)
    training: object = False
    triangle: bool = False  # also twin vs stock Keras (implied at float64 by the other two)
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.layer}({self.config}) {self.shapes} {self.call}"


def _mask(shape, rng, full_rows: bool):
    """A random boolean mask; with full_rows, the first row along the last axis is all False
    (a fully masked query or key set) and the second all True."""
    m = rng.random(shape) < 0.6
    if full_rows:
        m[(0,) * (len(shape) - 1)] = False
        m[(min(1, shape[0] - 1),) + (0,) * (len(shape) - 2)] = True
    return m


MHA, ATT, ADD = "MultiHeadAttention", "Attention", "AdditiveAttention"
Q, V = (2, 4, 5), (2, 6, 5)
SCORES = dict(return_attention_scores=True)
BOTH = dict(dtypes=("float64", "float32"))  # rows also run in float32 (against the truth)
ROWS = [
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), **BOTH, triangle=True),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), SCORES, **BOTH, reason="explicit path"),
    Row(MHA, dict(num_heads=2, key_dim=3, value_dim=2, output_shape=7, use_bias=False),
        ((2, 4, 5), (2, 6, 3), (2, 6, 4))),
    Row(MHA, dict(num_heads=3, key_dim=2, output_shape=(2, 3)), (Q, V), SCORES),
    Row(MHA, dict(num_heads=2, key_dim=3), ((1, 3, 4), (1, 3, 4)), dict(use_causal_mask=True)),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), dict(use_causal_mask=True, **SCORES)),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), dict(value_mask=(2, 6))),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), dict(value_mask=(2, 6), **SCORES), **BOTH),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V, V), dict(key_mask=(2, 6), value_mask=(2, 6))),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), dict(attach_query_mask=(2, 4)), **BOTH),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), dict(attach_query_mask=(2, 4), **SCORES),
        triangle=True),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V),
        dict(attention_mask=(2, 4, 6), use_causal_mask=True), **BOTH),
    Row(MHA, dict(num_heads=2, key_dim=3), (Q, V), dict(attention_mask=(4, 6), **SCORES)),
    Row(MHA, dict(num_heads=2, key_dim=3, attention_axes=(1, 2)), ((2, 3, 4, 5), (2, 3, 4, 5)),
        dict(attention_mask=(2, 3, 4, 3, 4)), **BOTH, triangle=True),
    Row(MHA, dict(num_heads=2, key_dim=3, attention_axes=2), ((2, 3, 4, 5), (2, 3, 6, 5)), SCORES),
    Row(MHA, dict(num_heads=2, key_dim=3, dropout=0.3, seed=5, use_bias=False), (Q, V), SCORES,
        training="both", reason="dropout: Keras's Dropout bits, drawn by both sides from seed 5; "
        "no bias: the key bias's exact-zero gradient needs the sensitivity bound, which a "
        "random oracle does not get"),
    Row(MHA, dict(num_heads=8, key_dim=16), ((2, 32, 64), (2, 32, 64)), dict(value_mask=(2, 32)),
        **BOTH, reason="a larger case: 8 heads, length 32"),
    Row(ATT, {}, ((2, 4, 3), (2, 6, 3))),
    Row(ATT, dict(use_scale=True), ((1, 4, 3), (1, 6, 3), (1, 6, 3)), SCORES),
    Row(ATT, dict(score_mode="concat"), ((2, 4, 3), (2, 6, 3))),
    Row(ATT, dict(score_mode="concat", use_scale=True), ((2, 4, 3), (2, 6, 3)), SCORES),
    Row(ATT, dict(use_scale=True), ((2, 4, 3), (2, 6, 3)), dict(mask=((2, 4), (2, 6)), **SCORES),
        **BOTH, triangle=True),
    Row(ATT, {}, ((2, 5, 3), (2, 5, 3)), dict(use_causal_mask=True, mask=((2, 5), (2, 5)))),
    Row(ATT, dict(dropout=0.4, seed=3), ((2, 4, 3), (2, 6, 3)), SCORES, training="both"),
    Row(ADD, {}, ((2, 4, 3), (2, 6, 3))),
    Row(ADD, dict(use_scale=False), ((1, 4, 3), (1, 6, 3), (1, 6, 3)), SCORES),
    Row(ADD, {}, ((2, 4, 3), (2, 6, 3)), dict(mask=((2, 4), (2, 6)), use_causal_mask=True),
        **BOTH, triangle=True),
]  # fmt: skip


def _make(row, module, dtype, float32_row=False):
    config = dict(row.config)
    if float32_row and row.layer == MHA:
        config["use_bias"] = False  # module docstring: the key bias's gradient is exactly 0
    with floatx(dtype):
        layer = getattr(module, row.layer)(**config, dtype=dtype)
    if row.layer != MHA:
        return layer
    return (RefPositional if module is reference.layers else TFPositional)(layer)


def _inputs(row, dtype, rng):
    xs = [rng.standard_normal(s).astype(dtype) for s in row.shapes]
    kwargs = {}
    for name, value in row.call.items():
        if name == "mask":
            kwargs[name] = [_mask(s, rng, True) for s in value]
        elif name.endswith("_mask") and isinstance(value, tuple):
            kwargs[name] = _mask(value, rng, True)
        else:
            kwargs[name] = value
    return xs, kwargs


ORACLES = {"twin": tf_layers, "keras": keras.layers}
PARAMS = [
    pytest.param(row, dtype, oracle, id=f"{row.id}-{dtype}-{oracle}")
    for row in ROWS
    for dtype in row.dtypes
    for oracle in (("twin", "keras", "twin-keras") if row.triangle else ("twin", "keras"))
]


@pytest.mark.parametrize("row, dtype, oracle", PARAMS)
def test_attention_parity(row, dtype, oracle):
    """Outputs and gradients (inputs and every weight) against the oracle; float32 against the
    float64 truth (harness docstring). 'twin-keras' checks the twin itself against Keras."""
    rng = np.random.default_rng(0)
    xs, kwargs = _inputs(row, dtype, rng)
    ours_module = tf_layers if oracle == "twin-keras" else reference.layers
    theirs_module = keras.layers if oracle == "twin-keras" else ORACLES[oracle]
    f32 = dtype != "float64"
    pair64 = None
    if f32:
        pair64 = tuple(_make(row, m, "float64", f32) for m in (ours_module, theirs_module))
    assert_parity(
        _make(row, ours_module, dtype, f32),
        _make(row, theirs_module, dtype, f32),
        xs,
        training=row.training,
        float64_layers=pair64,
        call_kwargs=kwargs,
    )


# -- masks: Keras's behaviour, pinned -------------------------------------------------------------
def _built_pair(cls, config, shapes, rng):
    with floatx("float64"):
        ours = getattr(reference.layers, cls)(**config)
        theirs = getattr(keras.layers, cls)(**config)
    xs = [rng.standard_normal(s) for s in shapes]
    if cls == MHA:
        ours(*xs)
        theirs(*xs)
    else:
        ours(xs)
        theirs(xs)
    values = [rng.standard_normal(w.shape) for w in theirs.weights]
    ours.set_weights(values)
    theirs.set_weights(values)
    return ours, theirs, xs


def test_mha_fully_masked_query_row_averages_values_on_the_fast_path_and_is_zero_otherwise():
    """Keras's two paths differ on a fully masked row: dot_product_attention gives every key the
    same logit (-0.7 * max), so the row averages v; the Softmax layer zeroes it. NaN-free both."""
    rng = np.random.default_rng(1)
    ours, theirs, (q, v) = _built_pair(MHA, dict(num_heads=2, key_dim=3), (Q, V), rng)
    vm = np.ones((2, 6), bool)
    vm[0] = False
    fast = ours(q, v, value_mask=vm)
    explicit, scores = ours(q, v, value_mask=vm, return_attention_scores=True)
    np.testing.assert_allclose(fast, np.asarray(theirs(q, v, value_mask=vm)), rtol=1e-12)
    np.testing.assert_allclose(scores[0], 0.0)
    bias = ours.output_dense.bias.numpy()
    np.testing.assert_allclose(explicit[0], np.broadcast_to(bias, explicit[0].shape), rtol=1e-12)
    values = ours.value_dense(v[:1]).mean(axis=1)  # (1, heads, value_dim): the uniform average
    expected = np.einsum("bnh,nho->bo", values, ours.output_dense.kernel.numpy()) + bias
    np.testing.assert_allclose(fast[0], np.broadcast_to(expected, fast[0].shape), rtol=1e-10)
    assert np.isfinite(fast).all() and np.isfinite(explicit).all()


def test_mha_ignores_its_query_mask_argument_and_reads_the_attached_mask():
    """As Keras 3.15: `query_mask=` is overwritten by the query's own mask; the output carries
    the query's mask."""
    rng = np.random.default_rng(2)
    ours, theirs, (q, v) = _built_pair(MHA, dict(num_heads=2, key_dim=3), (Q, V), rng)
    qm = _mask((2, 4), rng, True)
    np.testing.assert_array_equal(ours(q, v, query_mask=qm), ours(q, v))
    np.testing.assert_allclose(
        np.asarray(theirs(q, v, query_mask=qm)), ours(q, v, query_mask=qm), rtol=1e-12
    )
    out = ours(set_keras_mask(q, qm), v)
    np.testing.assert_array_equal(get_keras_mask(out), qm)
    assert not np.allclose(out, ours(q, v))


@pytest.mark.parametrize("module", [reference.layers, keras.layers])
def test_key_bias_gradient_is_zero(module):
    """Why float32 rows drop the bias: d(key bias) is 0 up to rounding, in Keras and ours."""
    rng = np.random.default_rng(5)
    layer = module.MultiHeadAttention(2, 3, dtype="float32")
    q, v = rng.standard_normal(Q).astype("float32"), rng.standard_normal(V).astype("float32")
    layer(q, v)
    layer.set_weights([rng.standard_normal(w.shape).astype("float32") for w in layer.weights])
    dy = rng.standard_normal(Q).astype("float32")
    tape_cls = reference.GradientTape if module is reference.layers else tf.GradientTape
    with tape_cls() as tape:
        y = layer(q, v)
    grads = tape.gradient(y, layer.trainable_weights, output_gradients=dy)
    d_key_bias, d_query_bias = np.asarray(grads[3]), np.asarray(grads[1])
    assert np.abs(d_key_bias).max() < 1e-5 * np.abs(d_query_bias).max()


SEEDED = [
    (MHA, dict(num_heads=2, key_dim=3), (Q, V)),
    (MHA, dict(num_heads=2, key_dim=3, dropout=0.2, kernel_initializer="he_normal"), (Q, V)),
    (ADD, {}, ((2, 4, 3), (2, 6, 3))),
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(None, 2, 3)), (Q,)),
]


@pytest.mark.parametrize("cls, config, shapes", SEEDED)
def test_seeded_initial_weights_are_keras(cls, config, shapes):
    """Same global seed, same initial weights: each projection clones the initializer (its own
    seed), and EinsumDense gives VarianceScaling the equation's fan-in/fan-out axes."""
    xs = [np.ones(s) for s in shapes]
    built = []
    for module, set_seed in ((keras.layers, keras.utils.set_random_seed),
                             (reference.layers, reference.utils.set_random_seed)):  # fmt: skip
        with floatx("float64"):
            set_seed(11)
            layer = getattr(module, cls)(**config)
        layer(*xs) if cls == MHA else layer(xs if len(xs) > 1 else xs[0])
        built.append(layer)
    theirs, ours = built
    assert len(ours.weights) == len(theirs.weights)
    for a, b in zip(ours.weights, theirs.weights, strict=True):
        # normal draws agree within a few ulp, not bit for bit (docs/random.md)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


CONFIGS = [
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de",
                         activation="relu")),
    (ATT, dict(use_scale=True, score_mode="concat", dropout=0.1, seed=2)),
    (ADD, dict(use_scale=False)),
    (MHA, dict(num_heads=2, key_dim=3, output_shape=4, dropout=0.1)),
]  # fmt: skip


@pytest.mark.parametrize("cls, config", CONFIGS)
def test_config_is_keras_config_and_round_trips(cls, config):
    ours = getattr(reference.layers, cls)(name="x", **config).get_config()
    theirs = getattr(keras.layers, cls)(name="x", **config).get_config()
    assert sorted(ours) == sorted(theirs)
    assert {k: v for k, v in ours.items() if k != "dtype"} == {
        k: v for k, v in theirs.items() if k != "dtype"
    }
    assert getattr(reference.layers, cls).from_config(ours).get_config() == ours


def test_mha_config_and_weight_paths_are_keras():
    rng = np.random.default_rng(3)
    config = dict(num_heads=2, key_dim=3, value_dim=4, output_shape=(5,), attention_axes=[1],
                  name="mha")  # fmt: skip
    ours, theirs, _ = _built_pair(MHA, config, (Q, V, (2, 6, 7)), rng)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    a, b = ours.get_config(), theirs.get_config()
    for key in ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
                "attention_axes", "seed", "use_gate", "sliding_window"):  # fmt: skip
        assert a[key] == b[key], key


# -- bad input: a clear ValueError naming the layer, nothing changed ------------------------
BAD = [
    (MHA, (Q, V), [(2, 4, 5), (2, 6, 4)], {}, "`value` has shape (2, 6, 4)"),
    (MHA, (Q, V), [(2, 4, 3), (2, 6, 5)], {}, "`query` has shape (2, 4, 3)"),
    (MHA, (Q, V), [(2, 4, 5), (2, 6, 5), (2, 5, 5)], {}, "key.shape=(2, 5, 5)"),
    (MHA, (Q, V), [Q, V], dict(attention_mask=np.ones((2, 4, 5), bool)), "attention_mask.shape"),
    (MHA, (Q, V), [Q, V], dict(value_mask=np.ones((2, 5), bool)), "value_mask.shape=(2, 5)"),
    (ATT, ((2, 4, 3), (2, 6, 3)), [(2, 4, 3), (2, 6, 2)], {}, "value.shape=(2, 6, 2)"),
    (ATT, ((2, 4, 3), (2, 6, 3)), [(2, 4, 2), (2, 6, 2), (2, 6, 3)], {}, "query.shape=(2, 4, 2)"),
    (
        ATT,
        ((2, 4, 3), (2, 6, 3)),
        [(2, 4, 3), (2, 6, 3)],
        dict(mask=[None, np.ones((2, 4), bool)]),
        "mask[1].shape=(2, 4)",
    ),  # fmt: skip
    (ADD, ((2, 4, 3), (2, 6, 3)), [(2, 4, 3), (2, 6, 3), (2, 5, 3)], {}, "key.shape=(2, 5, 3)"),
]


@pytest.mark.parametrize("cls, built, shapes, kwargs, words", BAD)
def test_bad_input_is_a_value_error_naming_the_layer_and_changes_nothing(
    cls, built, shapes, kwargs, words
):
    rng = np.random.default_rng(4)
    with floatx("float64"):
        config = dict(num_heads=2, key_dim=3) if cls == MHA else {}
        layer = getattr(reference.layers, cls)(name="att", **config)
    xs = [rng.standard_normal(s) for s in built]
    layer(*xs) if cls == MHA else layer(xs)
    before = layer.get_weights()
    bad = [rng.standard_normal(s) for s in shapes]
    with pytest.raises(ValueError, match="att") as info:
        layer(*bad, **kwargs) if cls == MHA else layer(bad, **kwargs)
    assert words in str(info.value)
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
