"""Global{Average,Max}Pooling{1,2,3}D: a mean or max over all spatial axes
(keras/src/layers/pooling/global_*_pooling*d.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...input_spec import InputSpec
from ...layer import Layer
from ..convolutional import _args


class BaseGlobalPooling(Layer):
    """A mean or max over every spatial axis, per channel.

    Computes: y[n, c] = mean_i x[n, i, c] (or max_i); keepdims keeps the spatial axes as 1s.
    VJP: traced: mean: dy / prod(spatial); max: np.max's rule, dy split evenly among tied maxima
        (TF's reduce_max, which is what Keras's global max pooling is; unlike MaxPooling's
        first-maximum rule).
    Keras: keras.layers.Global{Average,Max}Pooling{1,2,3}D(data_format=None, keepdims=False).
    Differences: GlobalAveragePooling1D takes no `mask`.
    """

    reduce = staticmethod(np.mean)

    def __init__(
        self, rank: int, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ):
        data_format = _args.data_format(type(self).__name__, data_format)
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = data_format
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=rank + 2)

    def _axes(self) -> tuple:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def call(self, inputs):
        return self.reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i not in axes)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


def _make(name: str, rank: int, reduce) -> type:
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        BaseGlobalPooling.__init__(self, rank, data_format, keepdims, **kwargs)

    doc = f"Global {'average' if reduce is np.mean else 'max'} pooling over {rank} spatial axes."
    return type(
        name,
        (BaseGlobalPooling,),
        {"__init__": __init__, "__doc__": doc, "reduce": staticmethod(reduce)},
    )


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Global average pooling over the steps, mask-aware.

    Computes: mean(x, steps); with a mask m (batch, steps): sum(where(m, x, 0), steps) /
    sum(m, steps) -- a fully masked row divides 0 by 0 (NaN), as Keras. The output has no mask.
    VJP: traced (where, sum, divide).
    Keras: keras.layers.GlobalAveragePooling1D(data_format=None, keepdims=False), with
    supports_masking=True (the only global pooling layer that reads a mask).
    """

    reduce = staticmethod(np.mean)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = 1 if self.data_format == "channels_last" else 2
        kept = np.expand_dims(np.asarray(mask).astype(bool), 3 - steps)
        summed = np.sum(np.where(kept, inputs, 0), axis=steps, keepdims=self.keepdims)
        return summed / np.sum(kept.astype(summed.dtype), axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask=None):
        return None


GlobalAveragePooling2D = _make("GlobalAveragePooling2D", 2, np.mean)
GlobalAveragePooling3D = _make("GlobalAveragePooling3D", 3, np.mean)
GlobalMaxPooling1D = _make("GlobalMaxPooling1D", 1, np.max)
GlobalMaxPooling2D = _make("GlobalMaxPooling2D", 2, np.max)
GlobalMaxPooling3D = _make("GlobalMaxPooling3D", 3, np.max)
