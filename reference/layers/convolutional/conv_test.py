"""Conv1D/2D/3D: bad input is a ValueError that names the layer and the value and builds
nothing; weights, output shapes and config as Keras. NumPy only (parity lives in parity_tests)."""

import numpy as np
import pytest

from reference import layers

BAD_ARGS = [
    (layers.Conv2D, dict(filters=0, kernel_size=3), "filters=0"),
    (layers.Conv2D, dict(filters=-2, kernel_size=3), "filters=-2"),
    (layers.Conv2D, dict(filters=4, kernel_size=0), "kernel_size=0"),
    (layers.Conv2D, dict(filters=4, kernel_size=(3, 3, 3)), "kernel_size=(3, 3, 3)"),
    (layers.Conv2D, dict(filters=4, kernel_size=3, strides=0), "strides=0"),
    (layers.Conv1D, dict(filters=4, kernel_size=3, strides=-1), "strides=-1"),
    (layers.Conv2D, dict(filters=4, kernel_size=3, dilation_rate=0), "dilation_rate=0"),
    (
        layers.Conv2D,
        dict(filters=4, kernel_size=3, strides=2, dilation_rate=2),
        "dilation_rate=(2, 2)",
    ),
    (layers.Conv2D, dict(filters=4, kernel_size=3, groups=3), "groups=3, filters=4"),
    (layers.Conv2D, dict(filters=4, kernel_size=3, groups=0), "groups=0"),
    (layers.Conv2D, dict(filters=4, kernel_size=3, padding="full"), "padding='full'"),
    (layers.Conv2D, dict(filters=4, kernel_size=3, padding="causal"), "padding='causal'"),
    (layers.Conv3D, dict(filters=4, kernel_size=3, data_format="NCHW"), "data_format='NCHW'"),
    (layers.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, output_padding=2), "(2, 2)"),
    (layers.Conv1DTranspose, dict(filters=2, kernel_size=3, output_padding=-1), "=-1"),
    (layers.DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=0), "depth_multiplier=0"),
    (layers.SeparableConv1D, dict(filters=0, kernel_size=3), "filters=0"),
]


@pytest.mark.parametrize("cls, kwargs, received", BAD_ARGS, ids=[r[2] for r in BAD_ARGS])
def test_bad_arguments_raise_a_value_error_naming_the_layer_and_value(cls, kwargs, received):
    with pytest.raises(ValueError) as err:
        cls(**kwargs)
    assert cls.__name__ in str(err.value) and received in str(err.value)


BAD_INPUTS = [
    (lambda: layers.Conv2D(4, 3), (2, 8, 3), "(2, 8, 3)"),  # rank 3: Keras's InputSpec words
    (lambda: layers.Conv1D(4, 3), (2, 8, 3, 1), "input_shape=(2, 8, 3, 1)"),
    (lambda: layers.Conv2D(4, 5), (1, 4, 6, 2), "input_shape=(1, 4, 6, 2)"),  # output rows 0
    (lambda: layers.Conv1D(2, 3, dilation_rate=3), (1, 6, 2), "input_shape=(1, 6, 2)"),
    (lambda: layers.Conv2D(4, 3, groups=2), (1, 5, 5, 3), "groups=2"),
    (lambda: layers.Conv3D(2, 2, data_format="channels_first"), (1, 3, 4, 1, 4), "input_shape"),
    (lambda: layers.DepthwiseConv2D(4), (1, 3, 5, 2), "input_shape=(1, 3, 5, 2)"),
    (
        lambda: layers.Conv2DTranspose(2, 2, padding="same", output_padding=0),
        (1, 3, 3, 1),
        "(2, 2)",
    ),
]


@pytest.mark.parametrize(
    "make, shape, received", BAD_INPUTS, ids=[f"{i}-{r[1]}" for i, r in enumerate(BAD_INPUTS)]
)
def test_bad_inputs_raise_and_build_nothing(make, shape, received):
    layer = make()
    with pytest.raises(ValueError) as err:
        layer(np.zeros(shape, "float32"))
    # Keras's InputSpec message names the layer instance ('conv2d'); ours name the class.
    assert type(layer).__name__.lower() in str(err.value).lower() and received in str(err.value)
    assert not layer.built and layer.weights == []


def test_wrong_channel_count_after_build_raises():
    layer = layers.Conv2D(4, 3)
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="axis -1 .*value 3.*"):
        layer(np.zeros((1, 5, 5, 2), "float32"))


@pytest.mark.parametrize(
    "make, shape, kernel, out",
    [
        (lambda: layers.Conv1D(4, 3, padding="causal"), (2, 9, 3), (3, 3, 4), (2, 9, 4)),
        (
            lambda: layers.Conv2D(6, 3, groups=3, strides=2, padding="same"),
            (1, 7, 8, 9),
            (3, 3, 3, 6),
            (1, 4, 4, 6),
        ),
        (
            lambda: layers.Conv2D(2, (3, 1), data_format="channels_first"),
            (1, 5, 6, 7),
            (3, 1, 5, 2),
            (1, 2, 4, 7),
        ),
        (
            lambda: layers.Conv3D(2, 2, dilation_rate=2),
            (1, 5, 5, 5, 1),
            (2, 2, 2, 1, 2),
            (1, 3, 3, 3, 2),
        ),
    ],
)
def test_weights_and_output_shapes(make, shape, kernel, out):
    layer = make()
    y = layer(np.ones(shape, "float32"))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.kernel.shape == kernel and layer.bias.shape == (kernel[-1],)
    assert y.shape == out == layer.compute_output_shape(shape)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_causal_output_never_sees_the_future():
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = np.random.default_rng(0).standard_normal((1, 10, 2))
    y = layer(x)
    x2 = x.copy()
    x2[:, 6:] += 1.0
    np.testing.assert_array_equal(layer(x2)[:, :6], y[:, :6])
