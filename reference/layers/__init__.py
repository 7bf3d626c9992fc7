"""Layers, one module per Keras family (keras/src/layers/<family>/)."""

from ..input_spec import InputSpec
from ..layer import Layer
from .activations import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax
from .attention import AdditiveAttention, Attention, MultiHeadAttention  # issue 10
from .convolutional import (
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
from .core import Dense, EinsumDense, Embedding, Masking
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from .pooling import (
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
from .regularization import (
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from .reshaping import (  # issue 8
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
from .rnn import (  # issue 10  # issue 10
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
    "InputSpec",
    "Layer",
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
