"""Regularization layers (keras/src/layers/regularization/)."""

from .dropout import Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from .noise import AlphaDropout, GaussianDropout, GaussianNoise

__all__ = [
    "AlphaDropout",
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
]
