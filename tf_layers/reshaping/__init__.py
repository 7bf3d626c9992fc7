"""TF twins of the reshaping layers (keras/src/layers/reshaping/)."""

from tf_layers.reshaping.reshaping import Flatten, Permute, RepeatVector, Reshape
from tf_layers.reshaping.spatial import (  # issue 8
    Cropping1D,
    Cropping2D,
    Cropping3D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]
__all__ += [  # issue 8
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]
