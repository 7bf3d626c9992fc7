"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum.

VJP (all): traced; the broadcasting of each input is undone by the tape (summed over the axes
it was broadcast along). Maximum/Minimum pass ties to the first argument, as TF does.
"""

from __future__ import annotations

import numpy as np

from .base_merge import Merge


class Add(Merge):
    """Computes: y = x0 + x1 + ... (left to right, as Keras).  Keras: keras.layers.Add()."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(Merge):
    """Computes: y = x0 - x1 (exactly two inputs).  Keras: keras.layers.Subtract()."""

    _min_inputs = 2

    def _check(self, shapes) -> None:
        super()._check(shapes)
        if len(shapes) != 2:
            raise ValueError(
                f"Layer '{self.name}': a `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: input_shape={list(shapes)}"
            )

    def _merge_function(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Computes: y = x0 * x1 * ... (left to right).  Keras: keras.layers.Multiply()."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(Merge):
    """Computes: y = (x0 + x1 + ...) / n (sum left to right, then one division).
    Keras: keras.layers.Average()."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(Merge):
    """Computes: y = max(max(x0, x1), ...).  Keras: keras.layers.Maximum()."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = np.maximum(out, x)
        return out


class Minimum(Merge):
    """Computes: y = min(min(x0, x1), ...).  Keras: keras.layers.Minimum()."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = np.minimum(out, x)
        return out
