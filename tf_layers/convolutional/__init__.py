"""Convolution layers of the TF twins, in raw TensorFlow ops."""

from tf_layers.convolutional.base_conv import Conv1D, Conv2D, Conv3D

__all__ = ["Conv1D", "Conv2D", "Conv3D"]
