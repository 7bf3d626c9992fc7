"""TF twins of the merging layers (keras/src/layers/merging/), in raw TensorFlow ops."""

from tf_layers.merging.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract"]
