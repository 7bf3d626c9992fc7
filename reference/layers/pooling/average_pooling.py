"""AveragePooling1D/2D/3D: BasePooling in average mode (keras/src/layers/pooling/)."""

from __future__ import annotations

from typing import Any

from .base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Mean over windows of the steps axis (real elements only).
    Keras: keras.layers.AveragePooling1D(pool_size, ...)."""

    mode = "average"

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(1, pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """Mean over 2D windows (real elements only).
    Keras: keras.layers.AveragePooling2D(pool_size, ...)."""

    mode = "average"

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(2, pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """Mean over 3D windows (real elements only).
    Keras: keras.layers.AveragePooling3D(pool_size, ...)."""

    mode = "average"

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(3, pool_size, strides, padding, data_format, name=name, **kwargs)
