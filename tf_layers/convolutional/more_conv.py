"""TF twins of the transposed, depthwise and separable convolutions (tf.nn.conv_transpose,
tf.nn.depthwise_conv2d, tf.nn.separable_conv2d), channels_last inside (TF's CPU kernels are
NHWC only: channels_first inputs are transposed around them, exactly)."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from tf_layers import activations
from tf_layers.convolutional.base_conv import _tuple

_LAYOUT = ("NWC", "NHWC", "NDHWC")


def _transpose_size(n, k, s, d, padding, op):
    """Keras's transposed output size (backend_utils._get_output_shape_given_tf_padding)."""
    span = d * (k - 1) + 1
    if padding == "valid":
        return (n - 1) * s + span + (max(span, s) - span if op is None else op)
    return n * s if op is None else (n - 1) * s + span % 2 + op


class _Conv(keras.layers.Layer):
    rank = 2

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        bias_initializer="zeros",
        bias_regularizer=None,
        activity_regularizer=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.kernel_size = _tuple(kernel_size, self.rank)
        self.strides = _tuple(strides, self.rank)
        self.dilation_rate = _tuple(dilation_rate, self.rank)
        self.padding = padding.lower()
        self.data_format = data_format or keras.config.image_data_format()
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=self.rank + 2)

    def _channels(self, input_shape):
        return input_shape[-1 if self.data_format == "channels_last" else 1]

    def _weight(self, name, shape, initializer, regularizer=None, constraint=None):
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=keras.initializers.get(initializer),
            regularizer=keras.regularizers.get(regularizer),
            constraint=keras.constraints.get(constraint),
        )

    def _bias_weight(self, size):
        self.bias = None
        if self.use_bias:
            self.bias = self._weight(
                "bias", (size,), self.bias_initializer, self.bias_regularizer, self.bias_constraint
            )

    def call(self, inputs):
        last = self.data_format == "channels_last"
        x = inputs if last else tf.transpose(inputs, [0, *range(2, self.rank + 2), 1])
        y = self._nhwc(x)
        if not last:
            y = tf.transpose(y, [0, self.rank + 1, *range(1, self.rank + 1)])
        if self.use_bias:
            y = y + tf.reshape(self.bias, (-1,) if last else (-1,) + (1,) * self.rank)
        return self.activation(y)

    def _expand(self, x, kernels):
        """1D as 2D: a height-1 image and height-1 kernels (what Keras's TF backend does; the
        stride is repeated on the height axis, where it changes nothing, because TF's depthwise
        kernels need equal row and column strides)."""
        if self.rank == 2:
            return x, kernels, [1, *self.strides, 1], self.dilation_rate
        (s,), (d,) = self.strides, self.dilation_rate
        return (tf.expand_dims(x, 1), [tf.expand_dims(k, 0) for k in kernels], [1, s, s, 1], (1, d))


class _ConvTranspose(_Conv):
    """Transposed convolution: tf.nn.conv_transpose to Keras's output shape.
    Weights: kernel (*kernel_size, filters, channels), bias (filters,)."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(kernel_size, strides, padding, **kwargs)
        self.filters = filters
        self.output_padding = None if output_padding is None else _tuple(output_padding, self.rank)
        self.kernel_args = (kernel_initializer, kernel_regularizer, kernel_constraint)

    def build(self, input_shape):
        shape = (*self.kernel_size, self.filters, self._channels(input_shape))
        self.kernel = self._weight("kernel", shape, *self.kernel_args)
        self._bias_weight(self.filters)

    def _nhwc(self, x):
        ops = self.output_padding or (None,) * self.rank
        sizes = [
            _transpose_size(n, k, s, d, self.padding, op)
            for n, k, s, d, op in zip(
                x.shape[1:-1], self.kernel_size, self.strides, self.dilation_rate, ops, strict=True
            )
        ]
        return tf.nn.conv_transpose(
            x,
            self.kernel,
            (x.shape[0], *sizes, self.filters),
            self.strides,
            self.padding.upper(),
            data_format=_LAYOUT[self.rank - 1],
            dilations=self.dilation_rate,
        )


class _DepthwiseConv(_Conv):
    """tf.nn.depthwise_conv2d (1D through a height-1 image).
    Weights: kernel (*kernel_size, channels, depth_multiplier), bias (channels * multiplier,)."""

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        depthwise_initializer="glorot_uniform",
        depthwise_regularizer=None,
        depthwise_constraint=None,
        **kwargs,
    ):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.kernel_args = (depthwise_initializer, depthwise_regularizer, depthwise_constraint)

    def build(self, input_shape):
        c = self._channels(input_shape)
        self.kernel = self._weight(
            "kernel", (*self.kernel_size, c, self.depth_multiplier), *self.kernel_args
        )
        self._bias_weight(c * self.depth_multiplier)

    def _nhwc(self, x):
        x2, (k2,), strides, dilations = self._expand(x, [self.kernel])
        y = tf.nn.depthwise_conv2d(x2, k2, strides, self.padding.upper(), dilations=dilations)
        return y if self.rank == 2 else tf.squeeze(y, 1)


class _SeparableConv(_Conv):
    """tf.nn.separable_conv2d (1D through a height-1 image). Weights: depthwise_kernel
    (*kernel_size, channels, multiplier), pointwise_kernel (*ones, channels * multiplier,
    filters), bias (filters,)."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        **kwargs,
    ):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, **kwargs)
        self.filters = filters
        self.depth_multiplier = depth_multiplier
        self.depthwise_args = (depthwise_initializer, depthwise_regularizer, depthwise_constraint)
        self.pointwise_args = (pointwise_initializer, pointwise_regularizer, pointwise_constraint)

    def build(self, input_shape):
        c, m = self._channels(input_shape), self.depth_multiplier
        self.depthwise_kernel = self._weight(
            "depthwise_kernel", (*self.kernel_size, c, m), *self.depthwise_args
        )
        self.pointwise_kernel = self._weight(
            "pointwise_kernel", (*(1,) * self.rank, c * m, self.filters), *self.pointwise_args
        )
        self._bias_weight(self.filters)

    def _nhwc(self, x):
        x2, (dk, pk), strides, dilations = self._expand(
            x, [self.depthwise_kernel, self.pointwise_kernel]
        )
        y = tf.nn.separable_conv2d(x2, dk, pk, strides, self.padding.upper(), dilations=dilations)
        return y if self.rank == 2 else tf.squeeze(y, 1)


def _ranked(base, name, rank):
    return type(name, (base,), {"rank": rank, "__doc__": f"TF twin of keras.layers.{name}."})


Conv1DTranspose = _ranked(_ConvTranspose, "Conv1DTranspose", 1)
Conv2DTranspose = _ranked(_ConvTranspose, "Conv2DTranspose", 2)
Conv3DTranspose = _ranked(_ConvTranspose, "Conv3DTranspose", 3)
DepthwiseConv1D = _ranked(_DepthwiseConv, "DepthwiseConv1D", 1)
DepthwiseConv2D = _ranked(_DepthwiseConv, "DepthwiseConv2D", 2)
SeparableConv1D = _ranked(_SeparableConv, "SeparableConv1D", 1)
SeparableConv2D = _ranked(_SeparableConv, "SeparableConv2D", 2)
