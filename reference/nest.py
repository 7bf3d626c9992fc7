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
    return _build(structure, iter(flat))


def _build(s: Any, it) -> Any:
    # A module-level function, not a recursive closure: a closure that refers to itself is a
    # reference cycle, which would keep `flat` (gradients, activations) alive until a gc pass.
    if isinstance(s, dict):
        return {k: _build(v, it) for k, v in s.items()}
    if isinstance(s, list | tuple):
        items = [_build(e, it) for e in s]
        return type(s)(*items) if hasattr(s, "_fields") else type(s)(items)
    return next(it)


def map_structure(fn: Callable, structure: Any) -> Any:
    return pack_sequence_as(structure, [fn(x) for x in flatten(structure)])
