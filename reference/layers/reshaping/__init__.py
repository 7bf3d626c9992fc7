"""Reshaping layers (keras/src/layers/reshaping/)."""

from .cropping import Cropping1D, Cropping2D, Cropping3D  # issue 8
from .flatten import Flatten
from .permute import Permute
from .repeat_vector import RepeatVector
from .reshape import Reshape
from .up_sampling import UpSampling1D, UpSampling2D, UpSampling3D  # issue 8
from .zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D  # issue 8

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
