"""Conv1DTranspose, Conv2DTranspose, Conv3DTranspose: the input gradient of a convolution, as a
layer (keras BaseConvTranspose)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import _config
from ..._config import keras_order
from ...input_spec import InputSpec
from ...ops import conv as conv_ops
from ..fused import activation_forward, fusable_activation
from . import _args
from .base_conv import BaseConv


class _Residuals(NamedTuple):
    x: np.ndarray  # the channels_last input (the "dy" of the forward convolution)
    kernel: np.ndarray
    z: np.ndarray
    y: np.ndarray
    activation_rule: Any


def transpose_output_size(n, k, s, d, padding, output_padding) -> int:
    """Keras's output size: valid: (n - 1) * s + d * (k - 1) + 1 + (op, or max(span, s) - span);
    same: n * s, or (n - 1) * s + span % 2 + op with an output_padding."""
    span = d * (k - 1) + 1
    if padding == "valid":
        extra = max(span, s) - span if output_padding is None else output_padding
        return (n - 1) * s + span + extra
    return n * s if output_padding is None else (n - 1) * s + span % 2 + output_padding


class BaseConvTranspose(BaseConv):
    """Transposed convolution ("deconvolution"): the input gradient of the convolution whose
    input has this layer's output shape, with the same kernel, strides, padding and dilation.

    Computes: y = activation(conv_transpose(x, kernel, out_shape) + bias), out_shape from
        `transpose_output_size`; the padding is TF's for a forward convolution of out_shape.
    VJP: dx = conv(dz, kernel) (the forward convolution); dkernel = conv_kernel_grad(dz, x),
        the roles of input and output gradient swapped; dbias = sum(dz).
    Keras: keras.layers.Conv{1,2,3}DTranspose(filters, kernel_size, strides=1, padding="valid",
        output_padding=None, data_format=None, dilation_rate=1, activation=None, ...).
    Weights: kernel (*kernel_size, filters, channels) (in and out swapped against Conv), bias.
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        **kwargs: Any,
    ):
        super().__init__(rank, filters, kernel_size, strides=strides, padding=padding, **kwargs)
        name = type(self).__name__
        if output_padding is not None:
            output_padding = _args.int_tuple(name, "output_padding", output_padding, rank, True)
            for op, s in zip(output_padding, self.strides, strict=True):
                if op >= s:
                    raise ValueError(
                        f"{name}: each value of `output_padding` must be strictly less than the "
                        f"stride. Received: output_padding={output_padding}, "
                        f"strides={self.strides}"
                    )
        self.output_padding = output_padding

    def build(self, input_shape: tuple) -> None:
        _args.check_rank(type(self).__name__, input_shape, self.rank)
        channels = input_shape[self._channel_axis()]
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
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

    def _geometry(self, input_shape) -> tuple:
        """(channels_last output shape, pads of the forward convolution of that shape)."""
        sizes = self._spatial(input_shape)
        ops = self.output_padding or (None,) * self.rank
        out = tuple(
            transpose_output_size(n, k, s, d, self.padding, op)
            for n, k, s, d, op in zip(
                sizes, self.kernel_size, self.strides, self.dilation_rate, ops, strict=True
            )
        )
        pads = conv_ops.conv_pads(
            out, self.kernel_size, self.strides, self.dilation_rate, self.padding
        )
        back = conv_ops.conv_output_sizes(
            out, self.kernel_size, self.strides, self.dilation_rate, pads
        )
        if min(out) <= 0 or back != tuple(sizes):
            raise ValueError(
                f"{type(self).__name__}: no convolution maps an output of spatial shape {out} "
                f"back to the input's {tuple(sizes)}. Received: input_shape="
                f"{tuple(input_shape)}, kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, output_padding={self.output_padding}"
            )
        return (input_shape[0], *out, self.filters), pads

    def call(self, inputs, training=None):
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        out, pads = self._geometry(inputs.shape)
        x = self._to_last(inputs)
        z = conv_ops.conv_transpose(x, self.kernel, out, self.strides, pads, self.dilation_rate)
        z = self._from_last(z)
        if self.bias is not None:
            z = z + self._bias(self.bias)
        return self.activation(z)

    def vjp_fwd(self, inputs, training=None):
        if not fusable_activation(self.activation):
            return NotImplemented  # a user's activation may read Variables: trace `call`
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        out, pads = self._geometry(inputs.shape)
        x, kernel = self._to_last(inputs), self.kernel.value
        z = conv_ops.conv_transpose(x, kernel, out, self.strides, pads, self.dilation_rate)
        z = self._from_last(z)
        if self.bias is not None:
            z = z + self._bias(self.bias.value)
        y, activation_rule = activation_forward(self.activation, z)
        return y, _Residuals(x, kernel, z, y, activation_rule)

    def vjp_bwd(self, residuals, output_grad, needs_input_grads=(True,)):
        x, kernel, z, y, rule = residuals
        dz = self._to_last(output_grad if rule is None else rule(output_grad, y, z))
        _, pads = self._geometry(self._from_last_shape(x.shape))
        args = (self.strides, pads, self.dilation_rate)
        if needs_input_grads[0]:  # dx's residual (cols) serves the kernel gradient too
            dx, cols = conv_ops.conv_forward(dz, kernel, *args)
            dkernel = conv_ops.kernel_grad_from_columns(cols, x, kernel.shape)
        else:  # a model's own input: the kernel gradient alone, without dx's GEMMs
            dx, dkernel = None, conv_ops.conv_kernel_grad(dz, x, kernel.shape, *args)
        grads = {"kernel": dkernel}
        if self.bias is not None:
            grads["bias"] = dz.reshape(-1, self.filters).sum(axis=0)
        return (None if dx is None else self._from_last(dx)), grads

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        out, _ = self._geometry(tuple(input_shape))
        return out if self.data_format == "channels_last" else (out[0], out[-1], *out[1:-1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = self.output_padding
        return keras_order(config, _config.CONV_TRANSPOSE)


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1D convolution. As BaseConvTranspose, rank 1."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(1, filters, kernel_size, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2D convolution. As BaseConvTranspose, rank 2."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(2, filters, kernel_size, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3D convolution. As BaseConvTranspose, rank 3."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(3, filters, kernel_size, **kwargs)
