"""Metrics, as keras.metrics: state in Variables, `update_state` / `result` / `reset_state`."""

from __future__ import annotations

from typing import Any

from ..naming import to_snake_case
from .accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .confusion import AUC, Precision, Recall
from .f_score import F1Score, FBetaScore

_CLASSES = [Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError,
            Mean, Sum, Precision, Recall, AUC, FBetaScore, F1Score]  # fmt: skip
_FUNCTIONS = [accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
              top_k_categorical_accuracy]  # fmt: skip
_BY_NAME: dict[str, Any] = {c.__name__: c for c in _CLASSES}
_BY_NAME.update({to_snake_case(c.__name__): c for c in _CLASSES})
_BY_NAME.update({f.__name__: f for f in _FUNCTIONS})
_BY_NAME.update({"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
                 "MAE": MeanAbsoluteError, "fbeta_score": FBetaScore})  # fmt: skip


def get(identifier: Any) -> Any:
    """A Metric instance or a metric function from a name, class, instance or callable.

    Keras: keras.metrics.get (a class name gives a new instance with its default name).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Could not interpret metric identifier: {identifier}")
        identifier = _BY_NAME[identifier]
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


__all__ = [c.__name__ for c in _CLASSES] + [f.__name__ for f in _FUNCTIONS]
__all__ += ["Metric", "MeanMetricWrapper", "get"]
