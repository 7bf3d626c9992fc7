"""Layers, one module per Keras family (keras/src/layers/<family>/)."""

from ..input_spec import InputSpec
from ..layer import Layer
from .activations import Activation
from .convolutional import Conv1D, Conv2D, Conv3D
from .core import Dense
from .normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)

__all__ = [
    "Activation",
    "BatchNormalization",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Dense",
    "GroupNormalization",
    "InputSpec",
    "Layer",
    "LayerNormalization",
    "RMSNormalization",
    "UnitNormalization",
]
