"""Keras's automatic names: snake_case class names made unique by one global counter each."""

from __future__ import annotations

import collections
import re

_uids: collections.defaultdict = collections.defaultdict(int)


def to_snake_case(name: str) -> str:
    """ "BatchNormalization" -> "batch_normalization", as keras.src.utils.naming does."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """Keras's auto names: "dense", "dense_1", ... with one global counter per prefix."""
    name = prefix if prefix not in _uids else f"{prefix}_{_uids[prefix]}"
    _uids[prefix] += 1
    return name
