"""Callbacks, as keras.callbacks: hooks called by `fit` around epochs and batches."""

from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .model_checkpoint import ModelCheckpoint

__all__ = ["Callback", "CallbackList", "CSVLogger", "EarlyStopping", "History",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau",
           "TerminateOnNaN"]  # fmt: skip
