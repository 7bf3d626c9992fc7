"""Losses, as keras.losses: per-sample functions and Loss classes (weighted, then reduced)."""

from __future__ import annotations

from typing import Any

from .functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .loss import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    reduce_weighted_values,
)

_FUNCTIONS = [
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy, categorical_hinge,
    cosine_similarity, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, poisson,
    sparse_categorical_crossentropy, squared_hinge,
]  # fmt: skip
_CLASSES = [
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalHinge,
    CosineSimilarity, Hinge, Huber, KLDivergence, LogCosh, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
    SparseCategoricalCrossentropy, SquaredHinge,
]  # fmt: skip
# Keras's lookup table (keras/src/losses/__init__.py ALL_OBJECTS_DICT): names and aliases.
_BY_NAME: dict[str, Any] = {f.__name__: f for f in _FUNCTIONS} | {c.__name__: c for c in _CLASSES}
_BY_NAME.update(
    {"bce": binary_crossentropy, "BCE": binary_crossentropy, "kld": kl_divergence,
     "KLD": kl_divergence, "mae": mean_absolute_error, "MAE": mean_absolute_error,
     "mse": mean_squared_error, "MSE": mean_squared_error,
     "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
     "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error}
)  # fmt: skip


def get(identifier: Any) -> Any:
    """A loss function or Loss from a name, a class (instantiated), a callable or None.

    Keras: keras.losses.get ("mse" gives the function mean_squared_error; "MeanSquaredError"
    gives an instance).
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Could not interpret loss identifier: {identifier}")
        identifier = _BY_NAME[identifier]
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier: {identifier}")


__all__ = sorted({f.__name__ for f in _FUNCTIONS} | {c.__name__ for c in _CLASSES}) + [
    "Loss", "LossFunctionWrapper", "get", "reduce_weighted_values",
]  # fmt: skip
