"""Regularization layers: Dropout and SpatialDropout1D/2D/3D."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import config
from ...input_spec import InputSpec
from ...layer import Layer
from ._noise import NoiseStream, check_rate, concrete_noise_shape, validate_noise_shape


def dropout(x, rate: float, u):
    """Computes: y = x / (1 - rate) where u >= rate, else 0 (u ~ U[0, 1), broadcast to x).

    Keras: tf.nn.experimental.stateless_dropout (via keras.random.dropout): keep = u >= rate,
    scale 1 / (1 - rate) computed in Python double, then cast to x's dtype.
    VJP: traced (dx = dy / (1 - rate) where kept, else 0).
    """
    keep = np.broadcast_to(u >= rate, np.shape(x))
    return np.where(keep, x * np.asarray(1.0 / (1.0 - rate), dtype=x.dtype), np.zeros((), x.dtype))


class Dropout(Layer):
    """Sets a fraction `rate` of its inputs to 0 in training, scaling the rest by 1/(1 - rate).

    Computes: training and rate > 0: y = dropout(x, rate, u), u ~ U[0, 1) of `noise_shape`
    (None entries take the input's sizes); rate == 1 gives zeros; otherwise y = x.
    Keras: keras.layers.Dropout(rate, noise_shape=None, seed=None); no weights.
    Randomness: Keras's, bit for bit (NoiseStream: SeedGenerator(seed), one step per call).

    Input shape: any.  Output shape: same as input.
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs):
        rate = check_rate(type(self).__name__, "rate", rate)
        noise_shape = validate_noise_shape(noise_shape)
        # As Keras: only a positive rate makes a SeedGenerator (which draws an unseeded seed
        # from Python's `random`, shifting every later unseeded draw).
        stream = NoiseStream(seed) if rate > 0 else None
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.noise_shape = noise_shape
        self._stream = stream
        self.supports_masking = True
        self.built = True  # no state: Keras builds it at construction

    def _noise_shape(self, shape: tuple) -> tuple:
        return concrete_noise_shape(self.noise_shape, shape)

    def noise(self, shape: tuple, dtype) -> np.ndarray:
        """The next U[0, 1) draw of this layer's stream, of the noise shape for `shape`."""
        return self._stream.uniform(self._noise_shape(shape), dtype)

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        if self.rate == 1:
            return np.zeros_like(inputs)  # as Keras; no draw
        return dropout(inputs, self.rate, self.noise(np.shape(inputs), inputs.dtype))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}  # fmt: skip


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one draw per (example, channel)."""

    _ndim = 3

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 name: str | None = None, dtype: Any = None):  # fmt: skip
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        fmt = config.image_data_format() if data_format is None else str(data_format).lower()
        if fmt not in ("channels_first", "channels_last"):
            raise ValueError(
                f"{type(self).__name__}: the `data_format` argument must be one of "
                f'{{"channels_first", "channels_last"}}. Received: data_format={data_format}'
            )
        self.data_format = fmt
        self.input_spec = InputSpec(ndim=self._ndim)

    def _noise_shape(self, shape: tuple) -> tuple:
        ones = (1,) * (len(shape) - 2)
        if self.data_format == "channels_first":
            return (shape[0], shape[1], *ones)
        return (shape[0], *ones, shape[-1])

    def get_config(self) -> dict:
        # Keras's BaseSpatialDropout builds its config by hand: no `trainable`, dtype a string.
        config_ = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        return {**config_, "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of a sequence: noise shape (batch, 1, channels).

    Computes: y = dropout(x, rate, u), u of shape (batch, 1, channels).
    Keras: keras.layers.SpatialDropout1D(rate, seed=None, name=None, dtype=None).
    """

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None,
                 dtype: Any = None):  # fmt: skip
        super().__init__(rate, data_format="channels_last", seed=seed, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {k: v for k, v in super().get_config().items() if k != "data_format"}


class SpatialDropout2D(_SpatialDropout):
    """Computes: y = dropout(x, rate, u), u of shape (batch, 1, 1, C) or (batch, C, 1, 1).
    Keras: keras.layers.SpatialDropout2D(rate, data_format=None, seed=None, name=None, dtype=None).
    """

    _ndim = 4


class SpatialDropout3D(_SpatialDropout):
    """Computes: y = dropout(x, rate, u), u of shape (batch, 1, 1, 1, C) or (batch, C, 1, 1, 1).
    Keras: keras.layers.SpatialDropout3D(rate, data_format=None, seed=None, name=None, dtype=None).
    """

    _ndim = 5
