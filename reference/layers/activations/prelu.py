"""Activation layers: PReLU."""

from __future__ import annotations

from typing import Any

from ... import activations, constraints, initializers, regularizers
from ...input_spec import InputSpec
from ...layer import Layer


class PReLU(Layer):
    """Leaky ReLU with a learned slope per element (or per channel with `shared_axes`).

    Computes: y = relu(x) - alpha * relu(-x)  (Keras's order of operations).
    VJP: traced (dx = dy where x > 0, dy * alpha where x < 0; dalpha = -sum(dy * relu(-x))
    over the shared axes and the batch).
    Keras: keras.layers.PReLU(alpha_initializer="Zeros", alpha_regularizer=None,
    alpha_constraint=None, shared_axes=None); weight `alpha` of shape input_shape[1:] with 1 on
    the shared axes.
    Differences: a shared axis outside [1, rank) is a ValueError naming the layer.

    Input shape: any rank >= 2.  Output shape: same as input.
    """

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: Any = None, **kwargs: Any):  # fmt: skip
        resolved = dict(
            alpha_initializer=initializers.get(alpha_initializer),
            alpha_regularizer=regularizers.get(alpha_regularizer),
            alpha_constraint=constraints.get(alpha_constraint),
        )
        super().__init__(**kwargs)
        for key, value in resolved.items():
            setattr(self, key, value)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, list | tuple):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)
        self.supports_masking = True
        self.alpha = None

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        for i in self.shared_axes or []:
            if isinstance(i, bool) or not isinstance(i, int) or not 1 <= i < rank:
                raise ValueError(
                    f"Layer '{self.name}': shared_axes must be axes in [1, {rank}) of the input "
                    f"shape {tuple(input_shape)} (the batch axis 0 is always shared). "
                    f"Received: shared_axes={self.shared_axes}"
                )
        param_shape = list(input_shape[1:])
        for i in self.shared_axes or []:
            param_shape[i - 1] = 1
        self.alpha = self.add_weight(shape=param_shape, name="alpha",
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)  # fmt: skip
        axes = {i: input_shape[i] for i in range(1, rank) if i not in (self.shared_axes or [])}
        self.input_spec = InputSpec(ndim=rank, axes=axes if self.shared_axes else {})

    def call(self, inputs):
        # Keras: pos + neg with neg = -alpha * relu(-x); the same order keeps float32 rounding.
        return activations.relu(inputs) + -self.alpha * activations.relu(-inputs)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }
