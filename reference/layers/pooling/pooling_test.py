"""Pooling layers: bad input raises a ValueError naming the layer and value and builds nothing;
output shapes, config and TF's tie rules (MaxPooling: first maximum; GlobalMaxPooling: even
split) through the layers and the tape. NumPy only."""

import numpy as np
import pytest

import reference
from reference import layers

BAD_ARGS = [
    (layers.MaxPooling2D, dict(pool_size=0), "pool_size=0"),
    (layers.MaxPooling2D, dict(pool_size=(2, 2, 2)), "pool_size=(2, 2, 2)"),
    (layers.AveragePooling1D, dict(pool_size=2, strides=-1), "strides=-1"),
    (layers.MaxPooling3D, dict(padding="causal"), "padding='causal'"),
    (layers.AveragePooling2D, dict(pool_size=2, data_format="NHWC"), "data_format='NHWC'"),
    (layers.GlobalMaxPooling2D, dict(data_format="last"), "data_format='last'"),
]


@pytest.mark.parametrize("cls, kwargs, received", BAD_ARGS, ids=[r[2] for r in BAD_ARGS])
def test_bad_arguments(cls, kwargs, received):
    with pytest.raises(ValueError) as err:
        cls(**kwargs)
    assert cls.__name__ in str(err.value) and received in str(err.value)


@pytest.mark.parametrize(
    "layer, shape, received",
    [
        (layers.MaxPooling2D(3), (1, 2, 5, 1), "input_shape=(1, 2, 5, 1)"),
        (layers.AveragePooling1D(4, data_format="channels_first"), (1, 5, 3), "(1, 5, 3)"),
        (layers.MaxPooling2D(), (2, 4, 4), "ndim=3"),
        (layers.GlobalAveragePooling3D(), (2, 4, 4, 1), "ndim=4"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else str(v)[:30],
)
def test_bad_inputs_build_nothing(layer, shape, received):
    with pytest.raises(ValueError) as err:
        layer(np.zeros(shape, "float32"))
    assert type(layer).__name__.lower() in str(err.value).lower().replace("_", "")
    assert received in str(err.value) and not layer.built


@pytest.mark.parametrize(
    "layer, shape, out",
    [
        (layers.MaxPooling1D(), (2, 7, 3), (2, 3, 3)),
        (layers.MaxPooling2D(3, 2, "same"), (1, 7, 8, 2), (1, 4, 4, 2)),
        (layers.AveragePooling2D(2, data_format="channels_first"), (1, 3, 5, 4), (1, 3, 2, 2)),
        (layers.AveragePooling3D((1, 2, 3), padding="same"), (1, 2, 3, 4, 1), (1, 2, 2, 2, 1)),
        (layers.GlobalMaxPooling1D(keepdims=True), (2, 5, 3), (2, 1, 3)),
        (layers.GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 4, 5), (2, 3)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else str(v)[:30],
)
def test_output_shapes_and_config(layer, shape, out):
    assert layer(np.ones(shape, "float32")).shape == out == layer.compute_output_shape(shape)
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize(
    "layer, x, dx",
    [  # dy = 1; the expected values are TF's (keras-notes section 7)
        (layers.MaxPooling2D(), np.zeros((1, 2, 2, 1)), [[1, 0], [0, 0]]),
        (layers.MaxPooling1D(2, strides=1), np.full((1, 3, 1), 3.0), [1, 1, 0]),
        (layers.GlobalMaxPooling1D(), np.array([[[0.0], [1], [1], [0]]]), [0, 0.5, 0.5, 0]),
        (layers.GlobalMaxPooling2D(), np.zeros((1, 2, 2, 1)), [[0.25, 0.25], [0.25, 0.25]]),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else str(v)[:30],
)
def test_tie_rules_through_the_tape(layer, x, dx):
    for use_layer_vjps in (True, False):
        with reference.GradientTape(use_layer_vjps=use_layer_vjps) as tape:
            tx = tape.watch(x.astype("float32"))
            y = layer(tx)
        got = tape.gradient(y, tx, output_gradients=np.ones(np.shape(y), "float32"))
        np.testing.assert_array_equal(np.squeeze(got), dx)
