"""Core layers: Dense."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import activations, constraints, initializers, regularizers
from ...input_spec import InputSpec
from ...layer import Layer
from ..fused import activation_forward, fusable_activation


class _Residuals(NamedTuple):
    """What Dense's backward pass needs from its forward pass."""

    inputs: np.ndarray  # x as the matmul saw it (ints already cast to the compute dtype)
    kernel: np.ndarray  # the kernel value the forward pass read
    z: np.ndarray  # the pre-activation x @ kernel + bias
    y: np.ndarray  # the output activation(z)
    activation_rule: Any  # rule(g, y, z) -> dz; None for the linear activation


class Dense(Layer):
    """Densely-connected layer: a matrix product over the last axis, a bias and an activation.

    Computes: y = activation(x @ kernel + bias), over every leading axis of x.
    VJP: dz = activation'(z)^T dy;  dx = dz @ kernel.T;  dkernel = x.T @ dz and dbias = sum(dz),
    with x and dz flattened over all leading axes (one GEMM each).
    Keras: keras.layers.Dense(units, activation=None, use_bias=True,
    kernel_initializer="glorot_uniform", bias_initializer="zeros", ...).
    Differences: no LoRA and no quantization (lora_rank and quantization_config must be None).

    Input shape: (..., input_dim), rank >= 2.  Output shape: (..., units).
    Weights: kernel (input_dim, units), then bias (units,).
    """

    def __init__(
        self,
        units: int,
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
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        if lora_rank is not None or lora_alpha is not None or quantization_config is not None:
            raise NotImplementedError(
                "Dense: LoRA and quantization are not part of the reference (it keeps the "
                "layer's math only). Received: "
                f"lora_rank={lora_rank}, lora_alpha={lora_alpha}, "
                f"quantization_config={quantization_config}"
            )
        # Resolve every named object before any state exists, so a bad name changes nothing.
        activation = activations.get(activation)
        kernel_initializer = initializers.get(kernel_initializer)
        bias_initializer = initializers.get(bias_initializer)
        kernel_regularizer = regularizers.get(kernel_regularizer)
        bias_regularizer = regularizers.get(bias_regularizer)
        kernel_constraint = constraints.get(kernel_constraint)
        bias_constraint = constraints.get(bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True  # as Keras: the mask passes through unchanged

    def build(self, input_shape: tuple) -> None:
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, inputs, training=None):
        if inputs.dtype.kind not in "fc":  # Keras's matmul promotes ints to the kernel's dtype
            inputs = inputs.astype(self.compute_dtype)
        x = np.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def vjp_fwd(self, inputs, training=None):
        if not fusable_activation(self.activation):
            return NotImplemented  # a user's activation may read Variables: trace `call`
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        kernel = self.kernel.value
        z = np.matmul(inputs, kernel)
        if self.bias is not None:
            z = z + self.bias.value
        y, activation_rule = activation_forward(self.activation, z)
        return y, _Residuals(inputs, kernel, z, y, activation_rule)

    def vjp_bwd(self, residuals, output_grad, needs_input_grads=(True,)):
        x, kernel, z, y, activation_rule = residuals
        dz = output_grad if activation_rule is None else activation_rule(output_grad, y, z)
        x2 = x.reshape(-1, kernel.shape[0])
        dz2 = dz.reshape(-1, self.units)
        # np.dot, not @: OpenBLAS's matmul path is ~5x slower for a one-row batch here.
        grads = {"kernel": np.dot(x2.T, dz2)}
        if self.bias is not None:
            grads["bias"] = dz2.sum(axis=0)
        # dx is a GEMM as large as dkernel's: skipped for an input no gradient source reaches.
        return (np.matmul(dz, kernel.T) if needs_input_grads[0] else None), grads

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
