"""TF twin of Keras's BaseConv and Conv1D/2D/3D, from `tf.nn.convolution`."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from tf_layers import activations


def _tuple(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


class BaseConv(keras.layers.Layer):
    """N-d convolution.

    Computes: y = activation(conv(x, kernel) + bias) with tf.nn.convolution in NHWC (TF's CPU
        kernels have no NCHW: channels_first inputs are transposed around it, exactly); causal
        padding as tf.pad of d * (k - 1) zeros on the left and VALID; groups as one
        tf.nn.convolution per group, concatenated (TF's grouped CPU kernel needs XLA).
    Keras: keras.layers.Conv{1,2,3}D, same arguments, weight names and order (kernel, bias).
    Differences: no LoRA.
    """

    paddings = ("valid", "same")

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = filters
        self.groups = groups
        self.kernel_size = _tuple(kernel_size, rank)
        self.strides = _tuple(strides, rank)
        self.dilation_rate = _tuple(dilation_rate, rank)
        self.padding = padding.lower()
        if self.padding not in self.paddings:
            raise ValueError(f"{type(self).__name__}: padding={padding!r}")
        self.data_format = data_format or keras.config.image_data_format()
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=rank + 2)

    def build(self, input_shape):
        axis = -1 if self.data_format == "channels_last" else 1
        channels = input_shape[axis]
        self._kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = keras.layers.InputSpec(min_ndim=self.rank + 2, axes={axis: channels})

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        return self._kernel

    def _conv(self, x, kernel):
        padding = self.padding.upper()
        layout = ("NWC", "NHWC", "NDHWC")[self.rank - 1]
        if self.padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            x = tf.pad(x, [[0, 0], [left, 0], [0, 0]])
            padding = "VALID"

        def one(xg, kg):
            # data_format spelled out: without it, Conv3D's registered gradient reads a None attr.
            return tf.nn.convolution(
                xg, kg, self.strides, padding, data_format=layout, dilations=self.dilation_rate
            )

        if self.groups == 1:
            return one(x, kernel)
        xs = tf.split(x, self.groups, axis=-1)
        ks = tf.split(kernel, self.groups, axis=-1)
        return tf.concat([one(a, b) for a, b in zip(xs, ks, strict=True)], axis=-1)

    def call(self, inputs):
        kernel = tf.convert_to_tensor(self.kernel)
        if not inputs.dtype.is_floating:
            inputs = tf.cast(inputs, kernel.dtype)
        last = self.data_format == "channels_last"
        perm = [0, *range(2, self.rank + 2), 1]
        x = inputs if last else tf.transpose(inputs, perm)
        y = self._conv(x, kernel)
        if not last:
            y = tf.transpose(y, [0, self.rank + 1, *range(1, self.rank + 1)])
        if self.use_bias:
            shape = (self.filters,) if last else (self.filters,) + (1,) * self.rank
            y = y + tf.reshape(self.bias, shape)  # Keras: ops.add of the reshaped bias
        return self.activation(y)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }


class Conv1D(BaseConv):
    """TF twin of keras.layers.Conv1D (padding also "causal")."""

    paddings = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(1, filters, kernel_size, **kwargs)


class Conv2D(BaseConv):
    """TF twin of keras.layers.Conv2D."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(2, filters, kernel_size, **kwargs)


class Conv3D(BaseConv):
    """TF twin of keras.layers.Conv3D."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(3, filters, kernel_size, **kwargs)
