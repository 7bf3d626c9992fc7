"""Metrics on confusion-matrix counts at thresholds (Keras's confusion_metrics.py)."""

from __future__ import annotations

import numpy as np

from ..losses.functions import _same_rank
from .base import Metric, _plain


class _Confusion(Metric):
    """Counts at each threshold: a prediction is positive when y_pred > threshold (Keras's
    update_confusion_matrix_variables; y_true is cast to bool, sample weights broadcast)."""

    _KINDS: tuple = ()
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if top_k is not None:
            raise ValueError(f"{type(self).__name__}: top_k is not supported by the reference.")
        self.init_thresholds, self.class_id = thresholds, class_id
        listed = isinstance(thresholds, list | tuple)
        self.thresholds = (
            list(thresholds) if listed else [0.5 if thresholds is None else thresholds]
        )
        for t in self.thresholds:
            if not 0 <= t <= 1:
                raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
        self._scalar = not listed
        for kind in self._KINDS:
            setattr(self, kind, self.add_variable((len(self.thresholds),), name=kind))

    def get_config(self) -> dict:
        """Keras's keys: the base config, then the constructor's thresholds, top_k, class_id."""
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": None,
                "class_id": self.class_id}  # fmt: skip

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _same_rank(_plain(y_true), _plain(y_pred).astype(self.dtype))
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        if np.any((y_pred < 0) | (y_pred > 1)):
            raise ValueError(f"{type(self).__name__}: predictions must be in [0, 1].")
        truth = y_true.astype(bool)
        w = (
            np.ones_like(y_pred)
            if sample_weight is None
            else np.broadcast_to(
                _same_rank(y_pred, np.asarray(sample_weight, self.dtype))[1], y_pred.shape
            )
        )
        for i, t in enumerate(self.thresholds):
            positive = y_pred > t
            counts = {"true_positives": truth & positive, "false_positives": ~truth & positive,
                      "false_negatives": truth & ~positive}  # fmt: skip
            for kind in self._KINDS:
                var = getattr(self, kind)
                value = var.numpy()
                value[i] += np.sum(w * counts[kind], dtype=self.dtype)
                var.assign(value)

    def _ratio(self, num, other):
        num, den = getattr(self, num).value, getattr(self, num).value + getattr(self, other).value
        out = np.where(den > 0, num / np.where(den > 0, den, 1), 0).astype(self.dtype)
        return out[0] if self._scalar else out


class Precision(_Confusion):
    """Computes: tp / (tp + fp) at each threshold (0.5 by default), tp and fp weighted counts.

    Keras: keras.metrics.Precision(thresholds=None, top_k=None, class_id=None, name=None).
    Differences: top_k is not supported.
    """

    _KINDS = ("true_positives", "false_positives")

    def result(self):
        return self._ratio("true_positives", "false_positives")


class Recall(_Confusion):
    """Computes: tp / (tp + fn) at each threshold (0.5 by default).

    Keras: keras.metrics.Recall(thresholds=None, top_k=None, class_id=None, name=None).
    Differences: top_k is not supported.
    """

    _KINDS = ("true_positives", "false_negatives")

    def result(self):
        return self._ratio("true_positives", "false_negatives")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _div_no_nan(a, b):
    """Keras's ops.divide_no_nan: a / b, 0 where b == 0."""
    return np.where(b == 0, 0, a / np.where(b == 0, 1, b)).astype(np.result_type(a, b))


class AUC(Metric):
    """Area under the ROC or PR curve, a Riemann sum over `num_thresholds` confusion counts.

    Computes: thresholds t = [-eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps] (or [-eps, *sorted(
    thresholds), 1 + eps]); per threshold, weighted counts tp, fp, tn, fn of y_true (as bool)
    against y_pred > t (sigmoid(y_pred) with from_logits). With evenly spaced thresholds Keras
    counts by buckets instead: p (clipped to [0, 1]) falls in bucket max(ceil(p (n-1)) - 1, 0),
    and the counts are reverse cumulative sums of the per-bucket weights; fn and tn are the
    totals minus tp and fp. result(): x, y = (fpr, recall) for ROC, (recall, precision) for PR
    (each a divide-no-nan); terms (x[i] - x[i+1]) * h with h the mean ("interpolation"), min
    ("minoring") or max ("majoring") of y[i], y[i+1]; PR with interpolation uses Davis &
    Goadrich's closed form (Keras's interpolate_pr_auc). multi_label: counts per label (shape
    (n, labels)), the AUC per label, then their mean or label_weights-weighted mean; otherwise
    all labels are flattened together and label_weights weight the counts.
    Keras: keras.metrics.AUC(num_thresholds=200, curve="ROC", summation_method="interpolation",
    name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
    label_weights=None, from_logits=False); variables true_positives, false_positives,
    true_negatives, false_negatives (created at the first update when multi_label without
    num_labels).
    Differences: curve="PRGAIN" is not supported (ValueError).
    """

    _direction = "up"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(
                f'AUC: invalid `curve` argument value "{curve}". Expected one of: '
                "['ROC', 'PR'] (PRGAIN is not supported by the reference)."
            )
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'AUC: invalid `summation_method` argument value "{summation_method}"'
                ". Expected one of: ['interpolation', 'majoring', 'minoring']"
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            # Keras's is_evenly_distributed_thresholds
            full = np.array([0.0, *thresholds, 1.0])
            even = np.arange(len(full), dtype=np.float32) / (len(full) - 1)
            self._evenly = len(full) >= 3 and bool(np.allclose(full, even, atol=1e-7))
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    "AUC: argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - 1e-7, *thresholds, 1.0 + 1e-7])
        self.curve, self.summation_method = curve, summation_method
        super().__init__(name=name, dtype=dtype)
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = (
            None if label_weights is None else np.asarray(label_weights, dtype=self.dtype)
        )
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        elif num_labels:
            raise ValueError("AUC: `num_labels` is needed only when `multi_label` is True.")
        else:
            self._build(None)

    @property
    def thresholds(self) -> list:
        return list(self._thresholds)

    def _build(self, shape) -> None:
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    "AUC: `y_pred` must have rank 2 when `multi_label=True`. Found rank "
                    f"{len(shape)}. Full shape received for `y_pred`: {shape}"
                )
            self._num_labels = shape[1]
        var_shape = (
            (self.num_thresholds, self._num_labels) if self.multi_label else (self.num_thresholds,)
        )
        for kind in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, kind, self.add_variable(var_shape, name=kind))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _plain(y_true), _plain(y_pred)
        if not self._built:
            self._build(y_pred.shape)
        if self.multi_label and y_pred.shape[-1] != self._num_labels:
            raise ValueError(
                f"AUC: y_pred has {y_pred.shape[-1]} labels, the metric was built "
                f"for {self._num_labels}."
            )
        y_true, y_pred = y_true.astype(self.dtype), y_pred.astype(self.dtype)
        if self._from_logits:
            y_pred = _sigmoid(y_pred)
        y_pred, y_true = _same_rank(y_pred, y_true)
        if np.shape(y_true) != np.shape(y_pred):
            raise ValueError(
                f"AUC: y_true of shape {np.shape(y_true)} does not match y_pred of "
                f"shape {np.shape(y_pred)}."
            )
        w = 1.0
        if sample_weight is not None:
            sw = np.expand_dims(np.asarray(sample_weight, dtype=self.dtype), -1)
            w = np.broadcast_to(_same_rank(y_true, sw, expand_rank_1=False)[1], y_pred.shape)
        if self.label_weights is not None and not self.multi_label:
            w = w * np.broadcast_to(self.label_weights[None], y_pred.shape)
        w = np.broadcast_to(np.asarray(w, self.dtype), y_pred.shape)
        truth = y_true.astype(bool)
        if not self.multi_label:
            truth, y_pred, w = truth.reshape(-1, 1), y_pred.reshape(-1, 1), w.reshape(-1, 1)
        pos, neg = (truth * w).astype(self.dtype), ((1.0 - truth) * w).astype(self.dtype)
        if self._evenly:
            tp, fp = self._bucket_counts(y_pred, pos, neg)
            fn, tn = np.sum(pos, 0) - tp, np.sum(neg, 0) - fp
        else:
            t = self._thresholds.astype(self.dtype)[:, None, None]
            positive = y_pred[None] > t  # (thresholds, samples, labels)
            tp, fp = np.sum(np.where(positive, pos, 0), 1), np.sum(np.where(positive, neg, 0), 1)
            fn, tn = np.sum(np.where(~positive, pos, 0), 1), np.sum(np.where(~positive, neg, 0), 1)
        for kind, counts in (
            ("true_positives", tp),
            ("false_positives", fp),
            ("true_negatives", tn),
            ("false_negatives", fn),
        ):
            var = getattr(self, kind)
            var.assign(var.value + counts.reshape(var.shape).astype(self.dtype))

    def _bucket_counts(self, y_pred, pos, neg):
        """Keras's _update_confusion_matrix_variables_optimized: tp, fp per threshold."""
        n = self.num_thresholds
        p = np.clip(y_pred, 0.0, 1.0)
        bucket = np.maximum(np.ceil(p * (np.asarray(n, self.dtype) - 1)) - 1, 0).astype(int)
        out = []
        for weights in (pos, neg):
            sums = np.zeros((n, y_pred.shape[1]), self.dtype)
            for j in range(y_pred.shape[1]):
                sums[:, j] = np.bincount(bucket[:, j], weights[:, j], minlength=n)[:n]
            out.append(np.flip(np.cumsum(np.flip(sums, 0), 0), 0).astype(self.dtype))
        return out

    def _by_label(self, terms):
        if not self.multi_label:
            return np.sum(terms)
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return np.mean(by_label)
        return _div_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))

    def _interpolate_pr_auc(self):
        tp, fp, fn = (
            self.true_positives.value,
            self.false_positives.value,
            self.false_negatives.value,
        )
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _div_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where(
            (p[:-1] > 0) & (p[1:] > 0),
            _div_no_nan(p[:-1], np.maximum(p[1:], 0)),
            np.ones_like(p[1:]),
        )
        increments = _div_no_nan(
            slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)
        )
        return self._by_label(increments)

    def result(self):
        if not self._built:
            return np.zeros((), self.dtype)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return np.asarray(self._interpolate_pr_auc(), self.dtype)
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = _div_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _div_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _div_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return np.asarray(self._by_label((x[:-1] - x[1:]) * heights), self.dtype)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
