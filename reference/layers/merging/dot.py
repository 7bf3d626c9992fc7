"""Merging layers: Dot."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...layer import Layer


def _l2_normalize(x, axis: int):
    # keras.ops.normalize (order 2, epsilon 1e-7): x * min(rsqrt(sum(x^2)), 1e7)
    inv = 1.0 / np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    return x * np.minimum(inv, 1.0 / 1e-7)


def batch_dot(x, y, axes: tuple[int, int]):
    """Computes: for each example b, x[b] contracted with y[b] over x's axes[0] and y's axes[1];
    output axes: x's remaining axes, then y's; a rank-1 result becomes (batch, 1).
    Keras: keras.src.layers.merging.dot.batch_dot (transposes + one batched matmul)."""
    a0, a1 = axes
    xt = np.moveaxis(x, a0, -1)  # (B, *xr, K)
    yt = np.moveaxis(y, a1, 1)  # (B, K, *yr)
    xr, yr = np.shape(xt)[1:-1], np.shape(yt)[2:]
    batch, k = np.shape(x)[0], np.shape(x)[a0]
    out = np.matmul(np.reshape(xt, (batch, -1, k)), np.reshape(yt, (batch, k, -1)))
    out = np.reshape(out, (batch, *xr, *yr))
    return np.reshape(out, (batch, 1)) if np.ndim(out) == 1 else out


class Dot(Layer):
    """Dot product of two batched tensors along `axes` (cosine similarity with normalize=True).

    Computes: y = batch_dot(x1', x2', axes), x' = x / ||x|| along its axis if normalize.
    VJP: traced (matmul and transpose rules).
    Keras: keras.layers.Dot(axes, normalize=False); axes an int or a pair, never the batch axis.

    Input shape: two tensors of rank >= 2 with the same batch size.
    """

    def __init__(self, axes: int | list | tuple, normalize: bool = False, **kwargs: Any):
        if not isinstance(axes, int):
            if not isinstance(axes, list | tuple):
                raise TypeError(f"Dot: invalid type for argument `axes`: it should be a list or "
                                f"an int. Received: axes={axes}")  # fmt: skip
            if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
                raise ValueError(f"Dot: invalid format for argument `axes`: it should contain "
                                 f"two integers. Received: axes={axes}")  # fmt: skip
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes(self, shapes) -> list[int]:
        name = f"Layer '{self.name}' (Dot)"
        if not isinstance(shapes, list | tuple) or len(shapes) != 2:
            raise ValueError(f"{name} should be called on a list of 2 inputs. "
                             f"Received: input_shape={shapes}")  # fmt: skip
        s1, s2 = shapes
        if len(s1) < 2 or len(s2) < 2 or s1[0] != s2[0]:
            raise ValueError(f"{name}: both inputs need rank >= 2 and one batch size. "
                             f"Received shapes {tuple(s1)} and {tuple(s2)}")  # fmt: skip
        given = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        axes = []
        for a, s in zip(given, (s1, s2), strict=True):
            if not -len(s) <= a < len(s) or a % len(s) == 0:
                raise ValueError(f"{name}: axis {a} is not a non-batch axis of an input of shape "
                                 f"{tuple(s)}. Received: axes={self.axes}")  # fmt: skip
            axes.append(a % len(s))
        if s1[axes[0]] != s2[axes[1]]:
            raise ValueError(
                f"{name}: incompatible input shapes: axis values {s1[axes[0]]} (at axis "
                f"{axes[0]}) != {s2[axes[1]]} (at axis {axes[1]}). Full input shapes: "
                f"{tuple(s1)}, {tuple(s2)}"
            )
        return axes

    def build(self, input_shape) -> None:
        self._axes(input_shape)

    def call(self, inputs):
        axes = self._axes([tuple(np.shape(x)) for x in inputs])
        x1, x2 = inputs
        if self.normalize:
            x1, x2 = _l2_normalize(x1, axes[0]), _l2_normalize(x2, axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape) -> tuple:
        a0, a1 = self._axes(input_shape)
        s1, s2 = input_shape
        out = [d for i, d in enumerate(s1) if i != a0] + [d for i, d in enumerate(s2)
                                                          if i not in (0, a1)]  # fmt: skip
        return tuple(out) if len(out) > 1 else (out[0], 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}
