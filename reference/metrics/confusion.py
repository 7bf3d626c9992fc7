"""Metrics on confusion-matrix counts at thresholds (Keras's confusion_metrics.py)."""

from __future__ import annotations

import numpy as np

from .. import config
from ..losses.functions import _same_rank
from .base import Metric, _plain

# Keras's metrics_utils.NEG_INF: the value of a prediction outside the top k, and the default
# threshold with top_k (so every kept prediction counts as positive).
NEG_INF = -1e10


def _filter_top_k(name, y_pred, k):
    """Keras's _filter_top_k: the k largest entries of each last-axis row kept, the rest NEG_INF.

    Ties go to the lowest index, as tf.math.top_k's (a stable sort of -y_pred).
    """
    if k > y_pred.shape[-1]:
        raise ValueError(
            f"{name}: top_k={k} needs at least {k} predictions on the last axis; received "
            f"y_pred of shape {y_pred.shape}."
        )
    idx = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(y_pred.shape, bool)
    np.put_along_axis(keep, idx, True, axis=-1)
    return np.where(keep, y_pred, np.asarray(NEG_INF, y_pred.dtype))


def _evenly_spaced(values) -> bool:
    """Keras's is_evenly_distributed_thresholds: n >= 3 values within 1e-7 of 0, 1/(n-1), ..., 1."""
    n = len(values)
    return n >= 3 and np.allclose(values, np.arange(n, dtype=np.float32) / (n - 1), atol=1e-7)


class _Confusion(Metric):
    """Counts at each threshold: a prediction is positive when y_pred > threshold (Keras's
    update_confusion_matrix_variables; y_true is cast to bool, sample weights broadcast)."""

    _KINDS: tuple = ()
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        cls = type(self).__name__
        if top_k is not None:
            # Keras takes any top_k here and fails in tf.math.top_k at the first update; 0 is
            # valid there (nothing kept, so nothing is positive).
            if not hasattr(top_k, "__index__"):
                raise TypeError(f"{cls}: top_k must be an int or None. Received: top_k={top_k!r}")
            if top_k < 0:
                raise ValueError(f"{cls}: top_k must be >= 0. Received: top_k={top_k}")
        listed = isinstance(thresholds, list | tuple)
        values = list(thresholds) if listed else [thresholds]
        for t in values if thresholds is not None else []:
            if t is None or not 0 <= t <= 1:
                raise ValueError(f"{cls}: thresholds must be in [0, 1]. Received: {thresholds}")
        super().__init__(name=name, dtype=dtype)
        # Keras's add_variable without a dtype: the counts are floatx whatever the metric's dtype
        self._vdtype = config.floatx()
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = [default] if thresholds is None else values
        self._evenly = _evenly_spaced(self.thresholds)
        for kind in self._KINDS:
            var = self.add_variable((len(self.thresholds),), dtype=self._vdtype, name=kind)
            setattr(self, kind, var)

    def get_config(self) -> dict:
        """Keras's keys: the base config, then the constructor's thresholds, top_k, class_id."""
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}  # fmt: skip

    def update_state(self, y_true, y_pred, sample_weight=None):
        cls = type(self).__name__
        y_true, y_pred = _plain(y_true).astype(self._vdtype), _plain(y_pred).astype(self._vdtype)
        y_pred, y_true = _same_rank(y_pred, y_true)
        if np.any((y_pred < 0) | (y_pred > 1)):
            raise ValueError(f"{cls}: predictions must be in [0, 1].")
        sw = None
        if sample_weight is not None:
            # Keras: the weight gets a last axis, then is squeezed/expanded against y_true
            sw = np.expand_dims(np.asarray(sample_weight, self._vdtype), -1)
            sw = _same_rank(y_true, sw, expand_rank_1=False)[1]
        if self.top_k is not None:
            y_pred = _filter_top_k(cls, y_pred, self.top_k)
        if self.class_id is not None:
            if y_pred.ndim == 1:
                raise ValueError(
                    f"{cls}: with class_id, y_pred must have shape (num_samples, num_classes)"
                    f"; received shape {y_pred.shape}."
                )
            y_true, y_pred = y_true[..., self.class_id, None], y_pred[..., self.class_id, None]
        try:
            w = np.ones_like(y_pred) if sw is None else np.broadcast_to(sw, y_pred.shape)
        except ValueError:
            raise ValueError(
                f"{cls}: sample_weight of shape {np.shape(sample_weight)} does not broadcast "
                f"to the predictions' shape {y_pred.shape}."
            ) from None
        truth = y_true.astype(bool)
        # TF's CPU kernels read subnormals as 0 (denormals-are-zero): 1e-45 is not > 0 in Keras
        y_pred = np.where(np.abs(y_pred) < np.finfo(y_pred.dtype).tiny, 0, y_pred)
        if self._evenly:  # Keras's buckets: positive at t_i iff ceil(p (n - 1)) - 1 >= i, which
            # is not always p > t_i in float (one ulp above 0.9: bucket 8, not above t_9)
            n1 = np.asarray(len(self.thresholds) - 1, self._vdtype)
            bucket = np.ceil(np.clip(y_pred, 0, 1) * n1) - 1
        added = {kind: np.zeros(len(self.thresholds), self._vdtype) for kind in self._KINDS}
        for i, t in enumerate(self.thresholds):
            positive = bucket >= i if self._evenly else y_pred > np.asarray(t, self._vdtype)
            counts = {"true_positives": truth & positive, "false_positives": ~truth & positive,
                      "false_negatives": truth & ~positive}  # fmt: skip
            for kind in self._KINDS:
                added[kind][i] = np.sum(w * counts[kind], dtype=self._vdtype)
        for kind in self._KINDS:
            var = getattr(self, kind)
            var.assign(var.value + added[kind])

    def _ratio(self, num, other):
        num, den = getattr(self, num).value, getattr(self, num).value + getattr(self, other).value
        out = np.where(den > 0, num / np.where(den > 0, den, 1), 0).astype(self._vdtype)
        # Keras: a scalar whenever there is one threshold, [0.5] included
        return out[0] if len(self.thresholds) == 1 else out


class Precision(_Confusion):
    """Computes: tp / (tp + fp) at each threshold, tp and fp weighted counts (0 when 0 / 0).

    The counts, as Keras's update_confusion_matrix_variables: with top_k, each last-axis row of
    y_pred keeps its k largest entries (ties to the lowest index, as tf.math.top_k) and the
    others become NEG_INF = -1e10; then class_id picks column class_id of y_true and y_pred;
    a prediction is positive at threshold t when y_pred > t (subnormals read as 0, as TF's CPU
    kernels; with evenly spaced thresholds 0, 1/(n-1), ..., 1, Keras's bucket rule instead:
    positive at t_i when ceil(clip(y_pred, 0, 1) (n-1)) - 1 >= i). Thresholds default to 0.5,
    or NEG_INF with top_k (every kept prediction is positive). One threshold gives a scalar.
    Counts and result are floatx whatever `dtype` (Keras's variables take no dtype).
    Keras: keras.metrics.Precision(thresholds=None, top_k=None, class_id=None, name=None).
    Differences: a bad top_k (not an int, < 0) is a TypeError/ValueError at construction and a
    top_k above the number of classes a ValueError (Keras: TF errors at the first update);
    predictions outside [0, 1] are a ValueError (Keras counts them).
    """

    _KINDS = ("true_positives", "false_positives")

    def result(self):
        return self._ratio("true_positives", "false_positives")


class Recall(_Confusion):
    """Computes: tp / (tp + fn) at each threshold (0 when 0 / 0); counts as Precision's.

    With top_k, a label is recalled when its prediction is among the row's k largest (and
    above the thresholds, if given).
    Keras: keras.metrics.Recall(thresholds=None, top_k=None, class_id=None, name=None).
    Differences: as Precision's.
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
    Goadrich's closed form (Keras's interpolate_pr_auc). PRGAIN (precision-recall gain, Flach &
    Kull): with s = (tp + fn) / (tn + fp), x = max(1 - s fn / tp, 0) (recall gain, 0 where
    tp = 0), y = 1 - s fp / tp (precision gain, 1 where tp = 0), each division a divide-no-nan,
    then the same sums as ROC. multi_label: counts per label (shape (n, labels)), the AUC per
    label, then their mean or label_weights-weighted mean; otherwise all labels are flattened
    together and label_weights weight the counts. Counts are floatx whatever `dtype` (as Keras's
    variables); label_weights are `dtype`, so a float64 one makes a float64 result.
    Keras: keras.metrics.AUC(num_thresholds=200, curve="ROC", summation_method="interpolation",
    name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
    label_weights=None, from_logits=False); variables true_positives, false_positives,
    true_negatives, false_negatives (created at the first update when multi_label without
    num_labels).
    Differences: none known.
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):  # fmt: skip
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR", "PRGAIN"):
            raise ValueError(
                f'AUC: invalid `curve` argument value "{curve}". Expected one of: '
                "['ROC', 'PR', 'PRGAIN']"
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
            self._evenly = _evenly_spaced([0.0, *thresholds, 1.0])
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
        self._vdtype = config.floatx()  # the counts' dtype, as _Confusion's
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
            setattr(self, kind, self.add_variable(var_shape, dtype=self._vdtype, name=kind))
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
        if self._from_logits:  # Keras: the sigmoid in the input's float dtype, then the cast
            y_pred = _sigmoid(y_pred.astype(np.result_type(y_pred.dtype, np.float32)))
        y_true, y_pred = y_true.astype(self._vdtype), y_pred.astype(self._vdtype)
        y_pred, y_true = _same_rank(y_pred, y_true)
        if np.shape(y_true) != np.shape(y_pred):
            raise ValueError(
                f"AUC: y_true of shape {np.shape(y_true)} does not match y_pred of "
                f"shape {np.shape(y_pred)}."
            )
        w = 1.0
        if sample_weight is not None:
            sw = np.expand_dims(np.asarray(sample_weight, dtype=self._vdtype), -1)
            w = np.broadcast_to(_same_rank(y_true, sw, expand_rank_1=False)[1], y_pred.shape)
        if self.label_weights is not None and not self.multi_label:
            w = w * np.broadcast_to(self.label_weights[None], y_pred.shape)
        w = np.broadcast_to(np.asarray(w, self._vdtype), y_pred.shape)
        truth = y_true.astype(bool)
        if not self.multi_label:
            truth, y_pred, w = truth.reshape(-1, 1), y_pred.reshape(-1, 1), w.reshape(-1, 1)
        pos, neg = (truth * w).astype(self._vdtype), ((1.0 - truth) * w).astype(self._vdtype)
        if self._evenly:
            tp, fp = self._bucket_counts(y_pred, pos, neg)
            fn, tn = np.sum(pos, 0) - tp, np.sum(neg, 0) - fp
        else:
            t = self._thresholds.astype(self._vdtype)[:, None, None]
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
            var.assign(var.value + counts.reshape(var.shape).astype(self._vdtype))

    def _bucket_counts(self, y_pred, pos, neg):
        """Keras's _update_confusion_matrix_variables_optimized: tp, fp per threshold."""
        n = self.num_thresholds
        p = np.clip(y_pred, 0.0, 1.0)
        bucket = np.maximum(np.ceil(p * (np.asarray(n, self._vdtype) - 1)) - 1, 0).astype(int)
        out = []
        for weights in (pos, neg):
            sums = np.zeros((n, y_pred.shape[1]), self._vdtype)
            for j in range(y_pred.shape[1]):
                sums[:, j] = np.bincount(bucket[:, j], weights[:, j], minlength=n)[:n]
            out.append(np.flip(np.cumsum(np.flip(sums, 0), 0), 0).astype(self._vdtype))
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

    def _gains(self, tp, fp, tn, fn):
        """Keras's PRGAIN: recall gain and precision gain at each threshold."""
        one = np.ones((), self._vdtype)
        scale = _div_no_nan(tp + fn, tn + fp)  # P / N
        recall_gain = one - scale * _div_no_nan(fn, tp)
        precision_gain = one - scale * _div_no_nan(fp, tp)
        # no true positive: both gains diverge; Keras sets recall gain 0, precision gain 1, and
        # clips a negative recall gain (recall below the positive rate) to 0
        recall_gain = np.maximum(np.where(tp == 0, 0, recall_gain), 0).astype(self._vdtype)
        return recall_gain, np.where(tp == 0, one, precision_gain).astype(self._vdtype)

    def result(self):
        if not self._built:
            return np.zeros((), self.dtype)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return np.asarray(self._interpolate_pr_auc())
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = _div_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _div_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _div_no_nan(tp, tp + fp)
        else:
            x, y = self._gains(tp, fp, tn, fn)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return np.asarray(self._by_label((x[:-1] - x[1:]) * heights))

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
