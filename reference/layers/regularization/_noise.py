"""The random stream of the noise layers: a seed per layer, a counter per draw, bits from
`reference.initializers._draw` (the project's one source of random bits)."""

from __future__ import annotations

import random

import numpy as np

from ...initializers import _draw

_MODULUS = 2**31 - 2  # Keras folds seeds into [0, 2**31 - 2)
_STRIDE = 1_000_003  # a prime: consecutive draws of one seed get distinct keys


class NoiseStream:
    """A layer's seed and the number of draws made so far (Keras's SeedGenerator state
    [seed, counter]).

    Computes: draw n (from 0) uses the key (seed + n * 1_000_003) mod (2**31 - 2).
    Keras: keras.random.SeedGenerator(seed); each call draws with the state, then adds [0, 1].
    Differences: the bits are NumPy's Philox keyed as above, not TF's stateless Philox: the
      same seed gives the same noise in the reference every time, but not Keras's noise.
      Parity tests hand the reference's noise to the TF twin explicitly.
    """

    def __init__(self, seed: int | None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` argument should be an integer. Received: seed={seed!r}")
        # As Keras: an unseeded generator takes its seed from Python's `random` at construction.
        self.seed = random.randint(1, 10**9) if seed is None else seed
        self.count = 0

    def draw(self, kind: str, shape: tuple, dtype, a: float, b: float) -> np.ndarray:
        key = (self.seed + self.count * _STRIDE) % _MODULUS
        self.count += 1
        return _draw(kind, tuple(int(d) for d in shape), key, np.dtype(dtype), a, b)


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
