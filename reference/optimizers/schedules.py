"""Learning-rate schedules, as keras.optimizers.schedules: lr = schedule(step).

Keras converts the Python-float initial rate with `convert_to_tensor`, which gives float32 even
under `set_floatx("float64")`; every schedule here computes in float32 the same way, so a
float64 optimizer sees the same float32-rounded rate as Keras.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

F32 = np.float32


class LearningRateSchedule:
    """Base class: `__call__(step)` returns the learning rate (a float32 scalar)."""

    def __call__(self, step: Any) -> np.ndarray:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        """Keras: LearningRateSchedule.from_config: cls(**config)."""
        return cls(**config)


def _check_steps(name: str, value: Any) -> None:
    if not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(
            f"{name}: argument `decay_steps` must be > 0. Received: decay_steps={value}"
        )


class ExponentialDecay(LearningRateSchedule):
    """Computes: lr0 * rate ** p, p = step / decay_steps (floor(p) with staircase).

    Keras: keras.optimizers.schedules.ExponentialDecay(initial_learning_rate, decay_steps,
    decay_rate, staircase=False, name="ExponentialDecay").
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):  # fmt: skip
        _check_steps("ExponentialDecay", decay_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                            decay_rate=decay_rate, staircase=staircase, name=name)  # fmt: skip
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase

    def __call__(self, step):
        p = F32(step) / F32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return F32(self.initial_learning_rate) * np.power(F32(self.decay_rate), p)


class InverseTimeDecay(LearningRateSchedule):
    """Computes: lr0 / (1 + rate * p), p = step / decay_steps (floor(p) with staircase).

    Keras: keras.optimizers.schedules.InverseTimeDecay(initial_learning_rate, decay_steps,
    decay_rate, staircase=False).
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):  # fmt: skip
        _check_steps("InverseTimeDecay", decay_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                            decay_rate=decay_rate, staircase=staircase, name=name)  # fmt: skip
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase

    def __call__(self, step):
        p = F32(step) / F32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return F32(self.initial_learning_rate) / (F32(1) + F32(self.decay_rate) * p)


class PolynomialDecay(LearningRateSchedule):
    """Computes: (lr0 - end) * (1 - s / d) ** power + end, s = min(step, d) (or, with cycle,
    d = decay_steps * ceil(step / decay_steps), 1 at step 0).

    Keras: keras.optimizers.schedules.PolynomialDecay(initial_learning_rate, decay_steps,
    end_learning_rate=0.0001, power=1.0, cycle=False).
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):  # fmt: skip
        _check_steps("PolynomialDecay", decay_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                            end_learning_rate=end_learning_rate, power=power, cycle=cycle,
                            name=name)  # fmt: skip
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle

    def __call__(self, step):
        lr0, end = F32(self.initial_learning_rate), F32(self.end_learning_rate)
        s, d = F32(step), F32(self.decay_steps)
        if self.cycle:
            d = d * (F32(1) if s == 0 else np.ceil(s / F32(self.decay_steps)))
        else:
            s = np.minimum(s, d)
        return (lr0 - end) * np.power(F32(1) - s / d, F32(self.power)) + end


class CosineDecay(LearningRateSchedule):
    """Computes: without warmup, lr0 * ((1 - alpha) * c + alpha), c = (1 + cos(pi * s / d)) / 2,
    s = min(step, d). With warmup_target: linear from lr0 to the target over warmup_steps,
    then the cosine from the target over decay_steps.

    Keras: keras.optimizers.schedules.CosineDecay(initial_learning_rate, decay_steps, alpha=0.0,
    name="CosineDecay", warmup_target=None, warmup_steps=0).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):  # fmt: skip
        _check_steps("CosineDecay", decay_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                            alpha=alpha, name=name, warmup_target=warmup_target,
                            warmup_steps=warmup_steps)  # fmt: skip
        self.initial_learning_rate, self.decay_steps, self.alpha = (
            initial_learning_rate, decay_steps, alpha)  # fmt: skip
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def _decay(self, s, d, start):
        # TF's float32 cos is correctly rounded; NumPy's SIMD float32 cos can be an ulp off.
        angle = F32(math.pi) * (s / d)
        cosine = F32(0.5) * (F32(1) + np.cos(np.float64(angle)).astype(F32))
        return start * (F32(1 - self.alpha) * cosine + F32(self.alpha))

    def __call__(self, step):
        lr0, d, s = F32(self.initial_learning_rate), F32(self.decay_steps), F32(step)
        if self.warmup_target is None:
            return self._decay(np.minimum(s, d), d, lr0)
        target, w = F32(self.warmup_target), F32(self.warmup_steps)
        s = np.minimum(s, d + w)
        if s < w:
            return (target - lr0) * (s / w) + lr0
        return self._decay(s - w, d, target)


class PiecewiseConstantDecay(LearningRateSchedule):
    """Computes: values[i] for boundaries[i-1] < step <= boundaries[i] (values[0] up to the first
    boundary, values[-1] after the last).

    Keras: keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values).
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: the length of boundaries should be 1 less than the "
                f"length of values. Received: boundaries={boundaries}, values={values}"
            )
        self._config = dict(boundaries=boundaries, values=values, name=name)
        self.boundaries, self.values = list(boundaries), list(values)

    def __call__(self, step):
        dtype = np.asarray(F32(self.values[0]) if isinstance(self.values[0], float)
                           else self.values[0]).dtype  # fmt: skip
        edges = [-math.inf, *self.boundaries, math.inf]
        for lo, hi, value in zip(edges[:-1], edges[1:], self.values, strict=True):
            if lo < step <= hi:
                return np.asarray(value, dtype=dtype)
        return np.asarray(self.values[-1], dtype=dtype)


__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]
