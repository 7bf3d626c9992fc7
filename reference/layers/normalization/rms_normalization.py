"""Normalization layers: RMSNormalization."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ...layer import Layer
from ...ops.normalization import scale_norm, scale_norm_grad
from ._axes import broadcast_shape, check_axis_type, normalized_axes


class _Residuals(NamedTuple):
    x: np.ndarray  # the input in the statistics dtype
    rrms: np.ndarray  # 1 / sqrt(mean(x^2) + epsilon), keepdims
    scale: np.ndarray  # broadcastable


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019): no centring, no shift.

    Computes: y = x / sqrt(mean(x^2 over axis) + epsilon) * scale.
    VJP: with r = 1 / sqrt(mean(x^2) + eps), g = dy * scale and means over `axis`:
    dx = r * (g - x * r^2 * mean(g * x));  dscale = sum(dy * x * r) over the other axes.
    Keras: keras.layers.RMSNormalization(axis=-1, epsilon=1e-6); one weight `scale` (ones,
    shape = the input's sizes on `axis`).
    Differences: an axis outside the input's rank is a ValueError naming the layer.

    Input shape: any.  Output shape: same as input.
    """

    def __init__(self, axis: int | list = -1, epsilon: float = 1e-6, **kwargs: Any):
        axis = check_axis_type("RMSNormalization", axis)
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = float(epsilon)
        self.scale = None

    def build(self, input_shape: tuple) -> None:
        axes = normalized_axes(self.name, self.axis, input_shape)
        shape = tuple(input_shape[a] for a in axes)
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.axis = axes

    def call(self, inputs):
        return self.vjp_fwd(inputs)[0]  # one forward, shared with the VJP (bit-identical)

    def vjp_fwd(self, inputs):
        x = inputs.astype(np.result_type(inputs.dtype, np.float32))
        axes = tuple(a % x.ndim for a in self.axis)
        scale = np.reshape(self.scale, broadcast_shape(x.shape, self.axis)).astype(x.dtype)
        rrms = 1.0 / np.sqrt(np.mean(np.square(x), axis=axes, keepdims=True) + self.epsilon)
        y = scale_norm(x, rrms, scale)
        return y.astype(inputs.dtype), _Residuals(x, rrms, scale)

    def vjp_bwd(self, residuals, output_grad):
        x, rrms, scale = residuals
        axes = tuple(a % x.ndim for a in self.axis)
        dx, dscale = scale_norm_grad(output_grad.astype(x.dtype), x, rrms, scale, 0.0, axes, axes)
        return dx, {"scale": np.reshape(dscale, self.scale.shape)}

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        normalized_axes(self.name, self.axis, input_shape)
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
