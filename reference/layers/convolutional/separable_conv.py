"""SeparableConv1D, SeparableConv2D: a depthwise convolution, then a 1x1 convolution
(keras BaseSeparableConv)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import _config, activations, constraints, initializers, regularizers
from ..._config import keras_order
from ...input_spec import InputSpec
from ...ops import conv as conv_ops
from ..fused import activation_forward, fusable_activation
from . import _args
from .base_conv import BaseConv


class _Residuals(NamedTuple):
    x_shape: tuple  # channels_last input shape
    cols1: np.ndarray  # im2col of the input (depthwise step)
    cols2: np.ndarray  # im2col of the depthwise output (pointwise step)
    mid_shape: tuple  # the depthwise output's shape
    depthwise: np.ndarray  # the depthwise kernel as a grouped conv kernel (*K, 1, C * M)
    pointwise: np.ndarray
    z: np.ndarray
    y: np.ndarray
    activation_rule: Any


class BaseSeparableConv(BaseConv):
    """Depthwise separable convolution.

    Computes: h = depthwise_conv(x, depthwise_kernel) (strides, padding, dilation), then
        y = activation(conv1x1(h, pointwise_kernel) + bias).
    VJP: dz = activation'(z)^T dy; dh = conv_transpose(dz, pointwise); dpointwise = cols(h)^T dz;
        dx = conv_transpose(dh, depthwise, groups=C); ddepthwise = cols(x)^T dh per channel.
    Keras: keras.layers.SeparableConv{1,2}D(filters, kernel_size, strides=1, padding="valid",
        data_format=None, dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
        depthwise_initializer, pointwise_initializer, bias_initializer, ...).
    Weights: depthwise_kernel (*kernel_size, channels, depth_multiplier), pointwise_kernel
        (*ones, channels * depth_multiplier, filters), bias (filters,).
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        (depth_multiplier,) = _args.int_tuple(
            type(self).__name__, "depth_multiplier", depth_multiplier, 1
        )
        pointwise_initializer = initializers.get(pointwise_initializer)
        pointwise_regularizer = regularizers.get(pointwise_regularizer)
        pointwise_constraint = constraints.get(pointwise_constraint)
        super().__init__(
            rank,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.depth_multiplier = depth_multiplier
        self.pointwise_initializer = pointwise_initializer
        self.pointwise_regularizer = pointwise_regularizer
        self.pointwise_constraint = pointwise_constraint

    def build(self, input_shape: tuple) -> None:
        _args.check_rank(type(self).__name__, input_shape, self.rank)
        channels = input_shape[self._channel_axis()]
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis(): channels})

    def _steps(self, input_shape):
        ones = (1,) * self.rank
        return (
            (self.strides, self._pads(input_shape), self.dilation_rate),
            (ones, ((0, 0),) * self.rank, ones),
        )

    @staticmethod
    def _grouped(kernel):
        *k, c, m = np.shape(kernel)
        return np.reshape(kernel, (*k, 1, c * m))

    def call(self, inputs, training=None):
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        depth, point = self._steps(inputs.shape)
        channels = self.depthwise_kernel.shape[-2]
        h = conv_ops.conv(
            self._to_last(inputs), self._grouped(self.depthwise_kernel), *depth, channels
        )
        z = self._from_last(conv_ops.conv(h, self.pointwise_kernel, *point))
        if self.bias is not None:
            z = z + self._bias(self.bias)
        return self.activation(z)

    def vjp_fwd(self, inputs, training=None):
        if not fusable_activation(self.activation):
            return NotImplemented  # a user's activation may read Variables: trace `call`
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        depth, point = self._steps(inputs.shape)
        x = self._to_last(inputs)
        dk, pk = self._grouped(self.depthwise_kernel.value), self.pointwise_kernel.value
        h, cols1 = conv_ops.conv_forward(x, dk, *depth, x.shape[-1])
        z, cols2 = conv_ops.conv_forward(h, pk, *point)
        z = self._from_last(z)
        if self.bias is not None:
            z = z + self._bias(self.bias.value)
        saved = (x.shape, cols1, cols2, h.shape, dk, pk)
        y, activation_rule = activation_forward(self.activation, z)
        return y, _Residuals(*saved, z, y, activation_rule)

    def vjp_bwd(self, residuals, output_grad, needs_input_grads=(True,)):
        x_shape, cols1, cols2, mid_shape, dk, pk, z, y, rule = residuals
        dz = self._to_last(output_grad if rule is None else rule(output_grad, y, z))
        depth, point = self._steps(self._from_last_shape(x_shape))
        dh = conv_ops.conv_transpose(dz, pk, mid_shape, *point)
        dx = None  # skipped for a model's own input
        if needs_input_grads[0]:
            dx = conv_ops.conv_transpose(dh, dk, x_shape, *depth, x_shape[-1])
        grads = {
            "depthwise_kernel": conv_ops.kernel_grad_from_columns(
                cols1, dh, dk.shape, x_shape[-1]
            ).reshape(self.depthwise_kernel.shape),
            "pointwise_kernel": conv_ops.kernel_grad_from_columns(cols2, dz, pk.shape),
        }
        if self.bias is not None:
            grads["bias"] = dz.reshape(-1, self.filters).sum(axis=0)
        return (None if dx is None else self._from_last(dx)), grads

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config = {
            **config,
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.kernel_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.kernel_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.kernel_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "activation": activations.serialize(self.activation),
        }
        return keras_order(config, _config.SEPARABLE_CONV)


class SeparableConv1D(BaseSeparableConv):
    """Depthwise separable 1D convolution. As BaseSeparableConv, rank 1."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(1, filters, kernel_size, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """Depthwise separable 2D convolution. As BaseSeparableConv, rank 2."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(2, filters, kernel_size, **kwargs)
