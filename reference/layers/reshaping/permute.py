"""Reshaping layers: Permute."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...input_spec import InputSpec
from ...layer import Layer


class Permute(Layer):
    """Permutes the non-batch axes.

    Computes: y = transpose(x, (0, *dims)); dims is a permutation of 1..rank-1.
    VJP: traced (the inverse transpose).
    Keras: keras.layers.Permute(dims).
    """

    _symbolic_keeps_input_dtype = True  # Keras: compute_output_spec keeps the dtype

    def __init__(self, dims: Any, **kwargs: Any):
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}"
            )
        super().__init__(**kwargs)
        self.dims = dims
        self.input_spec = InputSpec(ndim=len(dims) + 1)

    def call(self, inputs):
        return np.transpose(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}
