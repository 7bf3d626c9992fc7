"""What UpSampling, ZeroPadding and Cropping share: the spatial axes of a channels_last or
channels_first input, and the argument forms Keras accepts (an int, one int per axis, or a
(before, after) pair per axis)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...input_spec import InputSpec
from ...layer import Layer
from ..convolutional import _args


def pairs(layer: str, name: str, value: Any, rank: int) -> tuple:
    """int -> ((v, v),) * rank; (a, b, ...) one int per axis -> ((a, a), (b, b), ...);
    ((a0, a1), ...) -> as given; rank 1 also takes (before, after). Non-negative ints."""
    bad = ValueError(
        f"{layer}: `{name}` must be an int, a tuple of {rank} ints or a tuple of {rank} "
        f"(before, after) pairs of non-negative ints. Received: {name}={value!r}"
    )

    def ok(v):
        return isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0

    if ok(value):
        return ((int(value), int(value)),) * rank
    try:
        items = tuple(value)
    except TypeError:
        raise bad from None
    if rank == 1 and len(items) == 2 and all(ok(v) for v in items):
        return ((int(items[0]), int(items[1])),)
    if len(items) != rank:
        raise bad
    out = []
    for item in items:
        if ok(item):
            out.append((int(item), int(item)))
        elif isinstance(item, tuple | list) and len(item) == 2 and all(ok(v) for v in item):
            out.append((int(item[0]), int(item[1])))
        else:
            raise bad
    return tuple(out)


class SpatialLayer(Layer):
    """A layer over the `rank` spatial axes of (batch, *spatial, channels) inputs (or
    (batch, channels, *spatial) for channels_first)."""

    rank = 2

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        data_format = _args.data_format(type(self).__name__, data_format)
        super().__init__(**kwargs)
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self) -> tuple:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def _map_shape(self, input_shape, fn) -> tuple:
        """input_shape with each spatial size n replaced by fn(i, n) (None stays None)."""
        shape = list(input_shape)
        for i, axis in enumerate(self._axes()):
            shape[axis] = None if shape[axis] is None else fn(i, shape[axis])
        return tuple(shape)
