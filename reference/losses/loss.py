"""Loss classes: a per-sample function, then `sample_weight` and a reduction, as Keras 3's Loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _config, config
from .._config import keras_order
from ..naming import to_snake_case, unique_name
from . import functions as F
from .functions import REDUCTIONS, _same_rank, _tensor


def standardize_reduction(reduction: Any) -> Any:
    if reduction not in REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{set(REDUCTIONS)}. Received: reduction={reduction}"
        )
    return reduction


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Keras's reduce_weighted_values: weight (mask folded in), then reduce.

    Computes: v = values * sample_weight; "sum": sum(v); "sum_over_batch_size"/"mean":
    sum(v) / v.size; "mean_with_sample_weight": sum(v) / sum(sample_weight); None/"none": v.
    A mask (ignore_class) becomes a weight of size/count(mask) on valid entries for the means.
    """
    reduction = standardize_reduction(reduction)
    dtype = values.dtype
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        weight = 1.0
        if reduction in ("mean", "sum_over_batch_size"):
            valid = np.sum(mask, dtype=dtype)
            weight = mask.size / valid if valid else 0.0  # divide_no_nan
        float_mask = np.where(mask, weight, 0.0).astype(dtype)
        if sample_weight is not None:
            float_mask, sample_weight = _same_rank(float_mask, np.asarray(sample_weight, dtype))
            sample_weight = sample_weight * float_mask
        else:
            sample_weight = float_mask
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
        values, sample_weight = _same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or np.shape(values) in ((), (0,)):
        return values
    loss = np.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = np.sum(sample_weight).astype(dtype)
    else:
        divisor = np.asarray(np.prod(np.shape(values)), dtype=dtype)
    return loss / divisor if divisor else np.zeros_like(loss)  # divide_no_nan


class Loss:
    """Base class: `__call__` casts to the loss dtype, calls `call`, then weights and reduces.

    Computes: reduce(call(y_true, y_pred) * sample_weight).
    Keras: keras.losses.Loss(name=None, reduction="sum_over_batch_size", dtype=None).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self.dtype = np.dtype(dtype or config.floatx()).name

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = _tensor(y_pred, self.dtype)
        y_true = _tensor(y_true, self.dtype)
        losses = self.call(y_true, y_pred)
        return reduce_weighted_values(
            losses, sample_weight, self._mask(y_true, y_pred), self.reduction
        )

    def _mask(self, y_true, y_pred):
        return None

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement `call()`.")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A loss function with its keyword arguments, as a Loss (ranks aligned first, as Keras)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = _same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    _CONFIG_ORDER: tuple = ()  # Keras's key order where it differs from the arguments'

    def get_config(self) -> dict:
        return keras_order({**super().get_config(), **self._fn_kwargs}, self._CONFIG_ORDER)


def _wrapper(cls_name: str, fn, default_name: str, doc: str, **defaults):
    """A LossFunctionWrapper subclass whose constructor takes `defaults` as keyword arguments."""

    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, dtype=None,
                 **kwargs):  # fmt: skip
        params = dict(defaults)
        for key, value in zip(defaults, args, strict=False):
            params[key] = value
        unknown = set(kwargs) - set(defaults)
        if unknown or len(args) > len(defaults):
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(unknown)}")
        params.update(kwargs)
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype,
                                     **params)  # fmt: skip

    return type(cls_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc})


MeanSquaredError = _wrapper(
    "MeanSquaredError", F.mean_squared_error, "mean_squared_error", "Keras: MeanSquaredError."
)
MeanAbsoluteError = _wrapper(
    "MeanAbsoluteError", F.mean_absolute_error, "mean_absolute_error", "Keras: MeanAbsoluteError."
)
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError",
    F.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Keras: MeanAbsolutePercentageError.",
)
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError",
    F.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Keras: MeanSquaredLogarithmicError.",
)
Huber = _wrapper("Huber", F.huber, "huber_loss", "Keras: Huber(delta=1.0).", delta=1.0)
LogCosh = _wrapper("LogCosh", F.log_cosh, "log_cosh", "Keras: LogCosh.")
CosineSimilarity = _wrapper(
    "CosineSimilarity",
    F.cosine_similarity,
    "cosine_similarity",
    "Keras: CosineSimilarity(axis=-1).",
    axis=-1,
)
# Keras 3.15's CosineSimilarity and Huber return Loss.get_config(self): their axis and delta are
# not saved (and come back as the defaults).
CosineSimilarity.get_config = Huber.get_config = Loss.get_config
KLDivergence = _wrapper("KLDivergence", F.kl_divergence, "kl_divergence", "Keras: KLDivergence.")
Poisson = _wrapper("Poisson", F.poisson, "poisson", "Keras: Poisson.")
Hinge = _wrapper("Hinge", F.hinge, "hinge", "Keras: Hinge.")
SquaredHinge = _wrapper("SquaredHinge", F.squared_hinge, "squared_hinge", "Keras: SquaredHinge.")
CategoricalHinge = _wrapper(
    "CategoricalHinge", F.categorical_hinge, "categorical_hinge", "Keras: CategoricalHinge."
)
BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy",
    F.binary_crossentropy,
    "binary_crossentropy",
    "Keras: BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1).",
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
BinaryFocalCrossentropy = _wrapper(
    "BinaryFocalCrossentropy",
    F.binary_focal_crossentropy,
    "binary_focal_crossentropy",
    "Keras: BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25, gamma=2.0, "
    "from_logits=False, label_smoothing=0.0, axis=-1).",
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
BinaryFocalCrossentropy._CONFIG_ORDER = _config.BINARY_FOCAL_CROSSENTROPY
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy",
    F.categorical_crossentropy,
    "categorical_crossentropy",
    "Keras: CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1).",
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)


class SparseCategoricalCrossentropy(
    _wrapper(
        "SparseCategoricalCrossentropy",
        F.sparse_categorical_crossentropy,
        "sparse_categorical_crossentropy",
        "",
        from_logits=False,
        ignore_class=None,
    )
):
    """Keras: SparseCategoricalCrossentropy(from_logits=False, ignore_class=None).

    Labels equal to `ignore_class` get loss 0 and are left out of the mean (Keras's mask).
    Labels are not cast to the loss dtype (an int64 label stays exact)."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = y_true.numpy() if hasattr(y_true, "numpy") else np.asarray(y_true)
        losses = self.call(y_true, _tensor(y_pred, self.dtype))
        ignore = self._fn_kwargs["ignore_class"]
        mask = None
        if ignore is not None:
            labels = np.squeeze(y_true, -1) if y_true.ndim == losses.ndim + 1 else y_true
            mask = labels != ignore
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)
