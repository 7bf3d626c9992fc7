"""TF twins of the normalization layers (keras/src/layers/normalization/)."""

from tf_layers.normalization.batch_normalization import BatchNormalization

__all__ = ["BatchNormalization"]
