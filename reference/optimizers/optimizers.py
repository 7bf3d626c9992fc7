"""The Keras 3 optimizers: each `update_step` is Keras's, op for op, in the variable's dtype.

Notation: g the (clipped) gradient, w the variable, lr the learning rate, t = iterations + 1.
Python-float hyper-parameters enter NumPy as weak scalars, as they enter TF ops in Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..naming import unique_name
from .base import Optimizer, _cast, blocks, workspace

_BASE_ARGS = dict(weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                  use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                  loss_scale_factor=None, gradient_accumulation_steps=None, name=None)  # fmt: skip


def _base(kwargs: dict) -> dict:
    return {k: kwargs.pop(k, v) for k, v in _BASE_ARGS.items()}


class SGD(Optimizer):
    """Stochastic gradient descent, with Keras's (TF-style) momentum.

    Computes: momentum 0: w -= g * lr. Else m = m * momentum - g * lr, then w += m, or with
    nesterov w += m * momentum - g * lr.
    Keras: keras.optimizers.SGD(learning_rate=0.01, momentum=0.0, nesterov=False, ...).
    Differences from PyTorch: PyTorch keeps b = mu * b + g and steps w -= lr * b (lr applied
    after the buffer), so the two agree only for a constant learning rate.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum, self.nesterov = momentum, nesterov

    def build(self, variables):
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        if self.momentum == 0:
            variable.assign(variable.value - gradient * learning_rate)
            return
        m = self._slot(self.momentums, variable)
        momentum = _cast(self.momentum, variable.dtype)
        m.assign(m.value * momentum - gradient * learning_rate)
        step = m.value * momentum - gradient * learning_rate if self.nesterov else m.value
        variable.assign(variable.value + step)


class Adam(Optimizer):
    """Adam, with epsilon outside the square root of the bias-uncorrected v.

    Computes: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); (amsgrad: v_hat = max(v_hat, v),
    used for v); alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= m * alpha / (sqrt(v) + eps).
    Keras: keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False, ...).
    Differences from PyTorch: PyTorch divides by sqrt(v / (1 - b2^t)) + eps (epsilon after the
    bias correction) and defaults eps to 1e-8; Keras's eps is the "epsilon hat" of the paper.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs: Any):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def build(self, variables):
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        t = _cast(self.iterations + 1, dtype)
        b1_power = np.power(_cast(self.beta_1, dtype), t)
        b2_power = np.power(_cast(self.beta_2, dtype), t)
        m, v = self._slot(self._momentums, variable), self._slot(self._velocities, variable)
        alpha = learning_rate * np.sqrt(1 - b2_power) / (1 - b1_power)
        # Keras's expressions, op for op (the same roundings), written in place into the slots
        # and two reused scratch arrays: m + (g - m)(1 - b1), v + (g^2 - v)(1 - b2), then
        # w - m * alpha / (sqrt(v) + eps), block by block (`blocks`: each element's ops are
        # unchanged). `_writable` copies a slot or weight first if anything else holds its
        # array (a persistent tape, a `.value` read), so no read ever changes.
        hats = [self._slot(self._velocity_hats, variable)] if self.amsgrad else []
        slots = [m, v, *hats, variable]
        arrays = [np.asarray(gradient, order="C"), *(s._writable() for s in slots)]
        for g, new_m, new_v, *hat, w in blocks(arrays):
            scratch, step = workspace(new_m.shape, new_m.dtype)
            np.subtract(g, new_m, out=scratch)
            scratch *= 1 - self.beta_1
            new_m += scratch
            np.square(g, out=scratch)
            scratch -= new_v
            scratch *= 1 - self.beta_2
            new_v += scratch
            if hat:
                new_v = np.maximum(hat[0], new_v, out=hat[0])
            denominator = np.sqrt(new_v, out=scratch)
            denominator += self.epsilon
            np.multiply(new_m, alpha, out=step)
            step /= denominator
            w -= step
        for slot in slots:
            slot._refreeze()


class AdamW(Adam):
    """Adam with decoupled weight decay: w -= w * weight_decay * lr before Adam's step.

    Keras: keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9,
    beta_2=0.999, epsilon=1e-7, amsgrad=False, ...).
    Differences from PyTorch: same decoupled form (torch: w *= 1 - lr * wd), but PyTorch's
    default weight_decay is 0.01 and its Adam epsilon placement differs (see Adam).
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs: Any):  # fmt: skip
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)  # fmt: skip


class RMSprop(Optimizer):
    """RMSprop, with epsilon inside the square root.

    Computes: v = rho v + (1 - rho) g^2; centered: a = rho a + (1 - rho) g, d = v - a^2 + eps,
    else d = v + eps; inc = lr g / sqrt(d); momentum > 0: m = momentum m + inc, w -= m; else
    w -= inc.
    Keras: keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
    centered=False, ...).
    Differences from PyTorch: PyTorch adds eps outside the root (sqrt(v) + eps, default 1e-8),
    its `alpha` is Keras's rho (defaults 0.99 vs 0.9), and its momentum buffer holds
    g / (sqrt(v) + eps) with lr applied after (Keras folds lr into the buffer).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs: Any):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def build(self, variables):
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(variables, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(variables, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        rho = self.rho
        velocity = self._slot(self._velocities, variable)
        velocity.assign(rho * velocity.value + (1 - rho) * np.square(gradient))
        if self.centered:
            avg = self._slot(self._average_gradients, variable)
            avg.assign(rho * avg.value + (1 - rho) * gradient)
            denominator = velocity.value - np.square(avg.value) + self.epsilon
        else:
            denominator = velocity.value + self.epsilon
        increment = (learning_rate * gradient) / np.sqrt(denominator)
        if self.momentum > 0:
            m = self._slot(self._momentums, variable)
            m.assign(self.momentum * m.value + increment)
            increment = m.value
        variable.assign(variable.value - increment)


class Adagrad(Optimizer):
    """Computes: acc += g^2; w -= lr g / sqrt(acc + eps) (acc starts at initial_accumulator_value).

    Keras: keras.optimizers.Adagrad(learning_rate=0.001, initial_accumulator_value=0.1,
    epsilon=1e-7, ...).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs: Any):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def build(self, variables):
        super().build(variables)
        value = self.initial_accumulator_value  # Keras's Constant casts it through float32

        def init(shape, dtype=None):
            return np.full(shape, _cast(value, dtype))

        self._accumulators = self.add_optimizer_variables(variables, "accumulator", init)

    def update_step(self, gradient, variable, learning_rate):
        acc = self._slot(self._accumulators, variable)
        acc.assign(acc.value + np.square(gradient))
        variable.assign(
            variable.value - (learning_rate * gradient) / np.sqrt(acc.value + self.epsilon)
        )


class Adadelta(Optimizer):
    """Computes: a = rho a + (1 - rho) g^2; d = -sqrt(b + eps) g / sqrt(a + eps);
    b = rho b + (1 - rho) d^2; w += lr d.

    Keras: keras.optimizers.Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7, ...).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def build(self, variables):
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            variables, ["accumulated_grad", "accumulated_delta_var"]
        )

    def update_step(self, gradient, variable, learning_rate):
        rho = self.rho
        a = self._slot(self._accumulated_grads, variable)
        b = self._slot(self._accumulated_delta_vars, variable)
        a.assign(rho * a.value + (1 - rho) * np.square(gradient))
        delta = -((np.sqrt(b.value + self.epsilon) * gradient) / np.sqrt(a.value + self.epsilon))
        b.assign(rho * b.value + (1 - rho) * np.square(delta))
        variable.assign(variable.value + learning_rate * delta)


class Adamax(Optimizer):
    """Computes: m += (g - m)(1 - b1); u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps)).

    Keras: keras.optimizers.Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, variables):
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        t = _cast(self.iterations + 1, variable.dtype)
        b1_power = np.power(_cast(self.beta_1, variable.dtype), t)
        m, u = self._slot(self._m, variable), self._slot(self._u, variable)
        m.assign(m.value + (gradient - m.value) * (1 - self.beta_1))
        u.assign(np.maximum(self.beta_2 * u.value, np.abs(gradient)))
        variable.assign(
            variable.value - (learning_rate * m.value) / ((1 - b1_power) * (u.value + self.epsilon))
        )


class Lion(Optimizer):
    """Computes: w -= lr sign(b1 m + (1 - b1) g); then m = b2 m + (1 - b2) g.

    Keras: keras.optimizers.Lion(learning_rate=0.001, beta_1=0.9, beta_2=0.99, ...).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                f"Argument for `beta_1` must be in range (0, 1]. Received: beta_1={beta_1}."
            )
        self.beta_1, self.beta_2 = beta_1, beta_2

    def build(self, variables):
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        b1, b2 = _cast(self.beta_1, variable.dtype), _cast(self.beta_2, variable.dtype)
        m = self._slot(self._momentums, variable)
        variable.assign(
            variable.value - learning_rate * np.sign(m.value * b1 + gradient * (1 - b1))
        )
        m.assign(m.value * b2 + gradient * (1 - b2))


class Nadam(Optimizer):
    """Nesterov Adam with Keras's momentum schedule u_t = b1 (1 - 0.5 * 0.96^t).

    Computes: P *= u_t (once per step, before the variables); m += (g - m)(1 - b1);
    v += (g^2 - v)(1 - b2); m_hat = u_{t+1} m / (1 - P u_{t+1}) + (1 - u_t) g / (1 - P);
    v_hat = v / (1 - b2^t); w -= m_hat lr / (sqrt(v_hat) + eps).
    Keras: keras.optimizers.Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7).
    The product P is the last of `variables` ("nadam/variable" with Keras's unique suffix).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **_base(kwargs), **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, variables):
        dtype = variables[0].dtype if variables else None
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        self._u_product = self._new_variable(1.0, unique_name("variable"), dtype=dtype)

    def _update(self, grads, variables):
        dtype = self._u_product.dtype
        u = self._u_product
        u.assign(u.value * self.beta_1 * (1.0 - 0.5 * np.power(0.96, _cast(self.iterations + 1,
                                                                            dtype))))  # fmt: skip
        super()._update(grads, variables)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        t, t1 = _cast(self.iterations + 1, dtype), _cast(self.iterations + 2, dtype)
        decay, b1, b2 = _cast(0.96, dtype), _cast(self.beta_1, dtype), _cast(self.beta_2, dtype)
        u_t = b1 * (1.0 - 0.5 * np.power(decay, t))
        u_t_1 = b1 * (1.0 - 0.5 * np.power(decay, t1))
        u_product_t = _cast(self._u_product.value, dtype)
        u_product_t_1 = u_product_t * u_t_1
        b2_power = np.power(b2, t)
        m, v = self._slot(self._momentums, variable), self._slot(self._velocities, variable)
        m.assign(m.value + (gradient - m.value) * (1 - b1))
        v.assign(v.value + (np.square(gradient) - v.value) * (1 - b2))
        m_hat = (u_t_1 * m.value) / (1 - u_product_t_1) + ((1 - u_t) * gradient) / (1 - u_product_t)
        v_hat = v.value / (1 - b2_power)
        variable.assign(variable.value - (m_hat * learning_rate) / (np.sqrt(v_hat) + self.epsilon))
