"""TF twins of the reshaping layers (keras/src/layers/reshaping/)."""

from tf_layers.reshaping.reshaping import Flatten, Permute, RepeatVector, Reshape

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]
