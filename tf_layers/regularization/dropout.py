"""Regularization layers of the TF twins, in raw TensorFlow ops.

Every twin's `call` takes the random draw explicitly (`noise=`: the U[0, 1) draw for the
dropouts, the Gaussian draw for the noise layers), so that parity tests can feed both sides the
same randomness; without it the twin draws its own as Keras does: tf.random.stateless_* with
the seed [seed, n] at its n-th draw.
"""

from __future__ import annotations

import math

import tensorflow as tf
from tensorflow import keras

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check(layer, name, value, top_inclusive=True):
    if not (0 <= value <= 1 if top_inclusive else 0 <= value < 1):
        raise ValueError(f"{layer}: invalid `{name}`. Received: {name}={value}")
    return value


class _Noisy(keras.layers.Layer):
    def _draw(self, kind, shape, dtype, a, b, noise):
        if noise is not None:
            return tf.cast(noise, dtype)
        # Keras's SeedGenerator: state [seed, n] at the n-th draw (from 0), floormod 2**31 - 2.
        count = getattr(self, "_count", 0)
        self._count = count + 1
        seed = [(self.seed or 0) % (2**31 - 2), count]
        if kind == "uniform":
            return tf.random.stateless_uniform(shape, seed, dtype=dtype)
        return tf.random.stateless_normal(shape, seed, mean=a, stddev=b, dtype=dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


class Dropout(_Noisy):
    """Computes: training and rate > 0: y = where(u >= rate, x * (1 / (1 - rate)), 0), u the
    U[0, 1) draw of `noise_shape`; rate = 1: zeros; else y = x.
    Keras: keras.layers.Dropout(rate, noise_shape=None, seed=None)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check("Dropout", "rate", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.supports_masking = True

    def _noise_shape(self, shape):
        if self.noise_shape is None:
            return shape
        return [s if n is None else n for n, s in zip(self.noise_shape, shape, strict=True)]

    def call(self, inputs, training=False, noise=None):
        if not (training and self.rate > 0):
            return inputs
        if self.rate == 1:
            return tf.zeros_like(inputs)
        shape = self._noise_shape(inputs.shape.as_list())
        u = self._draw("uniform", shape, inputs.dtype, 0.0, 1.0, noise)
        keep = tf.broadcast_to(u >= self.rate, tf.shape(inputs))
        scaled = inputs * tf.constant(1.0 / (1.0 - self.rate), inputs.dtype)
        return tf.where(keep, scaled, tf.zeros_like(inputs))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}  # fmt: skip


class _SpatialDropout(Dropout):
    _ndim = 3

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = data_format or keras.config.image_data_format()
        self.input_spec = keras.layers.InputSpec(ndim=self._ndim)

    def _noise_shape(self, shape):
        ones = [1] * (len(shape) - 2)
        if self.data_format == "channels_first":
            return [shape[0], shape[1], *ones]
        return [shape[0], *ones, shape[-1]]

    def get_config(self):
        config = {k: v for k, v in super().get_config().items() if k != "noise_shape"}
        return {**config, "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Computes: dropout with u of shape (batch, 1, channels). Keras: layers.SpatialDropout1D."""

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, "channels_last", seed=seed, name=name, dtype=dtype)

    def get_config(self):
        return {k: v for k, v in super().get_config().items() if k != "data_format"}


class SpatialDropout2D(_SpatialDropout):
    """Computes: dropout with one u per (example, channel). Keras: keras.layers.SpatialDropout2D."""

    _ndim = 4


class SpatialDropout3D(_SpatialDropout):
    """Computes: dropout with one u per (example, channel). Keras: keras.layers.SpatialDropout3D."""

    _ndim = 5


class GaussianNoise(_Noisy):
    """Computes: training and stddev > 0: y = x + n, n ~ N(0, stddev^2); else y = x.
    Keras: keras.layers.GaussianNoise(stddev, seed=None)."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _check("GaussianNoise", "stddev", stddev)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=False, noise=None):
        if training and self.stddev > 0:
            dtype = tf.as_dtype(self.compute_dtype)
            return inputs + self._draw("normal", tf.shape(inputs), dtype, 0.0, self.stddev, noise)
        return inputs

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Noisy):
    """Computes: training and rate > 0: y = x * n, n ~ N(1, rate / (1 - rate)); else y = x.
    Keras: keras.layers.GaussianDropout(rate, seed=None)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check("GaussianDropout", "rate", rate, top_inclusive=False)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=False, noise=None):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            dtype = tf.as_dtype(self.compute_dtype)
            return inputs * self._draw("normal", tf.shape(inputs), dtype, 1.0, stddev, noise)
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_Noisy):
    """Computes: kept = u >= rate; y = a * (x * kept + alpha_p * (1 - kept)) + b, alpha_p =
    -alpha * scale (SELU), a = ((1 - rate)(1 + rate alpha_p^2))^-0.5, b = -a alpha_p rate.
    Keras: keras.layers.AlphaDropout(rate, noise_shape=None, seed=None)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check("AlphaDropout", "rate", rate, top_inclusive=False)
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=False, noise=None):
        if not (training and self.rate > 0):
            return inputs
        shape = inputs.shape.as_list()
        if self.noise_shape is not None:
            shape = [s if n is None else n for n, s in zip(self.noise_shape, shape, strict=True)]
        u = self._draw("uniform", shape, tf.as_dtype(keras.config.floatx()), 0.0, 1.0, noise)
        kept = tf.cast(u >= self.rate, inputs.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}  # fmt: skip
