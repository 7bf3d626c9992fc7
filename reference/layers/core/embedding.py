"""Core layers: Embedding."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import constraints, initializers, regularizers
from ...layer import Layer


def _check_dim(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value} "
            f"(of type {type(value).__name__})."
        )
    return value


class Embedding(Layer):
    """Turns integer indices into dense vectors: row `i` of an (input_dim, output_dim) table.

    Computes: y[..., :] = embeddings[x[...], :]  (np.take along axis 0).
    VJP: traced: dembeddings = scatter-add of dy into the rows x names (np.add.at: a repeated
    index gets the sum of its gradients); integer inputs get no gradient.
    compute_mask (mask_zero=True): x != 0.
    Keras: keras.layers.Embedding(input_dim, output_dim, embeddings_initializer="uniform",
    embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, weights=None);
    one weight `embeddings`, built at construction's first call.
    Differences: an index outside [0, input_dim) (negative ones included) is a ValueError naming
    the index and `input_dim` (Keras on TF: InvalidArgumentError on CPU, zeros on GPU); float
    inputs must hold whole numbers (Keras casts 1.7 to 1, silently) and bool inputs are refused;
    LoRA and quantization raise NotImplementedError.

    Input shape: any, integers.  Output shape: input shape + (output_dim,).
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        _check_dim("input_dim", input_dim)
        _check_dim("output_dim", output_dim)
        if lora_rank is not None or lora_alpha is not None or quantization_config is not None:
            raise NotImplementedError(
                "Embedding: LoRA (`lora_rank`, `lora_alpha`) and `quantization_config` are not "
                f"implemented in the reference. Received: lora_rank={lora_rank}, "
                f"lora_alpha={lora_alpha}, quantization_config={quantization_config}"
            )
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        resolved = dict(
            embeddings_initializer=initializers.get(embeddings_initializer),
            embeddings_regularizer=regularizers.get(embeddings_regularizer),
            embeddings_constraint=constraints.get(embeddings_constraint),
        )
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        for key, value in resolved.items():
            setattr(self, key, value)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False
        self.embeddings = None
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape: tuple | None = None) -> None:
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim), initializer=self.embeddings_initializer,
            name="embeddings", regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint, trainable=True,
        )  # fmt: skip

    def _indices(self, inputs) -> np.ndarray:
        """The inputs as checked int64 indices (a plain array: indices carry no gradient)."""
        raw = inputs.numpy() if hasattr(inputs, "numpy") else np.asarray(inputs)
        if raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
            raise TypeError(
                f"Layer '{self.name}' (Embedding) expects integer indices. Received inputs of "
                f"dtype {raw.dtype}."
            )
        if raw.dtype.kind == "f":
            whole = np.isfinite(raw) & (raw == np.trunc(raw))
            if not whole.all():
                at = tuple(int(i) for i in np.argwhere(~whole)[0])
                raise ValueError(
                    f"Layer '{self.name}' (Embedding) expects integer indices; received float "
                    f"inputs with a non-integer value {raw[at].item()!r} at position {at} (Keras "
                    "would truncate it silently). Pass an integer array."
                )
        bad = (raw < 0) | (raw >= self.input_dim)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"Layer '{self.name}' (Embedding): index {raw[at].item()!r} at position {at} is "
                "not in "
                f"[0, input_dim={self.input_dim}). Received inputs of shape {raw.shape} with "
                f"{int(bad.sum())} out-of-range value(s)."
            )
        return raw.astype(np.int64)

    def call(self, inputs):
        return np.take(self.embeddings, self._indices(inputs), axis=0).astype(self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return np.not_equal(self._indices(inputs), 0)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
