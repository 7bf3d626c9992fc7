"""TF twins of UpSampling, ZeroPadding and Cropping (1D/2D/3D): tf.repeat, tf.image.resize,
tf.pad and slicing."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


def _pairs(value, rank):
    if isinstance(value, int):
        return ((value, value),) * rank
    value = tuple(value)
    if rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value,)
    return tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)


class _Spatial(keras.layers.Layer):
    rank = 2

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or keras.config.image_data_format()
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)

    def _axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return range(first, first + self.rank)


class _UpSampling(_Spatial):
    """tf.repeat per spatial axis; bilinear: tf.image.resize in NHWC (TF2: half-pixel centers)."""

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = (size,) * self.rank if isinstance(size, int) else tuple(size)
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "bilinear":
            last = self.data_format == "channels_last"
            x = inputs if last else tf.transpose(inputs, [0, 2, 3, 1])
            new = (x.shape[1] * self.size[0], x.shape[2] * self.size[1])
            y = tf.cast(tf.image.resize(x, new, method="bilinear"), x.dtype)
            return y if last else tf.transpose(y, [0, 3, 1, 2])
        x = inputs
        for axis, s in zip(self._axes(), self.size, strict=True):
            x = tf.repeat(x, s, axis=axis)
        return x


class _ZeroPadding(_Spatial):
    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, self.rank)

    def call(self, inputs):
        width = [[0, 0]] * (self.rank + 2)
        for axis, p in zip(self._axes(), self.padding, strict=True):
            width[axis] = list(p)
        return tf.pad(inputs, width)


class _Cropping(_Spatial):
    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, self.rank)

    def call(self, inputs):
        index = [slice(None)] * (self.rank + 2)
        for axis, (b, a) in zip(self._axes(), self.cropping, strict=True):
            index[axis] = slice(b, inputs.shape[axis] - a)
        return inputs[tuple(index)]


class UpSampling2D(_UpSampling):
    """TF twin of keras.layers.UpSampling2D."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)


class UpSampling1D(_UpSampling):
    """TF twin of keras.layers.UpSampling1D."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, None, **kwargs)


class UpSampling3D(_UpSampling):
    """TF twin of keras.layers.UpSampling3D."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)


class ZeroPadding1D(_ZeroPadding):
    """TF twin of keras.layers.ZeroPadding1D."""

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """TF twin of keras.layers.ZeroPadding2D."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """TF twin of keras.layers.ZeroPadding3D."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping1D(_Cropping):
    """TF twin of keras.layers.Cropping1D."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)


class Cropping2D(_Cropping):
    """TF twin of keras.layers.Cropping2D."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """TF twin of keras.layers.Cropping3D."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
