"""Normalization layers: UnitNormalization."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...layer import Layer
from ._axes import check_axis_type, normalized_axes


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis`.

    Computes: y = x * min(1 / sqrt(sum(x^2 over axis)), 1e12)  (keras.ops.normalize, order 2,
    epsilon 1e-12: x * rsqrt, with the inverse norm capped rather than the norm floored).
    VJP: traced (no weights; the tape's rules for square, sum, sqrt, minimum and multiply).
    Keras: keras.layers.UnitNormalization(axis=-1).
    Differences: an axis outside the input's rank is a ValueError naming the layer.

    Input shape: any.  Output shape: same as input.
    """

    def __init__(self, axis: int | list = -1, **kwargs: Any):
        axis = check_axis_type("UnitNormalization", axis)
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs):
        axes = tuple(normalized_axes(self.name, self.axis, inputs.shape))
        inv_norm = 1.0 / np.sqrt(np.sum(np.square(inputs), axis=axes, keepdims=True))
        return inputs * np.minimum(inv_norm, 1.0 / 1e-12)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        normalized_axes(self.name, self.axis, input_shape)
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
