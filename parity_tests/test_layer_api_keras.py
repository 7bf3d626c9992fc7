"""The reference layers' public surface equals stock Keras's: signatures, configs, weights."""

import inspect

import keras
import numpy as np
import pytest

import reference
from reference import layers

SIGNATURES = [
    (layers.Dense.__init__, keras.layers.Dense.__init__),
    (layers.Activation.__init__, keras.layers.Activation.__init__),
    (layers.BatchNormalization.__init__, keras.layers.BatchNormalization.__init__),
    (reference.Layer.__init__, keras.layers.Layer.__init__),
    (reference.Layer.add_weight, keras.layers.Layer.add_weight),
]


def params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("ours, theirs", SIGNATURES, ids=[s[0].__qualname__ for s in SIGNATURES])
def test_signatures_match_keras(ours, theirs):
    assert params(ours) == params(theirs)


CONFIGS = [
    ("Dense", dict(units=3)),
    (
        "Dense",
        dict(
            units=5,
            activation="relu",
            use_bias=False,
            kernel_initializer="he_normal",
            bias_initializer="ones",
            kernel_regularizer="l2",
            bias_regularizer="l1",
            activity_regularizer="l1",
            kernel_constraint="max_norm",
            bias_constraint="non_neg",
            trainable=False,
            dtype="float64",
        ),
    ),  # fmt: skip
    (
        "Dense",
        dict(
            units=2,
            activation="swish",
            kernel_initializer={
                "class_name": "RandomNormal",
                "config": {"mean": 1.0, "stddev": 0.5, "seed": 3},
            },
        ),
    ),  # fmt: skip
    ("Activation", dict(activation="gelu")),
    ("Activation", dict(activation="hard_swish")),
    ("BatchNormalization", dict()),
    (
        "BatchNormalization",
        dict(
            axis=1,
            momentum=0.9,
            epsilon=1e-5,
            center=False,
            gamma_regularizer="l2",
            beta_constraint="unit_norm",
            moving_variance_initializer="zeros",
        ),
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    "name, config", CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)]
)
def test_get_config_equals_keras_and_loads_keras_configs(name, config):
    ours = getattr(layers, name)(**config, name="cfg")
    theirs = getattr(keras.layers, name)(**config, name="cfg")
    assert ours.get_config() == theirs.get_config()
    assert list(ours.get_config()) == list(theirs.get_config())  # same key order
    clone = getattr(layers, name).from_config(theirs.get_config())
    assert clone.get_config() == theirs.get_config()


@pytest.mark.parametrize("name, config, shape", [
    ("Dense", dict(units=4), (2, 3)),
    ("Dense", dict(units=4, use_bias=False), (2, 5, 3)),
    ("BatchNormalization", dict(axis=1), (2, 3, 4)),
    ("BatchNormalization", dict(center=False, scale=False), (2, 3)),
    ("Activation", dict(activation="relu"), (2, 3)),
])  # fmt: skip
def test_weights_paths_shapes_and_output_shapes_equal_keras(name, config, shape):
    x = np.ones(shape, dtype="float32")
    ours = getattr(layers, name)(**config, name="w")
    theirs = getattr(keras.layers, name)(**config, name="w")
    y_ours, y_theirs = ours(x), theirs(x)
    layout = [(w.name, w.path, tuple(w.shape), w.trainable) for w in ours.weights]
    assert layout == [(w.name, w.path, tuple(w.shape), w.trainable) for w in theirs.weights]
    assert ours.compute_output_shape(shape) == tuple(theirs.compute_output_shape(shape))
    assert y_ours.shape == tuple(y_theirs.shape) and y_ours.dtype == y_theirs.dtype.as_numpy_dtype
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("name, config", [
    ("Dense", dict(units=2, kernel_initializer="ones")),
    ("Activation", dict(activation="relu")),
    ("Activation", dict(activation="relu6")),
    ("BatchNormalization", dict()),
])  # fmt: skip
def test_integer_inputs_give_keras_output_dtypes_and_values(name, config):
    x = np.arange(-3, 9, dtype="int32").reshape(3, 4)
    ours = getattr(layers, name)(**config)(x)
    theirs = getattr(keras.layers, name)(**config)(x)
    assert ours.dtype == theirs.dtype.as_numpy_dtype
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)


@pytest.mark.parametrize("value", [1.0, 3, [1, 2], [0.5], np.ones(2), np.ones(2, "float32"),
                                   np.ones(2, "int32"), True])  # fmt: skip
def test_variable_dtype_inference_equals_keras(value):
    ours, theirs = reference.Variable(value), keras.Variable(value)
    assert ours.dtype == theirs.dtype and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), keras.ops.convert_to_numpy(theirs))
