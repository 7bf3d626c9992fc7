"""Activation layers (keras/src/layers/activations/)."""

from .activation import Activation
from .prelu import PReLU
from .relu import ELU, LeakyReLU, ReLU
from .softmax import Softmax

__all__ = ["ELU", "Activation", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
