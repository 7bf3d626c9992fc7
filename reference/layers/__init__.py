"""Layers, one module per Keras family (keras/src/layers/<family>/)."""

from ..input_spec import InputSpec
from ..layer import Layer
from .activations import Activation
from .core import Dense
from .normalization import BatchNormalization

__all__ = ["Activation", "BatchNormalization", "Dense", "InputSpec", "Layer"]
