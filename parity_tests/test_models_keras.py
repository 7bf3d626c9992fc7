"""Model construction side by side with stock Keras: layers, weight paths and order, symbolic
output shapes, parameter counts, and outputs after set_weights (float64, rtol 1e-12)."""

from __future__ import annotations

import os
import warnings

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import reference  # noqa: E402
from reference import layers as rl  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    # Measured: a Keras model trained after other Keras models were built in the same process
    # can differ from a fresh session's by ~1e-9 relative in float64 (the reference does not
    # move); clear_session isolates each row.
    keras.backend.clear_session()
    reference.naming._uids.clear()


def _layers(lib):
    return keras.layers if lib is keras else rl


def sequential(lib):
    L = _layers(lib)
    return lib.Sequential([lib.Input((5,), dtype="float64"), L.Dense(4, name="d1", dtype="float64"),
                           L.BatchNormalization(name="bn", dtype="float64"),
                           L.Activation("relu", name="act", dtype="float64"),
                           L.Dense(2, name="d2", dtype="float64")], name="seq")  # fmt: skip


def functional_nested(lib):
    L = _layers(lib)
    a, b = lib.Input((5,), name="a", dtype="float64"), lib.Input((3,), name="b", dtype="float64")
    inner_in = lib.Input((4,), name="inner_in", dtype="float64")
    inner = lib.Model(inner_in, L.Dense(2, name="inner_d", dtype="float64")(inner_in), name="inner")
    ha = L.Dense(4, activation="tanh", name="da", dtype="float64")(a)
    hb = L.Dense(4, name="proj", dtype="float64")(b)
    h = keras.layers.Add(name="add", dtype="float64")([ha, hb]) if lib is keras else ha + hb
    twice = L.Dense(4, name="twice", dtype="float64")
    head = L.Dense(1, name="head", dtype="float64")(twice(twice(h)))  # a layer shared by two calls
    return lib.Model([a, b], [inner(h), head], name="net")


def _inputs(model, rng):
    shapes = [tuple(x.shape) for x in model.inputs]
    xs = [rng.standard_normal((7, *s[1:])) for s in shapes]
    return xs[0] if len(xs) == 1 else xs


@pytest.mark.parametrize("build", [sequential, functional_nested], ids=lambda f: f.__name__)
def test_model_structure_and_outputs_match_keras(build):
    k_model, r_model = build(keras), build(reference)
    k_paths = [w.path for w in k_model.weights]
    r_paths = [w.path for w in r_model.weights]
    assert r_paths == k_paths
    assert r_model.count_params() == k_model.count_params()
    named = [x.name for x in r_model.layers if type(x).__name__ not in ("OpLayer",)]
    assert [x for x in named if x != "add"] == [x.name for x in k_model.layers if x.name != "add"]
    k_shapes = [tuple(o.shape) for o in k_model.outputs]
    r_shapes = [tuple(o.shape) for o in r_model.outputs]
    assert r_shapes == k_shapes
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape) for w in k_model.get_weights()]
    weights = [np.abs(w) if "variance" in p else w for w, p in zip(weights, k_paths, strict=True)]
    k_model.set_weights(weights)
    r_model.set_weights(weights)
    x = _inputs(k_model, rng)
    for training in (False, True):
        k_out = keras.tree.flatten(k_model(x, training=training))
        r_out = reference.nest.flatten(r_model(x, training=training))
        for k, r in zip(k_out, r_out, strict=True):
            np.testing.assert_allclose(r, np.asarray(k), rtol=1e-12, atol=1e-12)
    for k, r in zip(k_model.weights, r_model.weights, strict=True):  # BN moved in training
        np.testing.assert_allclose(r.numpy(), k.numpy(), rtol=1e-12, atol=1e-12)


def test_get_layer_and_wrong_input_shape_errors_match_keras():
    k_model, r_model = sequential(keras), sequential(reference)
    assert r_model.get_layer("bn").name == k_model.get_layer("bn").name
    assert r_model.get_layer(index=0).name == k_model.get_layer(index=0).name
    for model in (k_model, r_model):
        with pytest.raises(ValueError, match="No such layer"):
            model.get_layer("missing")
        with pytest.raises(ValueError, match="incompatible"):
            model(np.zeros((2, 4)))


def _first_layer_shape_model(lib, row):
    L = _layers(lib)
    first, rest = row
    layers = [getattr(L, cls)(*args, **kw) for cls, args, kw in first + rest]
    return lib.Sequential(layers)


# Sequential whose layers carry input_shape=/input_dim= (Keras 3 warns and builds from the first)
SHAPE_ARG_ROWS = [
    ("input_shape", ([("Dense", (4,), {"input_shape": (3,)})], [("Dense", (2,), {})])),
    ("input_dim", ([("Dense", (4,), {"input_dim": 5})], [("Dense", (1,), {})])),
    ("conv_input_shape", ([("Conv2D", (2, 3), {"input_shape": (6, 6, 1)})],
                          [("MaxPooling2D", (), {}), ("Flatten", (), {}), ("Dense", (2,), {})])),
    ("rank3_none", ([("Dense", (2,), {"input_shape": (None, 3)})], [])),
    ("later_layer_ignored", ([("Dense", (2,), {})], [("Dense", (1,), {"input_shape": (7,)})])),
]  # fmt: skip


@pytest.mark.parametrize("row", SHAPE_ARG_ROWS, ids=[r[0] for r in SHAPE_ARG_ROWS])
def test_sequential_builds_from_first_layer_input_shape_as_keras(row):
    models, caught = {}, {}
    for lib in (keras, reference):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            models[lib] = _first_layer_shape_model(lib, row[1])
        caught[lib] = [str(x.message) for x in w if "input_shape" in str(x.message)]
    k_model, r_model = models[keras], models[reference]
    assert caught[reference] == caught[keras] and caught[keras]  # Keras's warning, as often
    assert r_model.built == k_model.built
    if k_model.built:
        assert r_model.input_shape == k_model.input_shape
        assert r_model.output_shape == tuple(k_model.output_shape)
        assert [w.path for w in r_model.weights] == [w.path for w in k_model.weights]
        assert [type(x).__name__ for x in r_model.layers] == [
            type(x).__name__ for x in k_model.layers
        ]


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_input_shape": (2, 3)}, r"Unrecognized keyword arguments passed to Dense: "
                                    r"\{'batch_input_shape': \(2, 3\)\}"),
    ({"input_dim": 3, "input_shape": (3,)}, "Unrecognized keyword arguments passed to Dense"),
])  # fmt: skip
def test_layer_shape_kwargs_errors_match_keras(kwargs, match):
    for lib in (keras, reference):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match=match):
                _layers(lib).Dense(2, **kwargs)


def test_sequential_keeps_the_input_of_a_popped_first_layer_as_keras():
    for lib in (keras, reference):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = lib.Sequential([_layers(lib).Dense(2, input_shape=(3,))])
        model.pop()
        model.add(_layers(lib).Dense(5))
        assert model.input_shape == (None, 3)
        assert tuple(model.output_shape) == (None, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="input_shape must be a tuple"):
            reference.Sequential([rl.Dense(2, input_shape=3)])


# Symbolic output dtypes on an int32 Input, as Keras's compute_output_spec: the compute dtype,
# except for the layers that only move values.
INT_INPUT_LAYERS = {
    "Embedding": lambda L: L.Embedding(10, 2),
    "Flatten": lambda L: L.Flatten(),
    "Reshape": lambda L: L.Reshape((12,)),
    "Permute": lambda L: L.Permute((2, 1)),
    "Dense": lambda L: L.Dense(2),
    "GlobalAveragePooling1D": lambda L: L.GlobalAveragePooling1D(),
}


@pytest.mark.parametrize("make", INT_INPUT_LAYERS.values(), ids=list(INT_INPUT_LAYERS))
def test_symbolic_dtype_on_an_int_input_is_keras(make):
    got = make(rl)(reference.Input((3, 4), dtype="int32")).dtype
    assert got == make(keras.layers)(keras.Input((3, 4), dtype="int32")).dtype


def test_an_int_input_model_runs_as_keras():
    def build(lib):
        ids = lib.Input((5,), dtype="int32")
        h = lib.layers.GlobalAveragePooling1D()(lib.layers.Embedding(10, 4)(ids))
        return lib.Model(ids, lib.layers.Dense(2)(h))

    k_model, r_model = build(keras), build(reference)
    r_model.set_weights(k_model.get_weights())
    assert r_model.inputs[0].dtype == "int32" and r_model.layers[0].get_config()["dtype"] == "int32"
    x = np.random.default_rng(0).integers(0, 10, (3, 5))
    np.testing.assert_allclose(np.asarray(r_model(x)), k_model(x).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_1d_reads_the_mask_as_keras(data_format, keepdims):
    """Embedding(mask_zero=True) -> GlobalAveragePooling1D averages only the unmasked steps
    (a row of zeros only is fully masked: 0 / 0, NaN in both), outputs and input gradients."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 3))
    mask = rng.random((4, 6)) > 0.4
    mask[0] = False  # a fully masked row
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1)
    dy = rng.standard_normal((4, 1, 3) if keepdims else (4, 3))
    if data_format == "channels_first" and keepdims:
        dy = dy.transpose(0, 2, 1)
    kw = dict(data_format=data_format, keepdims=keepdims)
    tx = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tx)
        k_out = keras.layers.GlobalAveragePooling1D(dtype="float64", **kw)(tx, mask=mask)
    k_dx = tape.gradient(k_out, tx, output_gradients=tf.constant(dy)).numpy()
    layer = rl.GlobalAveragePooling1D(dtype="float64", **kw)
    with reference.GradientTape() as rtape:
        rx = rtape.watch(x)
        r_out = layer(rx, mask=mask)
    r_dx = rtape.gradient(r_out, rx, output_gradients=dy)
    np.testing.assert_allclose(np.asarray(r_out), k_out.numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(r_dx, k_dx, rtol=1e-14, atol=1e-15)
    assert np.isnan(np.asarray(r_out)[0]).all() and layer.compute_mask(x, mask) is None


def test_a_functional_model_with_self_attention_builds_and_runs_as_keras(tmp_path):
    """MultiHeadAttention called on symbolic values builds from its <arg>_shape parameters, as
    an eager call does; Keras's saved model of it loads into the reference, and back."""

    def build(lib):
        x = lib.Input((5, 8))
        h = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
        return lib.Model(x, lib.layers.Dense(2)(h))

    k_model, r_model = build(keras), build(reference)
    assert [w.shape for w in r_model.weights] == [tuple(w.shape) for w in k_model.weights]
    r_model.set_weights(k_model.get_weights())
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(r_model(x)), k_model(x).numpy(), rtol=1e-5, atol=1e-6)
    k_model.save(tmp_path / "mha.keras")
    loaded = reference.saving.load_model(tmp_path / "mha.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)), k_model(x).numpy(), rtol=1e-5, atol=1e-6)
    # and back: the sublayers are saved under Keras's property names (query_dense, ...)
    r_model.save(tmp_path / "mha_ref.keras")
    k_loaded = keras.models.load_model(tmp_path / "mha_ref.keras")
    np.testing.assert_allclose(k_loaded(x).numpy(), k_model(x).numpy(), rtol=1e-5, atol=1e-6)


MHA_CALLS = {
    "positional": lambda mha, q, v: mha(q, v),
    "value keyword": lambda mha, q, v: mha(q, value=v),
    "all keywords": lambda mha, q, v: mha(query=q, value=v, key=v),
    "key and value positional": lambda mha, q, v: mha(q, v, v),
}


@pytest.mark.parametrize("output_shape", [None, (3,)])
@pytest.mark.parametrize("call", MHA_CALLS.values(), ids=MHA_CALLS.keys())
def test_cross_attention_called_every_keras_way_on_symbolic_inputs(call, output_shape):
    """A symbolic call maps its tensors to compute_output_shape's <arg>_shape parameters as
    Keras does, whether they are passed by position or by name (a `value=` keyword failed)."""

    def build(lib):
        q, v = lib.Input((4, 8)), lib.Input((6, 5))
        mha = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4, output_shape=output_shape)
        out = call(mha, q, v)
        return lib.Model([q, v], out), tuple(out.shape)

    (k_model, k_shape), (r_model, r_shape) = build(keras), build(reference)
    assert r_shape == k_shape
    r_model.set_weights(k_model.get_weights())
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((3, 4, 8)).astype("float32"),
          rng.standard_normal((3, 6, 5)).astype("float32")]  # fmt: skip
    np.testing.assert_allclose(np.asarray(r_model(xs)), k_model(xs).numpy(), rtol=1e-5, atol=1e-6)
