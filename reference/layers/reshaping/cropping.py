"""Cropping1D/2D/3D: elements removed before and after each spatial axis
(keras/src/layers/reshaping/cropping*d.py)."""

from __future__ import annotations

from typing import Any

from ._spatial import SpatialLayer, pairs


class BaseCropping(SpatialLayer):
    """Computes: y = x[..., before : n - after, ...] on every spatial axis.
    VJP: traced (the slice's: dy placed back, zeros in the cropped margins).
    Keras: keras.layers.Cropping{1,2,3}D(cropping, data_format=None)."""

    _saves_build_config = False  # Keras's croppings have no build(), so save no build_config

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any):
        cropping = pairs(type(self).__name__, "cropping", cropping, self.rank)
        super().__init__(data_format, **kwargs)
        self.cropping = cropping

    def build(self, input_shape: tuple) -> None:
        self.compute_output_shape(input_shape)  # raises before anything is built

    def call(self, inputs):
        index = [slice(None)] * (self.rank + 2)
        for axis, (b, a) in zip(self._axes(), self.cropping, strict=True):
            index[axis] = slice(b, inputs.shape[axis] - a)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        def size(i, n):
            if sum(self.cropping[i]) >= n:
                raise ValueError(
                    f"{type(self).__name__}: `cropping` must leave at least one element on "
                    f"every spatial axis. Received: cropping={self.cropping}, "
                    f"input_shape={tuple(input_shape)}"
                )
            return n - sum(self.cropping[i])

        return self._map_shape(input_shape, size)

    def get_config(self) -> dict:
        if self.rank == 1:
            return {**super().get_config(), "cropping": self.cropping[0]}
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(BaseCropping):
    """Keras: keras.layers.Cropping1D(cropping=(1, 1))."""

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any):
        super().__init__(cropping, None, **kwargs)


class Cropping2D(BaseCropping):
    """Keras: keras.layers.Cropping2D(cropping=((0, 0), (0, 0)), data_format=None)."""

    rank = 2

    def __init__(
        self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any
    ):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(BaseCropping):
    """Keras: keras.layers.Cropping3D(cropping=((1, 1),) * 3, data_format=None)."""

    rank = 3

    def __init__(
        self,
        cropping: Any = ((1, 1), (1, 1), (1, 1)),
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(cropping, data_format, **kwargs)
