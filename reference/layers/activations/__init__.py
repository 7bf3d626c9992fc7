"""Activation layers (keras/src/layers/activations/)."""

from .activation import Activation

__all__ = ["Activation"]
