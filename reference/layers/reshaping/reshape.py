"""Reshaping layers: Reshape."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...layer import Layer


class Reshape(Layer):
    """Reshapes every example to `target_shape` (the batch axis is kept).

    Computes: y = reshape(x, (batch, *target_shape)); one entry of target_shape may be -1.
    VJP: traced (reshape).
    Keras: keras.layers.Reshape(target_shape).
    Differences: a size mismatch is a ValueError naming the layer, both shapes and the sizes.
    """

    _symbolic_keeps_input_dtype = True  # Keras: compute_output_spec keeps the dtype

    def __init__(self, target_shape: Any, **kwargs: Any):
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"Reshape: `target_shape` must be a tuple of integers. Received: "
                f"target_shape={target_shape!r}"
            ) from None
        if target.count(-1) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(
                "Reshape: `target_shape` must hold positive integers and at most one -1. "
                f"Received: target_shape={target_shape}"
            )
        super().__init__(**kwargs)
        self.target_shape = target
        self.built = True

    def _resolved(self, shape: tuple) -> tuple:
        size = math.prod(shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and size % known) or (
            -1 not in self.target_shape and size != known
        ):
            raise ValueError(
                f"Layer '{self.name}' (Reshape): cannot reshape an input of shape {tuple(shape)} "
                f"({size} values per example) to target_shape={self.target_shape}."
            )
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def call(self, inputs):
        shape = np.shape(inputs)
        return np.reshape(inputs, (shape[0], *self._resolved(shape)))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self._resolved(input_shape))

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}
