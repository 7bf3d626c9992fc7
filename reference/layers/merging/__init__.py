"""Merging layers (keras/src/layers/merging/)."""

from .concatenate import Concatenate
from .dot import Dot
from .elementwise import Add, Average, Maximum, Minimum, Multiply, Subtract

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract"]
