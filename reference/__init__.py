"""A pure-NumPy reference of the Keras 3 layer abstraction, with gradients.

State is created in `build` with `add_weight`; computation is plain NumPy in `call`; gradients
come from `GradientTape`, which records NumPy calls through NumPy's own dispatch protocols.
Importing this package never imports tensorflow or keras.
"""

from . import (
    activations,
    autodiff,
    callbacks,
    config,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    models,
    nest,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from .autodiff import GradientTape, TrackedArray
from .input_spec import InputSpec
from .layer import Layer
from .models import Input, Model, Sequential
from .variable import Variable

__all__ = [
    "GradientTape",
    "Input",
    "InputSpec",
    "Layer",
    "Model",
    "Sequential",
    "TrackedArray",
    "Variable",
    "activations",
    "autodiff",
    "callbacks",
    "config",
    "constraints",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "nest",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "utils",
]
