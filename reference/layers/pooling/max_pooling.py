"""MaxPooling1D/2D/3D: BasePooling in max mode (keras/src/layers/pooling/max_pooling*d.py)."""

from __future__ import annotations

from typing import Any

from .base_pooling import BasePooling


class MaxPooling1D(BasePooling):
    """Max over windows of the steps axis. Keras: keras.layers.MaxPooling1D(pool_size=2, ...)."""

    def __init__(
        self,
        pool_size: Any = 2,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(1, pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(BasePooling):
    """Max over 2D windows. Keras: keras.layers.MaxPooling2D(pool_size=(2, 2), ...)."""

    def __init__(
        self,
        pool_size: Any = (2, 2),
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(2, pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(BasePooling):
    """Max over 3D windows. Keras: keras.layers.MaxPooling3D(pool_size=(2, 2, 2), ...)."""

    def __init__(
        self,
        pool_size: Any = (2, 2, 2),
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(3, pool_size, strides, padding, data_format, name=name, **kwargs)
