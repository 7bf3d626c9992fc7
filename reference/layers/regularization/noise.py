"""Regularization layers: GaussianNoise, GaussianDropout, AlphaDropout."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import config
from ...layer import Layer
from ._noise import NoiseStream, check_rate, concrete_noise_shape

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _NoiseLayer(Layer):
    _arg = "rate"
    _top_inclusive = False  # rate = 1 divides by zero inside Keras's call: refused up front

    def __init__(self, value: float, seed: int | None = None, **kwargs: Any):
        value = check_rate(type(self).__name__, self._arg, value, self._top_inclusive)
        stream = NoiseStream(seed) if value > 0 else None  # as Keras: none for rate/stddev 0
        super().__init__(**kwargs)
        setattr(self, self._arg, value)
        self.seed = seed
        self._stream = stream
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), self._arg: getattr(self, self._arg), "seed": self.seed}


class GaussianNoise(_NoiseLayer):
    """Adds zero-mean Gaussian noise in training.

    Computes: training and stddev > 0: y = x + n, n ~ N(0, stddev^2) of x's shape; else y = x.
    Keras: keras.layers.GaussianNoise(stddev, seed=None); stddev in [0, 1].
    """

    _arg = "stddev"
    _top_inclusive = True

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(stddev, seed=seed, **kwargs)

    def noise(self, shape: tuple, dtype) -> np.ndarray:
        """The next N(0, stddev^2) draw of this layer's stream."""
        return self._stream.normal(shape, dtype, 0.0, self.stddev)

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            return inputs + self.noise(np.shape(inputs), self.compute_dtype)
        return inputs


class GaussianDropout(_NoiseLayer):
    """Multiplies by Gaussian noise of mean 1 in training.

    Computes: training and rate > 0: y = x * n, n ~ N(1, rate / (1 - rate)); else y = x.
    Keras: keras.layers.GaussianDropout(rate, seed=None).
    Differences: rate = 1 is a ValueError here (Keras accepts it, then divides by zero in call).
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(rate, seed=seed, **kwargs)

    def noise(self, shape: tuple, dtype) -> np.ndarray:
        """The next N(1, rate / (1 - rate)) draw of this layer's stream."""
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return self._stream.normal(shape, dtype, 1.0, stddev)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return inputs * self.noise(np.shape(inputs), self.compute_dtype)
        return inputs


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps SELU's self-normalizing mean and variance (Klambauer et al., 2017).

    Computes: training and rate > 0: kept = (u >= rate), u ~ U[0, 1) of `noise_shape`;
    alpha_p = -alpha * scale (SELU's constants); a = ((1 - rate) * (1 + rate * alpha_p^2))^-0.5;
    b = -a * alpha_p * rate;  y = a * (x * kept + alpha_p * (1 - kept)) + b.  Else y = x.
    Keras: keras.layers.AlphaDropout(rate, noise_shape=None, seed=None).
    Differences: rate = 1 is a ValueError here (Keras accepts it, then divides by zero in call).
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.noise_shape = noise_shape

    def noise(self, shape: tuple, dtype) -> np.ndarray:
        """The next U[0, 1) draw of this layer's stream, of the noise shape for `shape`."""
        return self._stream.uniform(concrete_noise_shape(self.noise_shape, shape), dtype)

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        # Keras draws keras.random.uniform(noise_shape) in floatx(), whatever the input dtype.
        kept = (self.noise(np.shape(inputs), config.floatx()) >= self.rate).astype(inputs.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1 - kept)
        return a * x + b

    def get_config(self) -> dict:
        return {**super().get_config(), "noise_shape": self.noise_shape}
