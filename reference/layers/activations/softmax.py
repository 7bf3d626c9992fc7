"""Activation layers: Softmax (with a mask)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import activations
from ...layer import Layer


def _large_negative(dtype) -> float:
    # Keras's _large_negative_number: -3e4 fits float16, -1e9 everything wider.
    return -3e4 if np.dtype(dtype) == np.float16 else -1e9


class Softmax(Layer):
    """Softmax along `axis`, masked positions excluded.

    Computes: x' = where(mask, x, -1e9 (float16: -3e4)); y = softmax(x', axis) (for several
    axes: exp(x' - logsumexp(x', axes))); y = where(mask, y, 0). A fully masked row therefore
    gives zeros (its logits are all equal, then zeroed). A non-bool mask means mask > 0.5.
    Keras: keras.layers.Softmax(axis=-1); call(inputs, mask=None), the mask broadcastable.
    """

    def __init__(self, axis: int | list = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def _check_mask(self, inputs, mask):
        m_shape, x_shape = np.shape(mask), np.shape(inputs)
        ok = len(m_shape) <= len(x_shape) and all(
            m in (1, x) for m, x in zip(m_shape[::-1], x_shape[::-1], strict=False)
        )
        if not ok:
            raise ValueError(
                f"Layer '{self.name}' (Softmax): the `mask` must be broadcastable to `inputs` "
                "(each mask dimension 1 or equal to the input's, no more dimensions). Received: "
                f"inputs.shape={x_shape}, mask.shape={m_shape}"
            )
        mask = mask.numpy() if hasattr(mask, "numpy") else np.asarray(mask)
        return mask if mask.dtype == bool else mask > 0.5

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._check_mask(inputs, mask)
            inputs = np.where(mask, inputs, np.asarray(_large_negative(inputs.dtype), inputs.dtype))
        if isinstance(self.axis, list | tuple) and len(self.axis) > 1:
            axes = tuple(self.axis)
            top = np.max(inputs, axis=axes, keepdims=True)
            lse = np.log(np.sum(np.exp(inputs - top), axis=axes, keepdims=True)) + top
            outputs = np.exp(inputs - lse)
        else:
            axis = self.axis[0] if isinstance(self.axis, list | tuple) else self.axis
            outputs = activations.softmax(inputs, axis=axis)
        if mask is not None:
            outputs = np.where(mask, outputs, np.zeros((), outputs.dtype))
        return outputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
