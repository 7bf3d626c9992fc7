"""Model construction side by side with stock Keras: layers, weight paths and order, symbolic
output shapes, parameter counts, and outputs after set_weights (float64, rtol 1e-12)."""

from __future__ import annotations

import os

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
