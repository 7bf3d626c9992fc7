"""Core layers: EinsumDense (a dense layer whose product is any einsum Keras accepts)."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np

from ... import activations, constraints, initializers, regularizers
from ...input_spec import InputSpec
from ...layer import Layer
from ...ops import attention as ops
from ..fused import activation_forward, fusable_activation


class _Residuals(NamedTuple):
    inputs: np.ndarray  # x as the einsum saw it
    kernel: np.ndarray  # the kernel value the forward pass read
    z: np.ndarray  # the pre-activation einsum(x, kernel) + bias
    y: np.ndarray  # activation(z)
    activation_rule: Any  # rule(g, y, z) -> dz; None for the linear activation


class EinsumDense(Layer):
    """A dense layer whose product is an einsum: y = activation(einsum(equation, x, kernel) + b).

    Computes: z = einsum(equation, x, kernel) (+ bias, broadcast from the first bias axis of the
    output on); y = activation(z). Equations: "X,Y->Z", "...X,Y->...Z" or "X...,Y->Z...".
    VJP: dz = activation'(z)^T dy; dx = einsum("Z,Y->X", dz, kernel);
    dkernel = einsum("X,Z->Y", x, dz); dbias = dz summed over the axes the bias broadcasts on
    (ops.attention.einsum_vjp: the forward equation rearranged).
    Keras: keras.layers.EinsumDense(equation, output_shape, activation=None, bias_axes=None,
    kernel_initializer="glorot_uniform", bias_initializer="zeros", ...); a VarianceScaling
    kernel initializer without axes gets the equation's input_axes/output_axes (fans).
    Differences: no LoRA, no quantization, no gptq (those arguments must be None).

    Input shape: the rank the equation names.  Output shape: compute_output_shape.
    Weights: kernel (shape from the equation), then bias (bias_axes; 1 on the other axes).
    """

    def __init__(
        self,
        equation: str,
        output_shape: Any,
        activation: Any = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        gptq_unpacked_column_size: int | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        extras = (lora_rank, lora_alpha, gptq_unpacked_column_size, quantization_config)
        if any(v is not None for v in extras):
            raise NotImplementedError(
                "EinsumDense: LoRA, gptq and quantization are not part of the reference. "
                f"Received: lora_rank={lora_rank}, lora_alpha={lora_alpha}, "
                f"gptq_unpacked_column_size={gptq_unpacked_column_size}, "
                f"quantization_config={quantization_config}"
            )
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense: `equation` must be a str. Received: {equation!r}")
        activation = activations.get(activation)
        kernel_initializer = initializers.get(kernel_initializer)
        bias_initializer = initializers.get(bias_initializer)
        kernel_regularizer = regularizers.get(kernel_regularizer)
        bias_regularizer = regularizers.get(bias_regularizer)
        kernel_constraint = constraints.get(kernel_constraint)
        bias_constraint = constraints.get(bias_constraint)
        super().__init__(**kwargs)
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activation
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint

    def build(self, input_shape: tuple) -> None:
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum_string(
            self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape
        )
        self.input_spec = InputSpec(ndim=len(input_shape))
        kernel_initializer = self.kernel_initializer
        if isinstance(kernel_initializer, initializers.VarianceScaling) and (
            kernel_initializer.input_axes is None or kernel_initializer.output_axes is None
        ):
            # As Keras: a copy with the same seed, told which kernel axes are fan-in/fan-out.
            config = {**kernel_initializer.get_config(), "seed": kernel_initializer.seed}
            config.update(input_axes=input_axes, output_axes=output_axes)
            kernel_initializer = type(kernel_initializer).from_config(config)
        self._equation = ops.expand_ellipsis(self.equation, (len(input_shape), len(kernel_shape)))
        self.kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel_shape),
            initializer=kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _check(self, inputs) -> None:
        # Keras leaves a wrong contracted size to the backend's einsum (InvalidArgumentError).
        x_spec = self._equation.split(",")[0]
        k_spec = self._equation.split(",")[1].split("->")[0]
        for c, n in zip(k_spec, self.kernel.shape, strict=True):
            if c in x_spec and np.shape(inputs)[x_spec.index(c)] != n:
                raise ValueError(
                    f"Layer '{self.name}' (EinsumDense, equation {self.equation!r}): input axis "
                    f"{x_spec.index(c)} ('{c}') has size {np.shape(inputs)[x_spec.index(c)]}, "
                    f"but the kernel {tuple(self.kernel.shape)} was built for {n}. Received "
                    f"inputs.shape={np.shape(inputs)}"
                )

    def call(self, inputs, training=None):
        self._check(inputs)
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        x = ops.einsum(self._equation, inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def vjp_fwd(self, inputs, training=None):
        if not fusable_activation(self.activation):
            return NotImplemented  # a user's activation may read Variables: trace `call`
        self._check(inputs)
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        kernel = self.kernel.value
        z = ops.einsum(self._equation, inputs, kernel)
        if self.bias is not None:
            z = z + self.bias.value
        y, activation_rule = activation_forward(self.activation, z)
        return y, _Residuals(inputs, kernel, z, y, activation_rule)

    def vjp_bwd(self, residuals, output_grad):
        x, kernel, z, y, activation_rule = residuals
        dz = output_grad if activation_rule is None else activation_rule(output_grad, y, z)
        dx, dkernel = ops.einsum_vjp(self._equation, dz, x, kernel)
        grads = {"kernel": dkernel}
        if self.bias is not None:
            shape = self.bias.shape
            lead = dz.ndim - len(shape)  # the bias aligns with the output's trailing axes
            axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
            grads["bias"] = np.sum(dz, axis=axes).reshape(shape)
        return dx, grads

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(
            analyze_einsum_string(
                self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape
            )[2]
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }


def analyze_einsum_string(equation: str, bias_axes, input_shape: tuple, output_shape) -> tuple:
    """Keras's _analyze_einsum_string: (kernel_shape, bias_shape, full_output_shape,
    input_axes, output_axes) from the equation, the input shape and the partial output shape
    (None entries allowed). Raises Keras's ValueErrors for equations it does not accept."""
    dotted = re.sub(r"\.\.\.", "0", equation)
    for pattern, left in (
        ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
        ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
        ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
    ):
        split = re.match(pattern, dotted)
        if split:
            return _analyze_split(*split.groups(), bias_axes, input_shape, output_shape, left)
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def _analyze_split(input_spec, weight_spec, output_spec, bias_axes, input_shape, output_shape,
                   left_elided):  # fmt: skip
    elided = len(input_shape) - len(input_spec)
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        output_shape.extend(input_shape[len(input_shape) - elided :])
    if left_elided:
        input_dim_map = {d: (i + elided) - len(input_shape) for i, d in enumerate(input_spec)}
        output_dim_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_dim_map = {d: i for i, d in enumerate(input_spec)}
        output_dim_map = {d: i for i, d in enumerate(output_spec)}
    for d in input_spec:
        in_size = input_shape[input_dim_map[d]]
        if d in output_dim_map:
            out_size = output_shape[output_dim_map[d]]
            if out_size is not None and out_size != in_size:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{d}'. "
                    f"Input shape is {in_size}, and output shape is {out_size}."
                )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(
                f"Dimension '{d}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec "
                f"'{output_spec}'"
            )
    weight_shape, input_axes, output_axes = [], [], []
    for i, d in enumerate(weight_spec):
        if d in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[d]])
            output_axes.append(i)
        elif d in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[d]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{d}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the weight "
                "must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        skip = elided if left_elided else 0
        idx_map = {c: output_shape[i + skip] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(
                    f"Bias dimension '{c}' was requested, but is not part of the output spec "
                    f"'{output_spec}'"
                )
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [idx_map[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * elided)
    return weight_shape, bias_shape, output_shape, input_axes, output_axes
