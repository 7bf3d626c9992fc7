"""EinsumDense of the TF twins, in raw TensorFlow ops (tf.einsum)."""

from __future__ import annotations

import re

import tensorflow as tf
from tensorflow import keras

from tf_layers import activations


def _shapes(equation, bias_axes, input_shape, output_shape):
    """(kernel shape, bias shape or None, full output shape) from each letter's size: the
    input's sizes, then the partial output shape (batch and '...' axes excluded) on top."""
    spec = equation.replace(" ", "")
    ell = r"(\.\.\.)?"
    match = re.fullmatch(f"{ell}([a-zA-Z]+){ell},([a-zA-Z]+)->{ell}([a-zA-Z]+){ell}", spec)
    if not match or bool(match[1]) != bool(match[5]) or bool(match[3]) != bool(match[7]):
        raise ValueError(f"EinsumDense: unsupported equation {equation!r}")
    left, right = bool(match[1]), bool(match[3])
    x_spec, k_spec, o_spec = match[2], match[4], match[6]
    n_ell = len(input_shape) - len(x_spec)
    x_dims = input_shape[n_ell:] if left else input_shape[: len(x_spec)]
    size = dict(zip(x_spec, x_dims, strict=True))
    out_letters = o_spec if left else o_spec[1:]  # the output_shape entries' letters
    for c, n in zip(out_letters, output_shape, strict=False):  # extras ignored, as Keras
        if n is not None:
            size[c] = n
    kernel = [size[c] for c in k_spec]
    ell = list(input_shape[:n_ell]) if left else list(input_shape[len(x_spec) :])
    full = [size[c] for c in o_spec]
    full = ell + full if left else full + ell
    bias = None
    if bias_axes:
        first = min(o_spec.index(c) for c in bias_axes)
        bias = [size[c] if c in bias_axes else 1 for c in o_spec[first:]]
        bias += [1] * (n_ell if right else 0)
    return kernel, bias, full


class EinsumDense(keras.layers.Layer):
    """Computes: y = activation(tf.einsum(equation, x, kernel) + bias).
    Keras: keras.layers.EinsumDense(equation, output_shape, activation=None, bias_axes=None,
    ...); same weights (kernel, then bias) and config. Differences: no LoRA/quantization."""

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):  # fmt: skip
        for k in ("lora_rank", "lora_alpha", "gptq_unpacked_column_size", "quantization_config"):
            if kwargs.pop(k, None) is not None:
                raise NotImplementedError(f"tf_layers.EinsumDense: `{k}` is not supported")
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = (
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        )
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)

    def build(self, input_shape):
        kernel, bias, _ = _shapes(
            self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape
        )
        self.kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if bias is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(bias),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def call(self, inputs, training=None):
        x = tf.einsum(self.equation, inputs, tf.convert_to_tensor(self.kernel))
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(
            _shapes(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape)[2]
        )

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }
