"""Keras masks on NumPy arrays, and the Masking layer.

Keras 3 attaches a mask to a tensor as its `_keras_mask` attribute; the next layer's __call__
reads it (passing it as `mask=` when `call` takes one) and, if that layer supports masking,
attaches `compute_mask(inputs, previous_mask)` to its outputs. A NumPy array takes no
attributes, so a masked output is returned as a `MaskedArray` view: the same data, with
`_keras_mask` set. Anything computed from it is a plain ndarray again (a new tensor in TF has
no mask either). Under a recording tape the output is a TrackedArray, which has a
`_keras_mask` slot of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import nest
from ...layer import Layer


class MaskedArray(np.ndarray):
    """An ndarray view carrying Keras's `_keras_mask` (a boolean array, or None)."""

    _keras_mask = None

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        # The result of a ufunc is a new tensor: a plain array, no mask.
        out = np.asarray(arr).view(np.ndarray)
        return out[()] if return_scalar else out


def get_keras_mask(x: Any):
    """The mask attached to `x` (None if none): Keras's backend.get_keras_mask."""
    return getattr(x, "_keras_mask", None)


def set_keras_mask(x: Any, mask) -> Any:
    """`x` with `mask` attached: a MaskedArray view of a plain array (returned), or, for a
    TrackedArray, its `_keras_mask` slot set (returned as is), as Keras sets the attribute."""
    if mask is None:
        return x
    mask = np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask, dtype=bool)
    if isinstance(x, np.ndarray):
        out = x.view(MaskedArray)
        out._keras_mask = mask
        return out
    if hasattr(x, "_keras_mask"):
        x._keras_mask = mask
    return x


def masks_of(structure: Any) -> Any:
    """get_keras_mask over a nested structure; None when no leaf has a mask."""
    masks = nest.map_structure(get_keras_mask, structure)
    return masks if any(m is not None for m in nest.flatten(masks)) else None


def attach_masks(outputs: Any, masks: Any) -> Any:
    """Each output gets its mask (a structure matching the outputs, or one mask for one output);
    outputs that already carry one keep it, as Keras's _set_mask_metadata."""
    flat_out = nest.flatten(outputs)
    flat_masks = nest.flatten(masks) if isinstance(masks, list | tuple) else [masks]
    if len(flat_masks) != len(flat_out):
        return outputs
    new = [o if get_keras_mask(o) is not None else set_keras_mask(o, m)
           for o, m in zip(flat_out, flat_masks, strict=True)]  # fmt: skip
    return nest.pack_sequence_as(outputs, new)


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`.

    Computes: keep = any(x != mask_value, axis=-1); y = where(keep[..., None], x, 0), with
    mask `keep` attached to y for the layers downstream.
    VJP: traced (dx = dy where kept, 0 elsewhere).
    Keras: keras.layers.Masking(mask_value=0.0).

    Input shape: (batch, timesteps, ..., features).  Output shape: same.
    """

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return np.any(np.not_equal(_plain(inputs), self.mask_value), axis=-1)

    def call(self, inputs):
        keep = np.any(np.not_equal(_plain(inputs), self.mask_value), axis=-1, keepdims=True)
        outputs = np.where(keep, inputs, np.zeros((), inputs.dtype))
        return set_keras_mask(outputs, np.squeeze(keep, axis=-1))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}


def _plain(x):
    """The values of x without its tape (masks are never differentiated)."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)
