"""The random stream of the noise layers: Keras's SeedGenerator (state [seed, counter], one
step per draw) and TF's stateless kernels, both from reference.random (the one place the
reference draws random bits)."""

from __future__ import annotations

import numpy as np

from ... import random as _random


class NoiseStream:
    """A layer's seed generator and its draws, as Keras's noise layers make them.

    Computes: draw n (from 0) uses the stateless seed floormod([seed, n], 2**31 - 2);
    uniform: tf.random.stateless_uniform's [0, 1) values; normal: tf.random.stateless_normal.
    Keras: keras.random.SeedGenerator(seed) and keras.random.uniform / normal / dropout.
    Differences: none in the uniform bits (bit-exact); normal values within a few ulp (libm).
    """

    def __init__(self, seed: int | None):
        # As Keras: an unseeded generator takes its seed from Python's `random` at construction.
        self.generator = _random.SeedGenerator(seed)

    @property
    def count(self) -> int:
        """Draws made so far."""
        return int(self.generator.state[1])

    def uniform(self, shape: tuple, dtype) -> np.ndarray:
        seed = _random.draw_seed(self.generator)
        return _random.stateless_uniform_unit(tuple(int(d) for d in shape), seed, dtype)

    def normal(self, shape: tuple, dtype, mean: float, stddev: float) -> np.ndarray:
        seed = _random.draw_seed(self.generator)
        return _random.stateless_normal(tuple(int(d) for d in shape), seed, mean, stddev, dtype)


def check_rate(layer: str, name: str, value, top_inclusive: bool = True) -> float:
    """`value` as a float in [0, 1] ([0, 1) when top_inclusive is False), else ValueError."""
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    top = "1]" if top_inclusive else "1)"
    if not ok or not (0 <= value <= 1 if top_inclusive else 0 <= value < 1):
        raise ValueError(
            f"{layer}: invalid value received for argument `{name}`. Expected a float value "
            f"in [0, {top}. Received: {name}={value!r}"
        )
    return float(value)


def concrete_noise_shape(noise_shape, shape: tuple) -> tuple:
    """`noise_shape` with each None replaced by the input's size on that axis."""
    if noise_shape is None:
        return tuple(shape)
    return tuple(s if n is None else n for n, s in zip(noise_shape, shape, strict=True))


def validate_noise_shape(noise_shape):
    """Keras's checks: None, or an iterable of positive ints / None (Keras's words)."""
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str):
        raise ValueError(
            "Invalid value received for argument `noise_shape`. Expected a tuple or list of "
            f"integers. Received: noise_shape={noise_shape}"
        )
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(
            "Invalid value received for argument `noise_shape`. Expected an iterable of integers "
            f"(e.g., a tuple or list). Received: noise_shape={noise_shape}"
        ) from None
    for i, dim in enumerate(noise_shape):
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all elements to be "
                f"positive integers or None. Received element at index {i}: {dim!r}"
            )
    return noise_shape
