"""MultiHeadAttention: Q, K, V projections (EinsumDense), scaled dot-product attention per head
over `attention_axes`, and an output projection (EinsumDense)."""

from __future__ import annotations

import math
import string
from typing import Any

import numpy as np

from ... import constraints, initializers, regularizers
from ...layer import Layer
from ...ops import attention as ops
from ..activations.softmax import Softmax
from ..core.einsum_dense import EinsumDense
from ..core.masking import get_keras_mask
from ..regularization.dropout import Dropout


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al. 2017), Keras's layout.

    Computes: q = query_dense(query) (B, T, N, key_dim), k = key_dense(key), v = value_dense(value)
    (B, S, N, value_dim); scores = softmax_S(q k^T / sqrt(key_dim), masked); o = scores v;
    y = attention_output(o) (B, T, output_shape or query's last dim). Two code paths, as Keras:
    - rank-3 inputs, dropout == 0, return_attention_scores=False (ops.dot_product_attention):
      logits = (q k^T) * scale; masked logits -> -0.7 * dtype max; softmax. A fully masked
      query row attends uniformly to every key (it averages v);
    - otherwise: logits = (q * scale) k^T; Softmax layer with the mask (masked -> -1e9, then
      masked probabilities -> 0), dropout on the probabilities; a fully masked row gives 0.
    Mask: AND of query's attached mask [B, T, 1], value_mask and key_mask [B, 1, S], the causal
    mask [1, T, S] (use_causal_mask) and attention_mask (broadcast over batch and heads).
    VJP: the projections' hand-written EinsumDense VJPs; on the first path the attention core
    is one node too (ops.attention.dot_product_attention: dv = p^T dout, dlogits =
    p * (dp - sum(dp * p)), dq = dlogits k * scale, dk = dlogits^T q * scale); the second path
    is traced (einsum as matmul, softmax, where, dropout).
    Keras: keras.layers.MultiHeadAttention(num_heads, key_dim, value_dim=None, dropout=0.0,
    use_bias=True, output_shape=None, attention_axes=None, ...); sublayers query, key, value,
    attention_output (EinsumDense), weights in that order.
    Differences: sliding_window, flash_attention and use_gate are not supported (must be
    None/False). As Keras 3.15, the `query_mask` argument is ignored: the query's mask is the
    one attached to `query` (get_keras_mask).
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Any = None,
        attention_axes: Any = None,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ):
        for name, value, optional in (("num_heads", num_heads, False), ("key_dim", key_dim, False),
                                      ("value_dim", value_dim, True)):  # fmt: skip
            if optional and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`, expected a positive "
                    f"integer{' or `None`' if optional else ''}. Received: {name}={value}"
                )
        if sliding_window is not None or flash_attention or use_gate:
            raise NotImplementedError(
                "MultiHeadAttention: sliding_window, flash_attention and use_gate are not part "
                f"of the reference. Received: sliding_window={sliding_window}, "
                f"flash_attention={flash_attention}, use_gate={use_gate}"
            )
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the "
                    "`output_shape` should be of type tuple, list, or int."
                ) from None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, list | tuple):
            raise ValueError(
                "`attention_axes` must be an int, list, or tuple."
                f"Received: attention_axes={attention_axes}"
            )
        kernel_initializer = initializers.get(kernel_initializer)
        bias_initializer = initializers.get(bias_initializer)
        kernel_regularizer = regularizers.get(kernel_regularizer)
        bias_regularizer = regularizers.get(bias_regularizer)
        kernel_constraint = constraints.get(kernel_constraint)
        bias_constraint = constraints.get(bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._output_shape = output_shape
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer
        self._kernel_regularizer = kernel_regularizer
        self._bias_regularizer = bias_regularizer
        self._kernel_constraint = kernel_constraint
        self._bias_constraint = bias_constraint
        self._attention_axes = attention_axes
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))
        # Keras casts this Python float with ops.cast / tf.cast, which makes it a float32
        # constant first: float64 layers scale by the float32-rounded value (keras-notes 10).
        self._scale = float(np.float32(self._inverse_sqrt_key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def build(self, query_shape, value_shape, key_shape=None) -> None:
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        self._query_dense = self._projection(query_shape, 1, [self._num_heads, self._key_dim],
                                             "query")  # fmt: skip
        self._key_dense = self._projection(key_shape, 1, [self._num_heads, self._key_dim], "key")
        self._value_dense = self._projection(value_shape, 1, [self._num_heads, self._value_dim],
                                             "value")  # fmt: skip
        rank = len(value_shape) + 1  # the projected tensors' rank
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a
                                         for a in self._attention_axes)  # fmt: skip
        self._dot_product_equation, self._combine_equation, scores_rank = _build_attention_equation(
            rank, self._attention_axes
        )
        norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        self._softmax = Softmax(axis=norm_axes, dtype=self.dtype)
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype, seed=self.seed)
        out_shape = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        projected = list(self._query_dense.compute_output_shape(tuple(query_shape)))
        projected[-1] = self._value_dim
        self._output_dense = self._projection(projected, 2, out_shape, "attention_output",
                                              free=len(query_shape) - 1)  # fmt: skip
        self._built_shapes = (tuple(query_shape), tuple(value_shape), tuple(key_shape))

    def _projection(self, shape, bound, out_dims, name, free=None) -> EinsumDense:
        free = len(shape) - 1 if free is None else free
        equation, bias_axes, output_rank = _build_proj_equation(free, bound, len(out_dims))
        layer = EinsumDense(
            equation,
            output_shape=[None] * (output_rank - 1 - len(out_dims)) + list(out_dims),
            bias_axes=bias_axes if self._use_bias else None,
            name=name,
            kernel_initializer=_fresh(self._kernel_initializer),
            bias_initializer=_fresh(self._bias_initializer),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self.activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self.dtype,
        )
        layer.build(tuple(shape))
        return layer

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):  # fmt: skip
        key_given = key is not None
        key = value if key is None else key
        query_mask = get_keras_mask(query)  # as Keras 3.15: the argument is overwritten
        if value_mask is None:
            value_mask = get_keras_mask(value)
        if key_mask is None and key_given:
            key_mask = get_keras_mask(key)
        query, value, key = (_unmasked(t) for t in (query, value, key))
        self._check_inputs(query, value, key, query_mask, value_mask, key_mask, attention_mask)
        causal_only = use_causal_mask and all(
            m is None for m in (query_mask, value_mask, key_mask, attention_mask)
        )
        mask = None if causal_only else _attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )  # fmt: skip
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        fast = not (self._dropout > 0.0 or return_attention_scores or np.ndim(q) != 4)
        if fast:
            out = self._dot_product_attention(q, k, v, mask, causal_only)
            scores = None
        else:
            if causal_only:
                mask = ops.causal_mask(np.shape(q)[1], np.shape(v)[1])
            out, scores = self._explicit_attention(q, k, v, mask, training)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def _dot_product_attention(self, q, k, v, mask, is_causal):
        """Keras's ops.dot_product_attention on the TF backend (rank-4 q, k, v): one tape
        node with a hand-written backward (ops.attention.dot_product_attention)."""
        if is_causal:
            mask = ops.causal_mask(np.shape(q)[1], np.shape(k)[1])[None]
        elif mask is not None:
            mask = np.expand_dims(mask, tuple(range(-3, -3 - (4 - mask.ndim), -1)))
        return ops.dot_product_attention(q, k, v, mask, self._scale)

    def _explicit_attention(self, q, k, v, mask, training):
        q = q * np.asarray(self._scale, q.dtype)
        scores = ops.einsum(self._dot_product_equation, k, q)
        if mask is not None:
            axis = -len(self._attention_axes) * 2 - 1
            for _ in range(scores.ndim - mask.ndim):
                mask = np.expand_dims(mask, axis)
        scores = self._softmax(scores, mask=mask)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0 else scores
        return ops.einsum(self._combine_equation, dropped, v), scores

    def _check_inputs(self, query, value, key, query_mask, value_mask, key_mask, attention_mask):
        built = self._built_shapes
        for name, x, shape in zip(("query", "value", "key"), (query, value, key), built,
                                  strict=True):  # fmt: skip
            if np.ndim(x) != len(shape) or np.shape(x)[-1] != shape[-1]:
                raise ValueError(
                    f"Layer '{self.name}' (MultiHeadAttention): `{name}` has shape "
                    f"{np.shape(x)}, but the layer was built for rank {len(shape)} with a last "
                    f"dimension of {shape[-1]} (built shapes query/value/key: {built})."
                )
        if np.shape(value)[:-1] != np.shape(key)[:-1] or np.shape(query)[0] != np.shape(value)[0]:
            raise ValueError(
                f"Layer '{self.name}' (MultiHeadAttention): `query`, `value` and `key` must "
                "share the batch size, and `value` and `key` every dimension but the last. "
                f"Received: query.shape={np.shape(query)}, value.shape={np.shape(value)}, "
                f"key.shape={np.shape(key)}"
            )
        for name, m, x in (("query_mask", query_mask, query), ("value_mask", value_mask, value),
                           ("key_mask", key_mask, key)):  # fmt: skip
            if m is not None and np.shape(m) != np.shape(x)[:-1]:
                raise ValueError(
                    f"Layer '{self.name}' (MultiHeadAttention): `{name}` must have the shape of "
                    f"its input without the last axis, {np.shape(x)[:-1]}. Received: "
                    f"{name}.shape={np.shape(m)}"
                )
        target = np.shape(query)[:-1] + np.shape(value)[1:-1]
        if attention_mask is not None and not _broadcasts(np.shape(attention_mask), target):
            raise ValueError(
                f"Layer '{self.name}' (MultiHeadAttention): `attention_mask` must broadcast to "
                f"(B, <query attention dims>, <key attention dims>) = {target}. Received: "
                f"attention_mask.shape={np.shape(attention_mask)}"
            )

    def compute_output_shape(self, query_shape, value_shape, key_shape=None) -> tuple:
        query_shape = tuple(query_shape)
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": False,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": None,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }


def _fresh(initializer):
    # Keras gives each sublayer its own copy from the config (same seed: same values).
    return type(initializer).from_config(initializer.get_config())


def _unmasked(x):
    """x without an attached mask: the projections must not see (or warn about) it."""
    if get_keras_mask(x) is None:
        return x
    if isinstance(x, np.ndarray):
        return x.view(np.ndarray)
    x._keras_mask = None  # a TrackedArray's slot, cleared as Keras clears the tensor's
    return x


def _broadcasts(shape: tuple, target: tuple) -> bool:
    return len(shape) <= len(target) and all(
        s in (1, t) for s, t in zip(shape[::-1], target[::-1], strict=False)
    )


def _attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask, causal):
    """Keras's _compute_attention_mask: AND of [B, T, 1], [B, 1, S], [B, 1, S], [1, T, S] and
    attention_mask; None when there is none."""
    parts = []
    if query_mask is not None:
        parts.append(np.expand_dims(np.asarray(query_mask, bool), -1))
    for m in (value_mask, key_mask):
        if m is not None:
            parts.append(np.expand_dims(np.asarray(m, bool), -2))
    if causal:
        parts.append(ops.causal_mask(np.shape(query)[1], np.shape(value)[1]))
    if attention_mask is not None:
        am = np.asarray(attention_mask)
        parts.insert(0, am if am.dtype == bool else am.astype(bool))
    if not parts:
        return None
    mask = parts[0]
    for p in parts[1:]:
        mask = mask & p
    return mask


def _build_attention_equation(rank: int, attn_axes: tuple) -> tuple[str, str, int]:
    """Keras's equations: scores = einsum(dot, key, query) with shape (<batch dims>, N,
    <query attention dims>, <key attention dims>); output = einsum(combine, scores, value)."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = tuple(np.delete(range(rank), attn_axes + (rank - 1,)))
    offset, source = rank, ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += letters[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes]
                      + [source[i] for i in attn_axes])  # fmt: skip
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _build_proj_equation(free_dims: int, bound_dims: int, output_dims: int):
    """Keras's projection equation: free axes pass through, bound axes contract."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims : free_dims + bound_dims]
    out = letters[free_dims + bound_dims : free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out, len(free + out)
