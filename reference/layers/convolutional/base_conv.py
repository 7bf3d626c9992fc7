"""The N-d convolution layer that Conv1D, Conv2D and Conv3D specialise (keras BaseConv)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import activations, constraints, initializers, regularizers
from ...autodiff.tracked import is_recording
from ...input_spec import InputSpec
from ...layer import Layer
from ...ops import conv as conv_ops
from ..fused import activation_forward, fusable_activation
from . import _args


class _Residuals(NamedTuple):
    """What a convolution's backward pass needs from its forward pass."""

    cols: np.ndarray  # the im2col matrix of the (channels_last) input, reused by dkernel
    x_shape: tuple  # the channels_last input shape
    kernel: np.ndarray  # the kernel value the forward pass read
    z: np.ndarray  # the pre-activation, in the layer's data_format
    y: np.ndarray  # the output
    activation_rule: Any  # rule(g, y, z) -> dz; None for the linear activation


class BaseConv(Layer):
    """N-d convolution: a cross-correlation of the input with a kernel, a bias, an activation.

    Computes: z = conv(x, kernel) + bias, y = activation(z), conv as in reference.ops.conv
        (TF's SAME/VALID/causal padding, strides, dilation, groups).
    VJP: dz = activation'(z)^T dy; dx = conv_transpose(dz, kernel) (col2im of dz @ kernel^T;
        skipped, None, for an input no gradient source reaches: a model's own input);
        dkernel = cols^T @ dz (cols: the forward pass's im2col matrix); dbias = sum(dz).
    Keras: keras.layers.Conv{1,2,3}D(filters, kernel_size, strides=1, padding="valid",
        data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True, ...).
    Differences: no LoRA; inputs must have exactly rank + 2 axes (TF also takes extra leading
        batch axes).

    Input shape: (batch, *spatial, channels) or, channels_first, (batch, channels, *spatial).
    Weights: kernel (*kernel_size, channels // groups, filters), then bias (filters,).
    """

    paddings = ("valid", "same")

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        **kwargs: Any,
    ):
        name = type(self).__name__
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(
                f"{name}: invalid value for argument `filters`, expected a strictly positive "
                f"int. Received: filters={filters!r}"
            )
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(
                f"{name}: the number of groups must be a positive integer. "
                f"Received: groups={groups!r}"
            )
        if filters % groups:
            raise ValueError(
                f"{name}: the number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}"
            )
        kernel_size = _args.int_tuple(name, "kernel_size", kernel_size, rank)
        strides = _args.int_tuple(name, "strides", strides, rank)
        dilation_rate = _args.int_tuple(name, "dilation_rate", dilation_rate, rank)
        if max(strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                f"{name}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={strides} and dilation_rate={dilation_rate}"
            )
        padding = _args.padding_mode(name, padding, self.paddings)
        data_format = _args.data_format(name, data_format)
        if lora_rank is not None or lora_alpha is not None:
            raise NotImplementedError(f"{name}: LoRA is not part of the reference.")
        activation = activations.get(activation)
        kernel_initializer = initializers.get(kernel_initializer)
        bias_initializer = initializers.get(bias_initializer)
        kernel_regularizer = regularizers.get(kernel_regularizer)
        bias_regularizer = regularizers.get(bias_regularizer)
        kernel_constraint = constraints.get(kernel_constraint)
        bias_constraint = constraints.get(bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = filters
        self.groups = groups
        self.kernel_size = kernel_size
        self.strides = strides
        self.dilation_rate = dilation_rate
        self.padding = padding
        self.data_format = data_format
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _spatial(self, input_shape) -> tuple:
        shape = tuple(input_shape)
        return shape[1:-1] if self.data_format == "channels_last" else shape[2:]

    def _pads(self, input_shape) -> tuple:
        return conv_ops.conv_pads(
            self._spatial(input_shape),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )

    def build(self, input_shape: tuple) -> None:
        name = type(self).__name__
        _args.check_rank(name, input_shape, self.rank)
        channels = input_shape[self._channel_axis()]
        if channels % self.groups:
            raise ValueError(
                f"{name}: the number of input channels must be evenly divisible by the number of "
                f"groups. Received: groups={self.groups}, input_shape={tuple(input_shape)}"
            )
        self.compute_output_shape(input_shape)  # raises on an empty output, before any weight
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels // self.groups, self.filters),
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

    def _to_last(self, x):
        return x if self.data_format == "channels_last" else np.moveaxis(x, 1, -1)

    def _from_last(self, y):
        return y if self.data_format == "channels_last" else np.moveaxis(y, -1, 1)

    def _bias(self, bias):
        if self.data_format == "channels_last":
            return bias
        return np.reshape(bias, (np.shape(bias)[0],) + (1,) * self.rank)

    # Hooks for the layers that are a grouped convolution with another kernel layout
    # (DepthwiseConv: kernel (*K, C, M) is a conv kernel (*K, 1, C * M) with C groups).
    def _conv_kernel(self, kernel):
        return kernel

    def _kernel_grad(self, grad, kernel_shape):
        return grad

    def _conv_groups(self) -> int:
        return self.groups

    def _out_channels(self, channels: int) -> int:
        return self.filters

    def call(self, inputs, training=None):
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        args = (self.strides, self._pads(inputs.shape), self.dilation_rate, self._conv_groups())
        if not is_recording() and isinstance(inputs, np.ndarray):  # no gradient to follow
            kernel = self._conv_kernel(self.kernel.value)
            bias = None if self.bias is None else self.bias.value
            z = conv_ops.conv_forward(
                self._to_last(inputs), kernel, *args, bias=bias, residual=False
            )[0]
            return self.activation(self._from_last(z))
        kernel = self._conv_kernel(self.kernel)
        z = self._from_last(conv_ops.conv(self._to_last(inputs), kernel, *args))
        if self.bias is not None:
            z = z + self._bias(self.bias)
        return self.activation(z)

    def vjp_fwd(self, inputs, training=None):
        if not fusable_activation(self.activation):
            return NotImplemented  # a user's activation may read Variables: trace `call`
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        x = self._to_last(inputs)
        kernel = self._conv_kernel(self.kernel.value)
        args = (self.strides, self._pads(inputs.shape), self.dilation_rate, self._conv_groups())
        bias = None if self.bias is None else self.bias.value
        z, cols = conv_ops.conv_forward(x, kernel, *args, bias=bias)
        z = self._from_last(z)
        y, activation_rule = activation_forward(self.activation, z)
        return y, _Residuals(cols, x.shape, kernel, z, y, activation_rule)

    def vjp_bwd(self, residuals, output_grad, needs_input_grads=(True,)):
        cols, x_shape, kernel, z, y, rule = residuals
        dz = self._to_last(output_grad if rule is None else rule(output_grad, y, z))
        groups = self._conv_groups()
        pads = self._pads(self._from_last_shape(x_shape))
        dx = None  # a third of the backward's work: skipped for a model's own input
        if needs_input_grads[0]:
            dx = conv_ops.conv_transpose(
                dz, kernel, x_shape, self.strides, pads, self.dilation_rate, groups
            )
        dkernel = conv_ops.kernel_grad_from_columns(cols, dz, kernel.shape, groups)
        grads = {"kernel": self._kernel_grad(dkernel, self.kernel.shape)}
        if self.bias is not None:
            grads["bias"] = dz.reshape(-1, dz.shape[-1]).sum(axis=0)
        return (None if dx is None else self._from_last(dx)), grads

    def _from_last_shape(self, shape) -> tuple:
        shape = tuple(shape)
        return shape if self.data_format == "channels_last" else (shape[0], shape[-1], *shape[1:-1])

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        sizes = conv_ops.conv_output_sizes(
            self._spatial(shape),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self._pads(shape),
        )
        if min(sizes, default=1) <= 0:
            raise ValueError(
                f"{type(self).__name__}: computed output size would be zero or negative. "
                f"Received: input_shape={shape}, kernel_size={self.kernel_size}, "
                f"strides={self.strides}, dilation_rate={self.dilation_rate}, "
                f"padding={self.padding!r}"
            )
        filters = self._out_channels(shape[self._channel_axis()])
        if self.data_format == "channels_last":
            return (shape[0], *sizes, filters)
        return (shape[0], filters, *sizes)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
