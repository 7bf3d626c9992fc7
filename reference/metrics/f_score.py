"""F-beta and F1 scores, as keras.metrics.FBetaScore / F1Score (Keras's f_score_metrics.py)."""

from __future__ import annotations

import numpy as np

from .base import Metric, _plain

_EPSILON = 1e-7  # Keras's backend.epsilon() as a Python float, in result() as Keras has it


class FBetaScore(Metric):
    """F-beta score per class, or averaged (micro, macro, weighted).

    Computes: y_pred is binarised: > threshold, or, with threshold None, 1 where y_pred equals
    its row's maximum and |y_pred| > 1e-9. Weighted sums (axis 0 per class; over everything
    for "micro") accumulate tp = sum(w p t), fp = sum(w p (1 - t)), fn = sum(w (1 - p) t) and
    intermediate_weights = sum(w t) (w the sample weight per row, 1 without one).
    result(): P = tp / (tp + fp + eps), R = tp / (tp + fn + eps),
    F = (1 + beta^2) P R / (beta^2 P + R + eps); None: F per class; "micro"/"macro": mean(F);
    "weighted": sum(F * iw / (sum(iw) + eps)).
    Keras: keras.metrics.FBetaScore(average=None, beta=1.0, threshold=None,
    name="fbeta_score", dtype=None); the variables are created at the first update, shaped
    (classes,) or () for "micro". Inputs must be 2-D (batch, classes).
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        cls = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                f"{cls}: invalid `average` argument value. Expected one of: {{None, "
                f"'micro', 'macro', 'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                f"{cls}: invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(
                f"{cls}: invalid `beta` argument value. It should be > 0. Received: beta={beta}"
            )
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    f"{cls}: invalid `threshold` argument value. It should be a "
                    f"Python float. Received: threshold={threshold} of type "
                    f"'{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    f"{cls}: invalid `threshold` argument value. It should verify "
                    f"0 < threshold <= 1. Received: threshold={threshold}"
                )
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, true_shape, pred_shape) -> None:
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={pred_shape} and y_true.shape={true_shape}."
            )
        shape = () if self.average == "micro" else (pred_shape[-1],)
        for kind in (
            "true_positives",
            "false_positives",
            "false_negatives",
            "intermediate_weights",
        ):
            setattr(self, kind, self.add_variable(shape, name=kind))
        self._classes = pred_shape[-1]
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _plain(y_true).astype(self.dtype)
        y_pred = _plain(y_pred).astype(self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape or y_pred.shape[-1] != self._classes:
            raise ValueError(
                f"{type(self).__name__}: expected y_true and y_pred of shape (batch, "
                f"{self._classes}). Received: y_true.shape={y_true.shape}, "
                f"y_pred.shape={y_pred.shape}"
            )
        if self.threshold is None:
            top = np.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= top) & (np.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(self.dtype)
        w = None if sample_weight is None else np.asarray(sample_weight, self.dtype)

        def weighted_sum(value):
            if w is not None:
                value = value * np.expand_dims(w, 1)
            return np.sum(value, axis=self.axis)

        for kind, value in (
            ("true_positives", y_pred * y_true),
            ("false_positives", y_pred * (1 - y_true)),
            ("false_negatives", (1 - y_pred) * y_true),
            ("intermediate_weights", y_true),
        ):
            var = getattr(self, kind)
            var.assign(var.value + weighted_sum(value).astype(self.dtype))

    def result(self):
        if not self._built:
            return np.zeros((), self.dtype)
        tp, fp, fn = (
            self.true_positives.value,
            self.false_positives.value,
            self.false_negatives.value,
        )
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta**2
        f_score = precision * recall / (b2 * precision + recall + _EPSILON) * (1 + b2)
        if self.average == "weighted":
            iw = self.intermediate_weights.value
            return np.sum(f_score * (iw / (np.sum(iw) + _EPSILON)))
        if self.average is not None:
            return np.mean(f_score)
        return f_score

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F-beta with beta = 1: 2 P R / (P + R + eps) (see FBetaScore).

    Keras: keras.metrics.F1Score(average=None, threshold=None, name="f1_score", dtype=None).
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
