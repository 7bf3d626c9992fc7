"""Convolution layers of the TF twins, in raw TensorFlow ops."""

from tf_layers.convolutional.base_conv import Conv1D, Conv2D, Conv3D
from tf_layers.convolutional.more_conv import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)

__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
]
