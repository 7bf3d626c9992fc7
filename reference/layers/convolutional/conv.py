"""Conv1D, Conv2D, Conv3D: BaseConv at rank 1, 2 and 3 (keras/src/layers/convolutional/)."""

from __future__ import annotations

from typing import Any

from .base_conv import BaseConv


class Conv1D(BaseConv):
    """1D convolution (temporal). As BaseConv, rank 1; padding also "causal" (left zeros only,
    d * (k - 1) of them, so that y[t] depends on x[:t + 1] only).

    Keras: keras.layers.Conv1D(filters, kernel_size, strides=1, padding="valid", ...).
    Input shape: (batch, steps, channels) or (batch, channels, steps).
    """

    paddings = ("valid", "same", "causal")

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(1, filters, kernel_size, **kwargs)


class Conv2D(BaseConv):
    """2D convolution. As BaseConv, rank 2. Keras: keras.layers.Conv2D(filters, kernel_size, ...).
    Input shape: (batch, rows, cols, channels) or (batch, channels, rows, cols)."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(2, filters, kernel_size, **kwargs)


class Conv3D(BaseConv):
    """3D convolution. As BaseConv, rank 3. Keras: keras.layers.Conv3D(filters, kernel_size, ...).
    Input shape: (batch, d1, d2, d3, channels) or (batch, channels, d1, d2, d3)."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(3, filters, kernel_size, **kwargs)
