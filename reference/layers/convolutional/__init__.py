"""Convolution layers (keras/src/layers/convolutional/)."""

from .conv import Conv1D, Conv2D, Conv3D

__all__ = ["Conv1D", "Conv2D", "Conv3D"]
