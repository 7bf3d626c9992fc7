"""Merging layers: the shared base (shape checks, rank alignment, masks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...layer import Layer


def elementwise_shape(layer: str, shape1: tuple, shape2: tuple) -> tuple:
    """Keras's broadcast of two shapes (no batch axis): trailing axes equal or 1, else an error."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[: -len(shape2)])
    for i, j in zip(shape1[-len(shape2) :], shape2, strict=True):
        if i != 1 and j != 1 and i != j:
            raise ValueError(
                f"{layer}: inputs have incompatible shapes. Received shapes {tuple(shape1)} and "
                f"{tuple(shape2)} (without the batch axis); each axis must match or be 1."
            )
        out.append(j if i == 1 else i)
    return tuple(out)


class Merge(Layer):
    """Base of the elementwise merging layers: a list of tensors in, one tensor out.

    Computes: inputs of lower rank get size-1 axes inserted after the batch axis up to the
    highest rank (Keras's expand_dims(x, 1)), then `_merge_function` broadcasts them.
    compute_mask: the OR of the input masks (None if any is None).
    Keras: keras.src.layers.merging.base_merge.Merge.
    Differences: the shape check runs on every call, not only the first (a later call with
    mismatched shapes is a clear ValueError, not a broadcasting error from deep inside).
    Masks attached to inputs (Keras's `_keras_mask`) are not read by Multiply/Maximum/Minimum.
    """

    _min_inputs = 1

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check(self, shapes) -> None:
        name = f"Layer '{self.name}' ({type(self).__name__})"
        if (
            not isinstance(shapes, list | tuple)
            or not shapes
            or not isinstance(shapes[0], list | tuple)
        ):
            raise ValueError(
                f"{name}: a merge layer should be called on a list of at least "
                f"{self._min_inputs} input(s). Received: input_shape={shapes}"
            )  # fmt: skip
        if len(shapes) < self._min_inputs:
            raise ValueError(f"{name} needs at least {self._min_inputs} inputs; received "
                             f"{len(shapes)}: input_shape={shapes}")  # fmt: skip
        batch_sizes = {s[0] for s in shapes if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"{name}: cannot merge tensors with different batch sizes. "
                             f"Received tensors with shapes {list(shapes)}")  # fmt: skip
        out = tuple(shapes[0][1:])
        for s in shapes[1:]:
            out = elementwise_shape(name, out, tuple(s[1:]))

    def build(self, input_shape) -> None:
        self._check(input_shape)

    def call(self, inputs):
        if not isinstance(inputs, list | tuple):
            raise ValueError(
                f"Layer '{self.name}': a merge layer should be called on a list of inputs. "
                f"Received: inputs of type {type(inputs).__name__} (not a list of tensors)"
            )
        self._check([tuple(np.shape(x)) for x in inputs])
        rank = max(np.ndim(x) for x in inputs)
        aligned = [np.reshape(x, (np.shape(x)[0], *(1,) * (rank - np.ndim(x)), *np.shape(x)[1:]))
                   if np.ndim(x) < rank else x for x in inputs]  # fmt: skip
        return self._merge_function(aligned)

    def _merge_function(self, inputs):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, list | tuple) or len(mask) != len(inputs):
            raise ValueError(
                f"Layer '{self.name}': `mask` should be a list as long as `inputs`. "
                f"Received: {len(inputs)} inputs and mask={mask}"
            )
        if any(m is None for m in mask):
            return None
        out = np.asarray(mask[0], bool)
        for m in mask[1:]:
            out = np.logical_or(out, m)
        return out

    def compute_output_shape(self, input_shape) -> tuple:
        out = tuple(input_shape[0][1:])
        for s in input_shape[1:]:
            out = elementwise_shape(type(self).__name__, out, tuple(s[1:]))
        return (input_shape[0][0], *out)
