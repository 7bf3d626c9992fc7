"""Pooling layers of the TF twins: tf.nn.max_pool / tf.nn.avg_pool / reductions."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


def _tuple(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


class _Pooling(keras.layers.Layer):
    """Max or average pooling with tf.nn.max_pool / tf.nn.avg_pool in NHWC (channels_first is
    transposed around it: TF's CPU pooling kernels are NHWC only). TF's avg_pool divides "same"
    windows by their count of real elements; MaxPoolGrad routes to the first maximum.
    Differences: float64 3D pooling is computed separably (TF has no float64 3D pooling kernel);
    its max-pool tie routing is then per axis, not TF's first maximum in the whole window."""

    rank = 2
    op = staticmethod(tf.nn.max_pool)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _tuple(pool_size, self.rank)
        self.strides = self.pool_size if strides is None else _tuple(strides, self.rank)
        self.padding = padding.lower()
        self.data_format = data_format or keras.config.image_data_format()
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        last = self.data_format == "channels_last"
        x = inputs if last else tf.transpose(inputs, [0, *range(2, self.rank + 2), 1])
        if self.rank == 3 and x.dtype == tf.float64:
            y = self._separable_3d(x)
        else:
            # data_format spelled out: without it, the 3D ops' gradients read a None attr.
            layout = ("NWC", "NHWC", "NDHWC")[self.rank - 1]
            y = self.op(x, self.pool_size, self.strides, self.padding.upper(), layout)
        return y if last else tf.transpose(y, [0, self.rank + 1, *range(1, self.rank + 1)])

    def _separable_3d(self, x):
        """TF has no float64 MaxPool3D/AvgPool3D: pool the depth axis, then rows and columns, with
        the 2D op (max and real-element means both factor over axes; SAME pads per axis)."""
        n, d, h, w, c = x.shape
        (kd, kh, kw), (sd, sh, sw) = self.pool_size, self.strides
        pad = self.padding.upper()
        y = self.op(tf.reshape(x, (n, d, h * w, c)), (kd, 1), (sd, 1), pad)
        d2 = y.shape[1]
        y = self.op(tf.reshape(y, (n * d2, h, w, c)), (kh, kw), (sh, sw), pad)
        return tf.reshape(y, (n, d2, y.shape[1], y.shape[2], c))

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


def _pool_class(name, rank, op, default):
    """default None: pool_size is required (Keras's AveragePooling*D have no default)."""

    def __init__(
        self,
        pool_size=default,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        if pool_size is None:
            raise TypeError(f"{type(self).__name__} needs a `pool_size`.")
        _Pooling.__init__(self, pool_size, strides, padding, data_format, name=name, **kwargs)

    return type(
        name,
        (_Pooling,),
        {
            "__init__": __init__,
            "rank": rank,
            "op": staticmethod(op),
            "__doc__": f"TF twin of keras.layers.{name}.",
        },
    )


MaxPooling1D = _pool_class("MaxPooling1D", 1, tf.nn.max_pool, 2)
MaxPooling2D = _pool_class("MaxPooling2D", 2, tf.nn.max_pool, (2, 2))
MaxPooling3D = _pool_class("MaxPooling3D", 3, tf.nn.max_pool, (2, 2, 2))
AveragePooling1D = _pool_class("AveragePooling1D", 1, tf.nn.avg_pool, None)
AveragePooling2D = _pool_class("AveragePooling2D", 2, tf.nn.avg_pool, None)
AveragePooling3D = _pool_class("AveragePooling3D", 3, tf.nn.avg_pool, None)


class _GlobalPooling(keras.layers.Layer):
    """tf.reduce_mean / tf.reduce_max over the spatial axes (reduce_max splits tied gradients)."""

    rank = 2
    op = staticmethod(tf.reduce_mean)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or keras.config.image_data_format()
        self.keepdims = keepdims
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        first = 1 if self.data_format == "channels_last" else 2
        return self.op(inputs, axis=list(range(first, first + self.rank)), keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


def _global_class(name, rank, op):
    return type(
        name,
        (_GlobalPooling,),
        {"rank": rank, "op": staticmethod(op), "__doc__": f"TF twin of keras.layers.{name}."},
    )


GlobalAveragePooling1D = _global_class("GlobalAveragePooling1D", 1, tf.reduce_mean)
GlobalAveragePooling2D = _global_class("GlobalAveragePooling2D", 2, tf.reduce_mean)
GlobalAveragePooling3D = _global_class("GlobalAveragePooling3D", 3, tf.reduce_mean)
GlobalMaxPooling1D = _global_class("GlobalMaxPooling1D", 1, tf.reduce_max)
GlobalMaxPooling2D = _global_class("GlobalMaxPooling2D", 2, tf.reduce_max)
GlobalMaxPooling3D = _global_class("GlobalMaxPooling3D", 3, tf.reduce_max)

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
]
