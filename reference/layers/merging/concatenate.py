"""Merging layers: Concatenate."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...layer import Layer


class Concatenate(Layer):
    """Joins a list of tensors along `axis`.

    Computes: y = concatenate(inputs, axis).
    VJP: traced (each input gets its slice of dy).
    Keras: keras.layers.Concatenate(axis=-1).
    Differences: shapes are checked on every call (every axis but `axis` must match, the rank
    too), with a ValueError naming the layer; compute_mask returns None (mask concatenation is
    left to the masking issue).
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def _check(self, shapes) -> None:
        if (
            not isinstance(shapes, list | tuple)
            or not shapes
            or not isinstance(shapes[0], list | tuple)
        ):
            raise ValueError(
                f"Layer '{self.name}': a `Concatenate` layer should be called on a list of at "
                f"least 1 input. Received: input_shape={shapes}"
            )  # fmt: skip
        ranks = {len(s) for s in shapes}
        rank = len(shapes[0])
        if len(ranks) != 1 or not -rank <= self.axis < rank:
            raise ValueError(
                f"Layer '{self.name}': a `Concatenate` layer requires inputs of one rank with "
                f"axis={self.axis} inside it. Received: input_shape={list(shapes)}"
            )
        axis = self.axis % rank
        rest = {tuple(d for i, d in enumerate(s) if i != axis) for s in shapes}
        if len(rest) != 1:
            raise ValueError(
                f"Layer '{self.name}': a `Concatenate` layer requires inputs with matching "
                f"shapes except for the concatenation axis. Received: input_shape={list(shapes)}"
            )

    def build(self, input_shape) -> None:
        self._check(input_shape)

    def call(self, inputs):
        self._check([tuple(np.shape(x)) for x in inputs])
        return np.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape) -> tuple:
        self._check(input_shape)
        out = list(input_shape[0])
        out[self.axis] = sum(s[self.axis] for s in input_shape)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
