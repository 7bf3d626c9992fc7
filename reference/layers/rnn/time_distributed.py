"""TimeDistributed: one layer applied to every timestep (keras/src/layers/rnn/
time_distributed.py)."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ...layer import Layer


class TimeDistributed(Layer):
    """Applies `layer` to every slice x[:, t] of a (B, T, ...) input, with the same weights.

    Computes: y[:, t] = layer(x[:, t]) for every t; here as one call on the (B*T, ...) merge of
    the batch and time axes, reshaped back to (B, T, ...) (the same per-row math as Keras's
    loop over t).
    VJP: the wrapped layer's (its hand-written VJP where it has one), through the reshapes.
    Keras: keras.layers.TimeDistributed(layer).
    Input shape: (B, T, ...) of rank >= 3.  Weights: the layer's, under
    `time_distributed/<layer name>/`.
    """

    def __init__(self, layer: Any, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `reference.Layer` instance. "
                f"Received: {layer!r}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _child_shape(self, input_shape) -> tuple:
        if not isinstance(input_shape, tuple | list) or len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed ({self.name}): `TimeDistributed` Layer should be passed an "
                f"`input_shape` with at least 3 dimensions, received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape: tuple) -> None:
        child = self._child_shape(tuple(input_shape))
        if not self.layer.built:
            self.layer.build(child)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        out = self.layer.compute_output_shape(self._child_shape(tuple(input_shape)))
        return (out[0], input_shape[1], *out[1:])

    def call(self, inputs, training=None, mask=None):
        shape = np.shape(inputs)
        self._child_shape(shape)
        if mask is not None and tuple(np.shape(mask)[:2]) != shape[:2]:
            raise ValueError(
                f"TimeDistributed ({self.name}): the `mask` passed has a shape "
                f"{np.shape(mask)} that is incompatible with the input shape {shape}: its first "
                f"two dimensions must be (batch, timesteps) = {shape[:2]}."
            )
        params = inspect.signature(self.layer.call).parameters
        kwargs = {}
        if "training" in params:
            kwargs["training"] = training
        if "mask" in params and mask is not None:
            kwargs["mask"] = np.reshape(mask, (-1, *np.shape(mask)[2:]))
        merged = np.reshape(inputs, (shape[0] * shape[1], *shape[2:]))
        y = self.layer(merged, **kwargs)
        return np.reshape(y, (shape[0], shape[1], *np.shape(y)[1:]))

    def get_config(self) -> dict:
        from .rnn import _serialize

        return {**super().get_config(), "layer": _serialize(self.layer)}
