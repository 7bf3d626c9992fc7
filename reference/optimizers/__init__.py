"""Optimizers, as keras.optimizers: the Keras 3 update formulas, slot names and order."""

from __future__ import annotations

from typing import Any

from . import schedules
from .base import Optimizer
from .ftrl import Ftrl
from .optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop

_ALL = [SGD, Adadelta, Adagrad, Adam, AdamW, Adamax, Ftrl, Lion, Nadam, RMSprop]
_BY_NAME = {cls.__name__.lower(): cls for cls in _ALL}


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name ("adam", "SGD": a new instance with defaults) or an instance.

    Keras: keras.optimizers.get.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


__all__ = [cls.__name__ for cls in _ALL] + ["Optimizer", "get", "schedules"]
