"""Core layers (keras/src/layers/core/)."""

from .dense import Dense
from .einsum_dense import EinsumDense
from .embedding import Embedding
from .masking import Masking

__all__ = ["Dense", "EinsumDense", "Embedding", "Masking"]
