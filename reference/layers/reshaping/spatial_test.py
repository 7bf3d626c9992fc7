"""UpSampling, ZeroPadding, Cropping: bad arguments and inputs raise a ValueError naming the
layer and the value; shapes and config as Keras. NumPy only (parity lives in parity_tests)."""

import numpy as np
import pytest

from reference import layers

BAD = [
    (layers.UpSampling2D, dict(size=0), "size=0"),
    (layers.UpSampling1D, dict(size=(2, 2)), "size=(2, 2)"),
    (layers.UpSampling2D, dict(interpolation="bicubic"), "interpolation='bicubic'"),
    (layers.UpSampling3D, dict(data_format="NDHWC"), "data_format='NDHWC'"),
    (layers.ZeroPadding2D, dict(padding=-1), "padding=-1"),
    (layers.ZeroPadding3D, dict(padding=(1, 2)), "padding=(1, 2)"),
    (layers.Cropping2D, dict(cropping=((1, 2, 3), (0, 0))), "cropping=((1, 2, 3), (0, 0))"),
    (layers.Cropping1D, dict(cropping=-2), "cropping=-2"),
]


@pytest.mark.parametrize("cls, kwargs, received", BAD, ids=[r[2] for r in BAD])
def test_bad_arguments(cls, kwargs, received):
    with pytest.raises(ValueError) as err:
        cls(**kwargs)
    assert cls.__name__ in str(err.value) and received in str(err.value)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: layers.Cropping1D((2, 3)), (1, 5, 2)),
        (lambda: layers.Cropping2D(((0, 0), (2, 2)), data_format="channels_first"), (1, 4, 3, 4)),
        (lambda: layers.UpSampling2D(), (2, 3, 4)),
    ],
    ids=["crop 1D", "crop 2D cf", "rank"],
)
def test_bad_inputs_build_nothing(make, shape):
    layer = make()
    with pytest.raises(ValueError) as err:
        layer(np.zeros(shape, "float32"))
    assert str(tuple(shape)) in str(err.value) or f"ndim={len(shape)}" in str(err.value)
    assert not layer.built


@pytest.mark.parametrize(
    "layer, shape, out",
    [
        (layers.UpSampling1D(3), (2, 4, 3), (2, 12, 3)),
        (layers.UpSampling2D((2, 3), "channels_first", "bilinear"), (1, 2, 3, 4), (1, 2, 6, 12)),
        (layers.UpSampling3D((1, 2, 1)), (1, 2, 3, 4, 5), (1, 2, 6, 4, 5)),
        (layers.ZeroPadding1D((1, 2)), (2, 4, 3), (2, 7, 3)),
        (layers.ZeroPadding2D(((1, 2), 3)), (2, 4, 5, 1), (2, 7, 11, 1)),
        (layers.ZeroPadding3D(1, data_format="channels_first"), (1, 2, 3, 4, 5), (1, 2, 5, 6, 7)),
        (layers.Cropping1D(), (2, 5, 3), (2, 3, 3)),
        (layers.Cropping2D(((1, 0), (0, 2))), (2, 4, 5, 1), (2, 3, 3, 1)),
        (layers.Cropping3D(), (1, 3, 4, 5, 2), (1, 1, 2, 3, 2)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else str(v),
)
def test_shapes_values_and_config(layer, shape, out):
    x = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    y = layer(x)
    assert y.shape == out == layer.compute_output_shape(shape)
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    if "Padding" in type(layer).__name__:
        assert y.sum() == x.sum()  # zeros only around the original values
