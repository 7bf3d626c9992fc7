"""TensorFlow twins of the reference layers: `keras.layers.Layer` subclasses in raw `tf` ops.

Each twin has the module, class name, constructor arguments and defaults, weight names, shapes and
order of the stock Keras 3 layer, and computes with TensorFlow ops only (never by delegating to
`keras.layers.<Name>` or `keras.activations`), so that it is an independent oracle for the NumPy
reference. Importing this package imports TensorFlow and sets no environment variable.
"""

from tf_layers import activations, examples
from tf_layers.activations import Activation
from tf_layers.convolutional import Conv1D, Conv2D, Conv3D
from tf_layers.core import Dense
from tf_layers.normalization import (
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
    "LayerNormalization",
    "RMSNormalization",
    "UnitNormalization",
    "activations",
    "examples",
]
