"""Reverse-mode autodiff over plain NumPy: GradientTape, TrackedArray and the VJP table."""

from . import vjps  # noqa: F401  (fills the rule table)
from .tape import GradientTape, stop_gradient, vjp
from .tracked import MissingVJPError, TrackedArray, is_recording, paused, unbroadcast
from .vjps import defvjp, defvjp_argnum, defvjp_sequence, primitive, rule_for

__all__ = [
    "GradientTape",
    "MissingVJPError",
    "TrackedArray",
    "defvjp",
    "defvjp_argnum",
    "defvjp_sequence",
    "is_recording",
    "paused",
    "primitive",
    "rule_for",
    "stop_gradient",
    "unbroadcast",
    "vjp",
]
