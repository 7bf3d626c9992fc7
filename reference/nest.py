"""Nested structures of values (lists, tuples, dicts), flattened and rebuilt as tf.nest does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def flatten(structure: Any) -> list:
    """The leaves of nested lists, tuples and dicts (dicts in insertion order)."""
    if isinstance(structure, dict):
        return [x for k in structure for x in flatten(structure[k])]
    if isinstance(structure, list | tuple):
        return [x for e in structure for x in flatten(e)]
    return [structure]


def pack_sequence_as(structure: Any, flat: list) -> Any:
    """`structure` with its leaves replaced, in order, by the elements of `flat`."""
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            return {k: build(v) for k, v in s.items()}
        if isinstance(s, list | tuple):
            return type(s)(build(e) for e in s)
        return next(it)

    return build(structure)


def map_structure(fn: Callable, structure: Any) -> Any:
    return pack_sequence_as(structure, [fn(x) for x in flatten(structure)])
