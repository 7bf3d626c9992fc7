"""Normalization layers (keras/src/layers/normalization/)."""

from .batch_normalization import BatchNormalization

__all__ = ["BatchNormalization"]
