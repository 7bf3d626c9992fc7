"""TensorFlow twins of the reference layers: `keras.layers.Layer` subclasses in raw `tf` ops.

Each twin has the module, class name, constructor arguments and defaults, weight names, shapes and
order of the stock Keras 3 layer, and computes with TensorFlow ops only (never by delegating to
`keras.layers.<Name>` or `keras.activations`), so that it is an independent oracle for the NumPy
reference. Importing this package imports TensorFlow and sets no environment variable.
"""

from tf_layers import activations, examples
from tf_layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from tf_layers.activations import Activation
from tf_layers.attention import AdditiveAttention, Attention, MultiHeadAttention  # issue 10
from tf_layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from tf_layers.core import Dense, EinsumDense, Embedding, Masking
from tf_layers.merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from tf_layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from tf_layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from tf_layers.regularization import (
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from tf_layers.reshaping import (  # issue 8
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from tf_layers.rnn import (  # issue 10  # issue 10
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    TimeDistributed,
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
    "ELU",  # issue 9
    "LeakyReLU",  # issue 9
    "PReLU",  # issue 9
    "ReLU",  # issue 9
    "Softmax",  # issue 9
    "Embedding",  # issue 9
    "Masking",  # issue 9
    "Add",  # issue 9
    "Average",  # issue 9
    "Concatenate",  # issue 9
    "Dot",  # issue 9
    "Maximum",  # issue 9
    "Minimum",  # issue 9
    "Multiply",  # issue 9
    "Subtract",  # issue 9
    "AlphaDropout",  # issue 9
    "Dropout",  # issue 9
    "GaussianDropout",  # issue 9
    "GaussianNoise",  # issue 9
    "SpatialDropout1D",  # issue 9
    "SpatialDropout2D",  # issue 9
    "SpatialDropout3D",  # issue 9
    "Flatten",  # issue 9
    "Permute",  # issue 9
    "RepeatVector",  # issue 9
    "Reshape",  # issue 9
    "activations",
    "examples",
    "AveragePooling1D",  # issue 8
    "AveragePooling2D",  # issue 8
    "AveragePooling3D",  # issue 8
    "GlobalAveragePooling1D",  # issue 8
    "GlobalAveragePooling2D",  # issue 8
    "GlobalAveragePooling3D",  # issue 8
    "GlobalMaxPooling1D",  # issue 8
    "GlobalMaxPooling2D",  # issue 8
    "GlobalMaxPooling3D",  # issue 8
    "MaxPooling1D",  # issue 8
    "MaxPooling2D",  # issue 8
    "MaxPooling3D",  # issue 8
    "Conv1DTranspose",  # issue 8
    "Conv2DTranspose",  # issue 8
    "Conv3DTranspose",  # issue 8
    "DepthwiseConv1D",  # issue 8
    "DepthwiseConv2D",  # issue 8
    "SeparableConv1D",  # issue 8
    "SeparableConv2D",  # issue 8
    "Cropping1D",  # issue 8
    "Cropping2D",  # issue 8
    "Cropping3D",  # issue 8
    "UpSampling1D",  # issue 8
    "UpSampling2D",  # issue 8
    "UpSampling3D",  # issue 8
    "ZeroPadding1D",  # issue 8
    "ZeroPadding2D",  # issue 8
    "ZeroPadding3D",  # issue 8
    "GRU",  # issue 10
    "GRUCell",  # issue 10
    "LSTM",  # issue 10
    "LSTMCell",  # issue 10
    "SimpleRNN",  # issue 10
    "SimpleRNNCell",  # issue 10
    "RNN",  # issue 10
    "StackedRNNCells",  # issue 10
    "Bidirectional",  # issue 10
    "TimeDistributed",  # issue 10
    "AdditiveAttention",  # issue 10
    "Attention",  # issue 10
    "EinsumDense",  # issue 10
    "MultiHeadAttention",  # issue 10
]
