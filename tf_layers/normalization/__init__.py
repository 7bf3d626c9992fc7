"""TF twins of the normalization layers (keras/src/layers/normalization/)."""

from tf_layers.normalization.batch_normalization import BatchNormalization
from tf_layers.normalization.layer_normalization import (
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)

__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "RMSNormalization",
    "UnitNormalization",
]
