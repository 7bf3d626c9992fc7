"""Reshaping layers of the TF twins: Flatten, Reshape, Permute, RepeatVector."""

from __future__ import annotations

import math

import tensorflow as tf
from tensorflow import keras


class Flatten(keras.layers.Layer):
    """Computes: tf.reshape(x, (batch, -1)), channels_first transposed to channels last first.
    Keras: keras.layers.Flatten(data_format=None)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or keras.config.image_data_format()

    def call(self, inputs):
        rank = len(inputs.shape)
        if self.data_format == "channels_first" and rank > 1:
            inputs = tf.transpose(inputs, (0, *range(2, rank), 1))
        return tf.reshape(inputs, (tf.shape(inputs)[0], math.prod(inputs.shape[1:])))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(keras.layers.Layer):
    """Computes: tf.reshape(x, (batch, *target_shape)). Keras: keras.layers.Reshape."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, inputs):
        return tf.reshape(inputs, (tf.shape(inputs)[0], *self.target_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(keras.layers.Layer):
    """Computes: tf.transpose(x, (0, *dims)). Keras: keras.layers.Permute(dims)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)

    def call(self, inputs):
        return tf.transpose(inputs, (0, *self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(keras.layers.Layer):
    """Computes: tf.tile(x[:, None, :], (1, n, 1)). Keras: keras.layers.RepeatVector(n)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = n

    def call(self, inputs):
        return tf.tile(tf.expand_dims(inputs, 1), (1, self.n, 1))

    def get_config(self):
        return {**super().get_config(), "n": self.n}
