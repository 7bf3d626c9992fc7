"""Ftrl ("Follow The Regularized Leader"), as keras.optimizers.Ftrl, op for op."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Optimizer, _cast
from .optimizers import _base


class Ftrl(Optimizer):
    """FTRL-Proximal with Keras's online L2 (beta) and shrinkage terms.

    Computes, with p = -learning_rate_power (0.5 by default) and n the accumulator:
        l2 = l2_regularization_strength + beta / (2 lr)
        g~ = g + 2 * l2_shrinkage_regularization_strength * w
        n' = n + g^2                          (the plain g: shrinkage does not enter n)
        z += g~ - (n'^p - n^p) / lr * w
        q = n'^p / lr + 2 l2
        w = (clip(z, -l1, l1) - z) / q        (0 where |z| <= l1, else -(z - sign(z) l1) / q)
        n = n'
    Keras: keras.optimizers.Ftrl(learning_rate=0.001, learning_rate_power=-0.5,
    initial_accumulator_value=0.1, l1_regularization_strength=0.0,
    l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0, beta=0.0, ...).
    Slots: `accumulator` (starts at initial_accumulator_value, through float32 as Keras's
    Constant) and `linear` (z, zeros), interleaved per variable.
    Differences from the paper (McMahan et al. 2013): the paper's alpha is lr, and its
    sigma_t = (sqrt(n') - sqrt(n)) / alpha; Keras generalises sqrt to n^p.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs: Any):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        # Keras's checks and messages, verbatim
        for name, value, ok, need in (
            ("initial_accumulator_value", initial_accumulator_value, initial_accumulator_value >= 0,
             "positive or zero"),
            ("learning_rate_power", learning_rate_power, learning_rate_power <= 0,
             "negative or zero"),
            ("l1_regularization_strength", l1_regularization_strength,
             l1_regularization_strength >= 0, "positive or zero"),
            ("l2_regularization_strength", l2_regularization_strength,
             l2_regularization_strength >= 0, "positive or zero"),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
             l2_shrinkage_regularization_strength >= 0, "positive or zero"),
        ):  # fmt: skip
            if not ok:
                raise ValueError(f"Ftrl: `{name}` needs to be {need}. Received: {name}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables):
        super().build(variables)
        value = self.initial_accumulator_value

        def init(shape, dtype=None):
            return np.full(shape, _cast(value, dtype))

        accumulators, linears = [], []
        for v in variables:  # Keras: add_optimizer_variables(["accumulator", "linear"])
            accumulators.append(self.add_variable_from_reference(v, "accumulator", init))
            linears.append(self.add_variable_from_reference(v, "linear", "zeros"))
        self._accumulators, self._linears = accumulators, linears

    def update_step(self, gradient, variable, learning_rate):
        lr = learning_rate
        accum = self._slot(self._accumulators, variable)
        linear = self._slot(self._linears, variable)
        p = -self.learning_rate_power
        w = variable.value
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        grad_to_use = gradient + 2 * self.l2_shrinkage_regularization_strength * w
        new_accum = accum.value + np.square(gradient)
        linear.assign(
            linear.value + (grad_to_use - ((np.power(new_accum, p) - np.power(accum.value, p))
                                           / lr) * w)
        )  # fmt: skip
        quadratic = np.power(new_accum, p) / lr + 2 * l2_reg
        l1 = self.l1_regularization_strength
        z = linear.value
        variable.assign((np.clip(z, -l1, l1) - z) / quadratic)
        accum.assign(new_accum)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
