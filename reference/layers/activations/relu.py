"""Activation layers: ReLU, LeakyReLU, ELU (thin layers over reference.activations)."""

from __future__ import annotations

import warnings
from typing import Any

from ... import _config, activations
from ..._config import keras_order
from ...layer import Layer


def _non_negative(layer: str, name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            f"{name} of a {layer} layer cannot be None or a non-number. Received: {name}={value!r}"
        )
    if value < 0.0:
        raise ValueError(f"{name} of a {layer} layer cannot be a negative value. "
                         f"Received: {name}={value}")  # fmt: skip
    return value


class _Elementwise(Layer):
    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True  # no state: Keras builds it at construction

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


class ReLU(_Elementwise):
    """Rectified linear unit with optional saturation, leak and threshold.

    Computes: y = min(x, max_value) for x >= threshold, negative_slope * (x - threshold)
    otherwise (reference.activations.relu, Keras's branch for branch).
    Keras: keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0).
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any):  # fmt: skip
        _non_negative("ReLU", "max_value", max_value, allow_none=True)
        _non_negative("ReLU", "negative_slope", negative_slope)
        _non_negative("ReLU", "threshold", threshold)
        super().__init__(**kwargs)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)  # fmt: skip

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}  # fmt: skip


class LeakyReLU(_Elementwise):
    """Leaky ReLU with the layer's own default slope, 0.3 (the function's is 0.2).

    Computes: y = x if x > 0 else negative_slope * x.
    Keras: keras.layers.LeakyReLU(negative_slope=0.3); `alpha=` is a deprecated alias (warns).
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)  # fmt: skip
        _non_negative("LeakyReLU", "negative_slope", negative_slope)
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Exponential linear unit.

    Computes: y = x if x > 0 else alpha * (exp(x) - 1).
    Keras: keras.layers.ELU(alpha=1.0).
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self) -> dict:
        return keras_order({**super().get_config(), "alpha": self.alpha}, _config.ELU)
