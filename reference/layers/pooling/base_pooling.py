"""The windowed pooling layer that Max/AveragePooling{1,2,3}D specialise (keras BasePooling)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ...input_spec import InputSpec
from ...layer import Layer
from ...ops import pooling as pool_ops
from ...ops.conv import conv_output_sizes, conv_pads
from ..convolutional import _args


class _Residuals(NamedTuple):
    x_shape: tuple  # the channels_last input shape
    argmax: np.ndarray | None  # max pooling: each window's first-maximum tap
    x: np.ndarray | None  # 3D max pooling (every tied maximum gets the gradient): x and y
    y: np.ndarray | None


class BasePooling(Layer):
    """Max or average over windows of the spatial axes, per channel.

    Computes: max: y[n, q, c] = max_k x[n, q * s + k - before, c] (pads never win);
        average: the mean of the window's real elements (with "same", padded ones not counted).
    VJP: max: each window's dy to its first maximum in row-major window order (TF's MaxPoolGrad;
        overlaps add up); in 3D, to every tied maximum (TF's MaxPool3DGrad); average: dy[q] /
        count(q) to every real element of window q.
    Keras: keras.layers.{Max,Average}Pooling{1,2,3}D(pool_size, strides=None, padding="valid",
        data_format=None).
    Input shape: (batch, *spatial, channels) or, channels_first, (batch, channels, *spatial).
    """

    mode = "max"
    _saves_build_config = False  # Keras's poolings have no build(), so save no build_config

    def __init__(
        self,
        rank: int,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        name = type(self).__name__
        pool_size = _args.int_tuple(name, "pool_size", pool_size, rank)
        strides = pool_size if strides is None else _args.int_tuple(name, "strides", strides, rank)
        padding = _args.padding_mode(name, padding, ("valid", "same"))
        data_format = _args.data_format(name, data_format)
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_size = pool_size
        self.strides = strides
        self.padding = padding
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=rank + 2)

    def _spatial(self, shape) -> tuple:
        shape = tuple(shape)
        return shape[1:-1] if self.data_format == "channels_last" else shape[2:]

    def _pads(self, shape) -> tuple:
        ones = (1,) * self.rank
        return conv_pads(self._spatial(shape), self.pool_size, self.strides, ones, self.padding)

    def build(self, input_shape: tuple) -> None:
        _args.check_rank(type(self).__name__, input_shape, self.rank)
        self.compute_output_shape(input_shape)

    def _to_last(self, x):
        return x if self.data_format == "channels_last" else np.moveaxis(x, 1, -1)

    def _from_last(self, y):
        return y if self.data_format == "channels_last" else np.moveaxis(y, -1, 1)

    def _ties(self) -> str:
        return "all" if self.rank == 3 else "first"  # TF's MaxPool3DGrad vs MaxPoolGrad

    def call(self, inputs):
        args = (self.pool_size, self.strides, self._pads(inputs.shape))
        x = self._to_last(inputs)
        if self.mode == "max":
            return self._from_last(pool_ops.max_pool(x, *args, ties=self._ties()))
        return self._from_last(pool_ops.avg_pool(x, *args))

    def vjp_fwd(self, inputs):
        x = self._to_last(inputs)
        args = (self.pool_size, self.strides, self._pads(inputs.shape))
        if self.mode == "average":
            return self._from_last(pool_ops.avg_pool(x, *args)), _Residuals(
                x.shape, None, None, None
            )
        if self._ties() == "all":
            y = pool_ops.max_pool(x, *args)
            return self._from_last(y), _Residuals(x.shape, None, x, y)
        y, arg = pool_ops.max_pool_with_argmax(x, *args)
        return self._from_last(y), _Residuals(x.shape, arg, None, None)

    def vjp_bwd(self, residuals, output_grad):
        x_shape, arg, x, y = residuals
        dy = self._to_last(output_grad)
        pads = conv_pads(
            x_shape[1:-1], self.pool_size, self.strides, (1,) * self.rank, self.padding
        )
        args = (self.pool_size, self.strides, pads)
        if arg is not None:
            dx = pool_ops.max_pool_grad_from_argmax(arg, dy, x_shape, *args)
        elif x is not None:
            dx = pool_ops.max_pool_grad_all_ties(x, y, dy, *args)
        else:
            dx = pool_ops.avg_pool_grad(dy, x_shape, *args)
        return self._from_last(dx), {}

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        ones = (1,) * self.rank
        sizes = conv_output_sizes(
            self._spatial(shape), self.pool_size, self.strides, ones, self._pads(shape)
        )
        if min(sizes) <= 0:
            raise ValueError(
                f"{type(self).__name__}: computed output size would be zero or negative. "
                f"Received: input_shape={shape}, pool_size={self.pool_size}, "
                f"strides={self.strides}, padding={self.padding!r}"
            )
        if self.data_format == "channels_last":
            return (shape[0], *sizes, shape[-1])
        return (shape[0], shape[1], *sizes)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }
