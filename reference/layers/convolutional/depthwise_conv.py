"""DepthwiseConv1D, DepthwiseConv2D: one convolution per input channel (keras BaseDepthwiseConv)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import _config, activations, constraints, initializers, regularizers
from ..._config import keras_order
from ...input_spec import InputSpec
from . import _args
from .base_conv import BaseConv


class BaseDepthwiseConv(BaseConv):
    """Depthwise convolution: channel c is convolved with depth_multiplier kernels of its own.

    Computes: y[n, q, c * M + m] = sum_k xpad[n, q * s + k * d, c] * kernel[k, c, m] + bias:
        the grouped convolution of BaseConv with groups = C and the kernel (*K, C, M) read as
        (*K, 1, C * M) (TF's depthwise channel order, c major).
    VJP: BaseConv's, the kernel gradient reshaped back to (*K, C, M).
    Keras: keras.layers.DepthwiseConv{1,2}D(kernel_size, strides=1, padding="valid",
        depth_multiplier=1, data_format=None, dilation_rate=1, activation=None, use_bias=True,
        depthwise_initializer="glorot_uniform", ...).
    Weights: kernel (*kernel_size, channels, depth_multiplier), bias (channels * multiplier,).
    """

    def __init__(
        self,
        rank: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        (depth_multiplier,) = _args.int_tuple(
            type(self).__name__, "depth_multiplier", depth_multiplier, 1
        )
        super().__init__(
            rank,
            depth_multiplier,
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

    def build(self, input_shape: tuple) -> None:
        _args.check_rank(type(self).__name__, input_shape, self.rank)
        channels = input_shape[self._channel_axis()]
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(channels * self.depth_multiplier,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis(): channels})

    def _conv_kernel(self, kernel):
        *k, c, m = np.shape(kernel)
        return np.reshape(kernel, (*k, 1, c * m))

    def _kernel_grad(self, grad, kernel_shape):
        return grad.reshape(kernel_shape)

    def _conv_groups(self) -> int:
        return self.kernel.shape[-2]

    def _out_channels(self, channels: int) -> int:
        return channels * self.depth_multiplier

    def get_config(self) -> dict:
        config = super().get_config()
        for key in (
            "filters",
            "groups",
            "kernel_initializer",
            "kernel_regularizer",
            "kernel_constraint",
        ):
            config.pop(key)
        config = {
            **config,
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.kernel_initializer),
            "depthwise_regularizer": regularizers.serialize(self.kernel_regularizer),
            "depthwise_constraint": constraints.serialize(self.kernel_constraint),
            "activation": activations.serialize(self.activation),
        }
        return keras_order(config, _config.DEPTHWISE_CONV)


class DepthwiseConv1D(BaseDepthwiseConv):
    """Depthwise 1D convolution. As BaseDepthwiseConv, rank 1."""

    def __init__(self, kernel_size: Any, **kwargs: Any):
        super().__init__(1, kernel_size, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2D convolution. As BaseDepthwiseConv, rank 2."""

    def __init__(self, kernel_size: Any, **kwargs: Any):
        super().__init__(2, kernel_size, **kwargs)
