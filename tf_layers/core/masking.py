"""Core layers of the TF twins: `Masking`, in raw TensorFlow ops."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


class Masking(keras.layers.Layer):
    """Computes: keep = reduce_any(x != mask_value, -1); y = where(keep[..., None], x, 0), with
    `keep` as y's Keras mask. Keras: keras.layers.Masking(mask_value=0.0)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return tf.reduce_any(tf.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = tf.reduce_any(tf.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = tf.where(keep, inputs, tf.zeros((), inputs.dtype))
        outputs._keras_mask = tf.squeeze(keep, axis=-1)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
