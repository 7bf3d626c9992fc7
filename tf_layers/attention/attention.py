"""Attention and AdditiveAttention of the TF twins, in raw TensorFlow ops."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


class Attention(keras.layers.Layer):
    """Computes: scores = q @ k^T (* scale) ("dot") or concat_score_weight *
    sum(tanh(scale * (q_i + k_j)), -1) ("concat"); masked scores - 1e9; softmax; dropout
    (stateless uniform, seed [seed, n] at the n-th draw); @ v; query-masked rows -> 0.
    Keras: keras.layers.Attention(use_scale=False, score_mode="dot", dropout=0.0, seed=None)."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale, self.score_mode = use_scale, score_mode
        self.dropout, self.seed = dropout, seed
        self._draws = 0
        self.supports_masking = True

    def build(self, input_shape):
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones"
            )

    def _scores(self, q, k):
        if self.score_mode == "dot":
            s = tf.matmul(q, k, transpose_b=True)
            return s if self.scale is None else s * self.scale
        x = q[..., :, None, :] + k[..., None, :, :]
        if self.scale is not None:
            x = self.scale * x
        return self.concat_score_weight * tf.reduce_sum(tf.tanh(x), -1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):  # fmt: skip
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask, v_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._scores(q, k)
        if v_mask is not None:
            v_mask = tf.cast(v_mask, tf.bool)[..., None, :]
        if use_causal_mask:
            n_q, n_v = tf.shape(scores)[-2], tf.shape(scores)[-1]
            causal = tf.linalg.band_part(tf.ones((n_q, n_v), tf.bool), -1, 0)[None]
            v_mask = causal if v_mask is None else tf.logical_and(v_mask, causal)
        if v_mask is not None:
            big = 65504.0 if scores.dtype == tf.float16 else 1.0e9
            scores = tf.where(v_mask, scores, scores - tf.constant(big, scores.dtype))
        weights = tf.nn.softmax(scores, -1)
        if training and self.dropout > 0:
            seed = [(self.seed or 0) % (2**31 - 2), self._draws]
            self._draws += 1
            u = tf.random.stateless_uniform(tf.shape(weights), seed, dtype=weights.dtype)
            rate = tf.constant(1.0 / (1.0 - self.dropout), weights.dtype)
            weights = tf.where(u >= self.dropout, weights * rate, tf.zeros((), weights.dtype))
        out = tf.matmul(weights, v)
        if q_mask is not None:
            out = tf.where(tf.cast(q_mask, tf.bool)[..., None], out, tf.zeros((), out.dtype))
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        return None if mask is None or mask[0] is None else tf.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], input_shape[1][-1])


class AdditiveAttention(Attention):
    """Computes: scores = sum(scale * tanh(q_i + k_j), -1); the rest as Attention.
    Keras: keras.layers.AdditiveAttention(use_scale=True, dropout=0.0); scale (dim,)."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            dim = input_shape[0][-1]
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")

    def _scores(self, q, k):
        t = tf.tanh(q[..., :, None, :] + k[..., None, :, :])
        return tf.reduce_sum(t if self.scale is None else self.scale * t, -1)
