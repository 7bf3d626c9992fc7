"""Reshaping layers: Flatten."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import config
from ...input_spec import InputSpec
from ...layer import Layer


class Flatten(Layer):
    """Flattens every axis but the batch axis.

    Computes: y = reshape(x, (batch, prod(x.shape[1:]))); channels_first inputs are first
    transposed to channels last (so the order of features matches a channels-last model).
    A rank-1 input becomes (batch, 1).
    VJP: traced (reshape, transpose).
    Keras: keras.layers.Flatten(data_format=None).
    """

    _symbolic_keeps_input_dtype = True  # Keras: compute_output_spec keeps the dtype

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        fmt = config.image_data_format() if data_format is None else str(data_format).lower()
        if fmt not in ("channels_first", "channels_last"):
            raise ValueError(
                'Flatten: the `data_format` argument must be one of {"channels_first", '
                f'"channels_last"}}. Received: data_format={data_format}'
            )
        super().__init__(**kwargs)
        self.data_format = fmt
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        shape = np.shape(inputs)
        if self.data_format == "channels_first" and len(shape) > 1:
            inputs = np.transpose(inputs, (0, *range(2, len(shape)), 1))
        return np.reshape(inputs, (shape[0], math.prod(shape[1:])))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
