"""Axis bookkeeping shared by the normalization layers (plain Python, no math)."""

from __future__ import annotations


def normalized_axes(layer_name: str, axis, input_shape: tuple) -> list[int]:
    """`axis` (int or list of ints) as a sorted list, each checked against the input rank.

    Keras fails later with an IndexError ("tuple index out of range"); the reference says which
    layer, which axis and which shape.
    """
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    rank = len(input_shape)
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank:
            raise ValueError(
                f"Layer '{layer_name}': axis {a!r} is out of bounds for input shape "
                f"{tuple(input_shape)} (rank {rank}). Received: axis={axis}"
            )
    if len({a % rank for a in axes}) != len(axes):
        raise ValueError(f"Layer '{layer_name}': repeated axis. Received: axis={axis}")
    return sorted(axes)


def check_axis_type(layer_name: str, axis) -> int | list:
    """An int stays an int, a list/tuple becomes a list (as Keras); anything else: TypeError."""
    if isinstance(axis, list | tuple):
        return list(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(
        f"{layer_name}: expected an int or a list/tuple of ints for the argument 'axis', "
        f"but received: {axis!r}"
    )


def broadcast_shape(shape: tuple, axes: list[int]) -> tuple:
    """The input's shape with 1 on every axis not in `axes` (per-feature weights broadcast)."""
    keep = {a % len(shape) for a in axes}
    return tuple(d if i in keep else 1 for i, d in enumerate(shape))
