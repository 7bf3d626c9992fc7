"""UpSampling1D/2D/3D: each spatial element repeated `size` times (2D: or bilinear)
(keras/src/layers/reshaping/up_sampling*d.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..convolutional import _args
from ._spatial import SpatialLayer


def bilinear_matrix(n: int, factor: int, dtype) -> np.ndarray:
    """(n * factor, n) weights of TF's bilinear resize (half-pixel centers, no antialias):
    output i reads input u = (i + 0.5) / factor - 0.5, clamped to [0, n - 1], linearly."""
    u = np.clip((np.arange(n * factor) + 0.5) / factor - 0.5, 0, n - 1)
    lo = np.floor(u).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = np.zeros((n * factor, n))
    rows = np.arange(n * factor)
    np.add.at(w, (rows, lo), 1 - (u - lo))
    np.add.at(w, (rows, hi), u - lo)
    return w.astype(dtype)


class BaseUpSampling(SpatialLayer):
    """Nearest-neighbour upsampling of the spatial axes.

    Computes: y[n, i * s + r, c] = x[n, i, c] for r < s, axis by axis (np.repeat); bilinear
        (UpSampling2D): y = A_h x A_w^T over the two axes, A the `bilinear_matrix` of TF's
        tf.image.resize (half-pixel centers).
    VJP: traced: np.repeat's (sum over each block of s); bilinear: A^T dy A.
    Keras: keras.layers.UpSampling{1,2,3}D(size=2, data_format=None[, interpolation]).
    Differences: interpolation is "nearest" or "bilinear" only.
    """

    def __init__(
        self,
        size: Any,
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ):
        name = type(self).__name__
        size = _args.int_tuple(name, "size", size, self.rank)
        allowed = ("nearest", "bilinear") if self.rank == 2 else ("nearest",)
        if interpolation not in allowed:
            raise ValueError(
                f"{name}: `interpolation` must be one of {allowed}. "
                f"Received: interpolation={interpolation!r}"
            )
        super().__init__(data_format, **kwargs)
        self.size = size
        self.interpolation = interpolation

    def call(self, inputs):
        x = inputs
        for axis, s in zip(self._axes(), self.size, strict=True):
            if self.interpolation == "nearest":
                x = np.repeat(x, s, axis=axis)
            else:
                a = bilinear_matrix(x.shape[axis], s, x.dtype)
                x = np.moveaxis(np.tensordot(a, x, axes=([1], [axis])), 0, axis)
        return x

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._map_shape(input_shape, lambda i, n: n * self.size[i])


class UpSampling1D(BaseUpSampling):
    """UpSampling over steps. Keras: keras.layers.UpSampling1D(size=2)."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any):
        super().__init__(size, None, **kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size[0]}


class UpSampling2D(BaseUpSampling):
    """Keras: keras.layers.UpSampling2D(size=(2, 2), data_format=None, interpolation="nearest")."""

    rank = 2

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class UpSampling3D(BaseUpSampling):
    """Keras: keras.layers.UpSampling3D(size=(2, 2, 2), data_format=None)."""

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any):
        super().__init__(size, data_format, **kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
