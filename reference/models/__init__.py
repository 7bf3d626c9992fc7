"""Models, as keras.Model / keras.Sequential / keras.Input: graphs of layers, and training."""

from .functional import Functional
from .model import Model
from .sequential import Sequential
from .symbolic import Input, InputLayer, KerasTensor

__all__ = ["Functional", "Input", "InputLayer", "KerasTensor", "Model", "Sequential"]
