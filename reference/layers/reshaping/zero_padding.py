"""ZeroPadding1D/2D/3D: zeros added before and after each spatial axis
(keras/src/layers/reshaping/zero_padding*d.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._spatial import SpatialLayer, pairs


class BaseZeroPadding(SpatialLayer):
    """Computes: y = x with padding[i] = (before, after) zeros on spatial axis i (np.pad).
    VJP: traced (np.pad's: the gradient cropped back).
    Keras: keras.layers.ZeroPadding{1,2,3}D(padding, data_format=None)."""

    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any):
        padding = pairs(type(self).__name__, "padding", padding, self.rank)
        super().__init__(data_format, **kwargs)
        self.padding = padding

    def call(self, inputs):
        width = [(0, 0)] * (self.rank + 2)
        for axis, p in zip(self._axes(), self.padding, strict=True):
            width[axis] = p
        return np.pad(inputs, width)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._map_shape(input_shape, lambda i, n: n + sum(self.padding[i]))

    def get_config(self) -> dict:
        padding = self.padding[0] if self.rank == 1 else self.padding
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding1D(BaseZeroPadding):
    """Keras: keras.layers.ZeroPadding1D(padding=1, data_format=None)."""

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(BaseZeroPadding):
    """Keras: keras.layers.ZeroPadding2D(padding=(1, 1), data_format=None)."""

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(BaseZeroPadding):
    """Keras: keras.layers.ZeroPadding3D(padding=((1, 1),) * 3, data_format=None)."""

    rank = 3

    def __init__(
        self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any
    ):
        super().__init__(padding, data_format, **kwargs)
