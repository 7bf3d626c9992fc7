"""Reshaping layers: RepeatVector."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...input_spec import InputSpec
from ...layer import Layer


class RepeatVector(Layer):
    """Repeats each example's vector n times.

    Computes: y[b, i, :] = x[b, :] for i < n: (batch, features) -> (batch, n, features).
    VJP: traced (dx = sum of dy over the repeats).
    Keras: keras.layers.RepeatVector(n).
    """

    def __init__(self, n: int, **kwargs: Any):
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        super().__init__(**kwargs)
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        b, f = np.shape(inputs)
        return np.repeat(np.reshape(inputs, (b, 1, f)), self.n, axis=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}
