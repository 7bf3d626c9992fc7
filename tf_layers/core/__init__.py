"""TF twins of the core layers (keras/src/layers/core/)."""

from tf_layers.core.dense import Dense
from tf_layers.core.einsum_dense import EinsumDense
from tf_layers.core.embedding import Embedding
from tf_layers.core.masking import Masking

__all__ = ["Dense", "EinsumDense", "Embedding", "Masking"]
