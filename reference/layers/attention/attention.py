"""Attention (Luong, dot or concat scores) and AdditiveAttention (Bahdanau)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import activations
from ... import random as _random
from ...layer import Layer
from ...ops import attention as ops


class Attention(Layer):
    """Dot-product (Luong) attention over [query, value] or [query, value, key].

    Computes: scores = q @ k^T (* scale if use_scale) for score_mode="dot", or
    concat_score_weight * sum(tanh(scale * (q_i + k_j)), -1) for "concat";
    scores = where(mask, scores, scores - 1e9) (float16: 65504) with mask = value_mask
    [B, 1, Tv] AND the causal mask [1, Tq, Tv]; w = softmax(scores, -1); w = dropout(w) in
    training; out = w @ v; out = where(query_mask[..., None], out, 0).
    A fully masked row keeps its scores' differences in float64 (s - 1e9 is exact enough) and
    loses them in float32 (the spacing at 1e9 is 64): softmax of the shifted scores, NaN-free.
    VJP: traced (matmul, tanh, softmax rules).
    Keras: keras.layers.Attention(use_scale=False, score_mode="dot", dropout=0.0, seed=None);
    call(inputs, mask=None, training=False, return_attention_scores=False,
    use_causal_mask=False); weights scale () then concat_score_weight (), both ones.
    Randomness: Keras's, bit for bit (SeedGenerator(seed), stateless dropout per call).
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if self.dropout > 0:
            self.seed_generator = _random.SeedGenerator(seed=seed)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones"
            )

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = np.matmul(query, np.swapaxes(key, -2, -1))
            return scores if self.scale is None else scores * self.scale
        q = np.expand_dims(query, -2)
        k = np.expand_dims(key, -3)
        total = q + k if self.scale is None else self.scale * (q + k)
        return self.concat_score_weight * np.sum(np.tanh(total), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):  # fmt: skip
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        self._check_shapes(q, v, k, mask)
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._calculate_scores(q, k)
        if use_causal_mask:
            causal = ops.causal_mask(np.shape(scores)[-2], np.shape(scores)[-1])
            v_mask = causal if v_mask is None else np.expand_dims(_bool(v_mask), -2) & causal
        if v_mask is not None:
            padding = ~_bool(v_mask)
            if padding.ndim == 2:
                padding = np.expand_dims(padding, -2)
            big = 65504.0 if scores.dtype == np.float16 else 1.0e9
            scores = np.where(padding, scores - np.asarray(big, scores.dtype), scores)
        weights = activations.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            keep = _random.dropout_mask(np.shape(weights), self.dropout, weights.dtype,
                                        self.seed_generator)  # fmt: skip
            scale = np.asarray(1.0 / (1.0 - self.dropout), weights.dtype)
            weights = np.where(keep, weights * scale, np.zeros((), weights.dtype))
        out = np.matmul(weights, v)
        if q_mask is not None:
            out = np.where(np.expand_dims(_bool(q_mask), -1), out, np.zeros((), out.dtype))
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return np.asarray(mask[0])

    def compute_output_shape(self, input_shape) -> tuple:
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def _validate_inputs(self, inputs, mask=None) -> None:
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                    f"Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(
                    f"{name} layer accepts mask list of length 2 or 3. Received: "
                    f"inputs={inputs}, mask={mask}."
                )

    def _check_shapes(self, q, v, k, mask) -> None:
        # Keras leaves these to the backend (InvalidArgumentError from matmul or add).
        name = f"Layer '{self.name}' ({type(self).__name__})"
        qs, vs, ks = np.shape(q), np.shape(v), np.shape(k)
        if qs[-1] != ks[-1] or qs[:-2] != ks[:-2] or vs[:-1] != ks[:-1]:
            raise ValueError(
                f"{name}: query and key must share the batch dims and the last dimension, and "
                "value and key every dimension but the last. Received: query.shape="
                f"{qs}, value.shape={vs}, key.shape={ks}"
            )
        if self.scale is not None and np.shape(self.scale) not in ((), (qs[-1],)):
            raise ValueError(f"{name}: the scale was built for dim {np.shape(self.scale)}, "
                             f"query's last dimension is {qs[-1]}.")  # fmt: skip
        for i, (m, x) in enumerate(zip(mask or [], (q, v), strict=False)):
            if m is not None and np.shape(m) != np.shape(x)[:-1]:
                raise ValueError(
                    f"{name}: mask[{i}] must have the shape {np.shape(x)[:-1]} (its input's "
                    f"without the last axis). Received: mask[{i}].shape={np.shape(m)}"
                )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention over [query, value] or [query, value, key].

    Computes: scores = sum(scale * tanh(q_i + k_j), -1) (scale = 1 without use_scale); then
    masks, softmax, dropout and w @ v as Attention.
    VJP: traced.
    Keras: keras.layers.AdditiveAttention(use_scale=True, dropout=0.0); weight scale (dim,),
    glorot_uniform.
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape) -> None:
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            dim = input_shape[0][-1]
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")

    def _calculate_scores(self, query, key):
        q = np.expand_dims(query, -2)
        k = np.expand_dims(key, -3)
        t = np.tanh(q + k)
        return np.sum(t if self.scale is None else self.scale * t, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config


def _bool(m) -> np.ndarray:
    m = np.asarray(m)
    return m if m.dtype == bool else m.astype(bool)
