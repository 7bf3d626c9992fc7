"""TF twins of the core layers (keras/src/layers/core/)."""

from tf_layers.core.dense import Dense

__all__ = ["Dense"]
