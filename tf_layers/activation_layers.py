"""Activation layers of the TF twins (keras/src/layers/activations/): ReLU, LeakyReLU, PReLU,
ELU, Softmax, over the raw-tf functions of tf_layers.activations."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from tf_layers import activations


class _Elementwise(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class ReLU(_Elementwise):
    """Computes: activations.relu(x, negative_slope, max_value, threshold).
    Keras: keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}  # fmt: skip


class LeakyReLU(_Elementwise):
    """Computes: tf.nn.leaky_relu(x, negative_slope). Keras: keras.layers.LeakyReLU(0.3)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Computes: tf.nn.elu (alpha-scaled). Keras: keras.layers.ELU(alpha=1.0)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(keras.layers.Layer):
    """Computes: y = relu(x) + (-alpha * relu(-x)). Keras: keras.layers.PReLU(...); weight
    `alpha` of shape input_shape[1:] with 1 on the shared axes."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)
        if shared_axes is None or isinstance(shared_axes, (list, tuple)):
            self.shared_axes = None if shared_axes is None else list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for i in self.shared_axes or []:
            shape[i - 1] = 1
        self.alpha = self.add_weight(shape=shape, name="alpha", initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)  # fmt: skip

    def call(self, inputs):
        return tf.nn.relu(inputs) + -self.alpha * tf.nn.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "shared_axes": self.shared_axes,
                "alpha_initializer": keras.initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": keras.regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": keras.constraints.serialize(self.alpha_constraint)}  # fmt: skip


class Softmax(_Elementwise):
    """Computes: x' = where(mask, x, -1e9 (float16: -3e4)); y = softmax(x', axis);
    y = where(mask, y, 0). Keras: keras.layers.Softmax(axis=-1), call(inputs, mask=None)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        if mask is not None:
            if mask.dtype != tf.bool:
                mask = mask > tf.cast(0.5, mask.dtype)
            big = -3e4 if inputs.dtype == tf.float16 else -1e9
            inputs = tf.where(mask, inputs, tf.constant(big, inputs.dtype))
        if isinstance(self.axis, (list, tuple)) and len(self.axis) > 1:
            outputs = tf.exp(inputs - tf.reduce_logsumexp(inputs, self.axis, keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, (list, tuple)) else self.axis
            outputs = tf.nn.softmax(inputs, axis=axis)
        if mask is not None:
            outputs = tf.where(mask, outputs, tf.zeros((), outputs.dtype))
        return outputs

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
