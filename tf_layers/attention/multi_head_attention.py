"""MultiHeadAttention of the TF twins: tf_layers.EinsumDense projections, tf.einsum,
tf.nn.softmax and tf.where, following Keras 3.15's two code paths."""

from __future__ import annotations

import math
import string

import tensorflow as tf
from tensorflow import keras

from tf_layers.core.einsum_dense import EinsumDense


def _proj_equation(free, bound, out):
    letters = string.ascii_lowercase
    f, b = letters[:free], letters[free : free + bound]
    o = letters[free + bound : free + bound + out]
    return f"{f}{b},{b}{o}->{f}{o}", o


def _attention_equations(rank, attn_axes):
    """scores = einsum(dot, key, query): (<batch dims>, N, <q attn dims>, <k attn dims>)."""
    letters = string.ascii_lowercase
    q = letters[:rank]
    batch = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    k = list(q)
    for j, i in enumerate(attn_axes):
        k[i] = letters[rank + j]
    k = "".join(k)
    scores = "".join([q[i] for i in batch] + [q[i] for i in attn_axes] + [k[i] for i in attn_axes])
    return f"{k},{q}->{scores}", f"{scores},{k}->{q}", len(scores)


class MultiHeadAttention(keras.layers.Layer):
    """Computes: Keras's MultiHeadAttention (reference docstring), with raw tf ops.
    Keras: keras.layers.MultiHeadAttention(num_heads, key_dim, value_dim=None, dropout=0.0,
    use_bias=True, output_shape=None, attention_axes=None, kernel_initializer, ..., seed=None);
    sublayers query, key, value, attention_output. Dropout draws
    tf.random.stateless_uniform with the seed [seed, n] at its n-th draw, as Keras's Dropout."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = value_dim or key_dim
        self.dropout, self.use_bias, self.seed = dropout, use_bias, seed
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_shape = tuple(output_shape) if output_shape else None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self.attention_axes = attention_axes
        self._common = dict(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self._draws = 0
        self.supports_masking = True

    def _dense(self, shape, bound, out_dims, name, free=None):
        free = len(shape) - 1 if free is None else free
        eq, bias_axes = _proj_equation(free, bound, len(out_dims))
        layer = EinsumDense(eq, [None] * (free - 1) + list(out_dims),
                            bias_axes=bias_axes if self.use_bias else None, name=name,
                            dtype=self.dtype_policy, **self._common)  # fmt: skip
        layer.build(tuple(shape))
        return layer

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        heads = [self.num_heads, self.key_dim]
        self.query_dense = self._dense(query_shape, 1, heads, "query")
        self.key_dense = self._dense(key_shape, 1, heads, "key")
        self.value_dense = self._dense(value_shape, 1, [self.num_heads, self.value_dim], "value")
        rank = len(value_shape) + 1
        axes = self.attention_axes or tuple(range(1, rank - 2))
        self.attention_axes = tuple(a if a >= 0 else rank - 1 + a for a in axes)
        self._dot, self._combine, n = _attention_equations(rank, self.attention_axes)
        self._norm_axes = list(range(n - len(self.attention_axes), n))
        out = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        self.output_dense = self._dense(
            tuple(query_shape[:-1]) + (self.num_heads, self.value_dim), 2, out,
            "attention_output", free=len(query_shape) - 1,
        )  # fmt: skip

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):  # fmt: skip
        key_given = key is not None
        key = value if key is None else key
        query_mask = getattr(query, "_keras_mask", None)  # Keras 3.15 overwrites the argument
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and key_given:
            key_mask = getattr(key, "_keras_mask", None)
        t, s = tf.shape(query)[1], tf.shape(value)[1]
        causal = tf.linalg.band_part(tf.ones((t, s), tf.bool), -1, 0)[None]
        masks = []
        if attention_mask is not None:
            masks.append(tf.cast(attention_mask, tf.bool))
        if query_mask is not None:
            masks.append(tf.cast(query_mask, tf.bool)[..., :, None])
        for m in (value_mask, key_mask):
            if m is not None:
                masks.append(tf.cast(m, tf.bool)[..., None, :])
        causal_only = use_causal_mask and not masks
        if use_causal_mask:
            masks.append(causal)
        mask = None
        for m in masks:
            mask = m if mask is None else tf.logical_and(mask, m)
        # The projections must not see the inputs' masks (Keras clears them): fresh tensors.
        q = self.query_dense(tf.identity(query))
        k = self.key_dense(tf.identity(key))
        v = self.value_dense(tf.identity(value))
        scale = tf.cast(1.0 / math.sqrt(float(self.key_dim)), q.dtype)  # via float32
        if not (self.dropout > 0 or return_attention_scores or len(q.shape) != 4):
            logits = tf.einsum("BTNH,BSNH->BNTS", q, k) * scale
            if mask is not None:
                while len(mask.shape) < 4:
                    mask = tf.expand_dims(mask, -3)
                big = -0.7 * (65500.0 if q.dtype == tf.float16 else 3.38953e38)
                logits = tf.where(mask, logits, tf.constant(big, q.dtype))
            out = tf.einsum("BNTS,BSNH->BTNH", tf.nn.softmax(logits, -1), v)
            return self.output_dense(out)
        del causal_only  # the explicit path applies the same causal mask either way
        scores = tf.einsum(self._dot, k, q * scale)
        if mask is not None:
            while len(mask.shape) < len(scores.shape):
                mask = tf.expand_dims(mask, -len(self.attention_axes) * 2 - 1)
            big = -3e4 if scores.dtype == tf.float16 else -1e9
            scores = tf.where(mask, scores, tf.constant(big, scores.dtype))
        if len(self._norm_axes) == 1:
            probs = tf.nn.softmax(scores, axis=self._norm_axes[0])
        else:
            probs = tf.exp(scores - tf.reduce_logsumexp(scores, self._norm_axes, keepdims=True))
        if mask is not None:
            probs = tf.where(mask, probs, tf.zeros((), probs.dtype))
        dropped = probs
        if training and self.dropout > 0:
            seed = [(self.seed or 0) % (2**31 - 2), self._draws]
            self._draws += 1
            u = tf.random.stateless_uniform(tf.shape(probs), seed, dtype=probs.dtype)
            rate = tf.constant(1.0 / (1.0 - self.dropout), probs.dtype)
            dropped = tf.where(u >= self.dropout, probs * rate, tf.zeros((), probs.dtype))
        out = self.output_dense(tf.einsum(self._combine, dropped, v))
        return (out, probs) if return_attention_scores else out

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        if self._output_shape:
            return tuple(query_shape[:-1]) + self._output_shape
        return tuple(query_shape)
