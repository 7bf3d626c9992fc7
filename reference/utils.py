"""Utilities, as `keras.utils`: set_random_seed."""

from __future__ import annotations

import random

import numpy as np

from . import random as _random


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator, and reset the global SeedGenerator.

    Keras: keras.utils.set_random_seed(seed) (which also seeds TF). Unseeded initializers and
    SeedGenerators take their seed from Python's `random` at construction, so a script that
    seeds both frameworks alike and builds the same layers in the same order gets the same
    initial weights in NumPy as in Keras.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    _random.set_global_seed_generator(None)
    random.seed(seed)
    np.random.seed(seed)
