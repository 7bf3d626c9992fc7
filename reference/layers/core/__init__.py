"""Core layers (keras/src/layers/core/)."""

from .dense import Dense

__all__ = ["Dense"]
