"""Core layers (keras/src/layers/core/)."""

from .dense import Dense
from .embedding import Embedding

__all__ = ["Dense", "Embedding"]
