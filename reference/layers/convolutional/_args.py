"""Argument checks shared by the convolution and pooling layers (Keras's standardize_* helpers,
with messages that name the layer and the value received)."""

from __future__ import annotations

from typing import Any

from ... import config


def int_tuple(layer: str, name: str, value: Any, rank: int, allow_zero: bool = False) -> tuple:
    """An int or a sequence of `rank` ints -> tuple of `rank` positive (or >= 0) ints."""
    items = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    low = 0 if allow_zero else 1
    if (
        items is None
        or len(items) != rank
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= low for v in items)
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{layer}: the `{name}` argument must be a {kind} int or a tuple of {rank} {kind} "
            f"ints. Received: {name}={value!r}"
        )
    return items


def padding_mode(layer: str, padding: Any, allowed: tuple) -> str:
    value = str(padding).lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(
            f"{layer}: the `padding` argument must be one of {allowed}. "
            f"Received: padding={padding!r}"
        )
    return value


def data_format(layer: str, value: Any) -> str:
    try:
        return config.standardize_data_format(value)
    except ValueError:
        raise ValueError(
            f"{layer}: the `data_format` argument must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={value!r}"
        ) from None


def check_rank(layer: str, input_shape: tuple, rank: int) -> None:
    if len(input_shape) != rank + 2:
        raise ValueError(
            f"{layer}: expected an input of rank {rank + 2} (batch, {rank} spatial axes, "
            f"channels). Received: input_shape={tuple(input_shape)}"
        )
