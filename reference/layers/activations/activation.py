"""Activation layers: Activation."""

from __future__ import annotations

from typing import Any

from ... import activations
from ...layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    Computes: y = activation(x), elementwise (softmax-like ones along their axis).
    Keras: keras.layers.Activation(activation).
    """

    def __init__(self, activation: Any, **kwargs: Any):
        activation = activations.get(activation)  # a bad name fails before any state exists
        super().__init__(**kwargs)
        self.activation = activation
        self.supports_masking = True  # as Keras
        self.built = True  # no state: Keras builds it at construction (_build_at_init)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
