"""Normalization layers: LayerNormalization."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from ... import constraints, initializers, regularizers
from ...layer import Layer
from ...ops.normalization import batch_norm, moments, norm_grad, scale_norm, scale_norm_grad
from ._axes import broadcast_shape, check_axis_type, normalized_axes


class _Residuals(NamedTuple):
    x: np.ndarray  # the input in the statistics dtype (x_hat for the centred form)
    centre: np.ndarray  # mean (rms_scaling) or None
    rstd: np.ndarray  # 1 / sqrt(var + epsilon), keepdims
    gamma: np.ndarray | None  # broadcastable


class LayerNormalization(Layer):
    """Normalizes each example over `axis` (the last by default), then scales and shifts.

    Computes: mean, var = biased moments of x over `axis`;  inv = gamma / sqrt(var + epsilon);
    y = x * inv + (beta - mean * inv)  (TF's order, as BatchNormalization).
    rms_scaling=True (deprecated in Keras): y = x * gamma / sqrt(var + epsilon), no beta -- it
    divides by the *variance*, not the mean square (Keras's own warning says so).
    VJP: with x_hat = (x - mean) / sqrt(var + eps), g = dy * gamma and means over `axis`:
    dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps);  dgamma = sum(dy * x_hat),
    dbeta = sum(dy) over the other axes.  rms_scaling: with r = 1 / sqrt(var + eps),
    dx = r * (g - (x - mean) * r^2 * mean(g * x));  dgamma = sum(dy * x * r).
    Keras: keras.layers.LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True, ...);
    gamma then beta, shape = the input's sizes on `axis`, autocast=False.
    Differences: an axis outside the input's rank is a ValueError naming the layer (Keras: an
    IndexError from deep inside build).

    Input shape: any.  Output shape: same as input.
    """

    def __init__(
        self,
        axis: int | list = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        rms_scaling = kwargs.pop("rms_scaling", False)  # Keras takes it from **kwargs too
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly "
                "scales the input by the variance, not the root mean square. To correctly use "
                "RMS Normalization, please use `keras.layers.RMSNormalization` instead.",
                stacklevel=2,
            )
        axis = check_axis_type("LayerNormalization", axis)
        resolved = dict(
            beta_initializer=initializers.get(beta_initializer),
            gamma_initializer=initializers.get(gamma_initializer),
            beta_regularizer=regularizers.get(beta_regularizer),
            gamma_regularizer=regularizers.get(gamma_regularizer),
            beta_constraint=constraints.get(beta_constraint),
            gamma_constraint=constraints.get(gamma_constraint),
        )
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.rms_scaling = bool(rms_scaling)
        for key, value in resolved.items():
            setattr(self, key, value)
        self.supports_masking = True
        self.autocast = False
        self.gamma = self.beta = None

    def build(self, input_shape: tuple) -> None:
        axes = normalized_axes(self.name, self.axis, input_shape)
        shape = tuple(input_shape[a] for a in axes)
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                trainable=True, autocast=False,
            )  # fmt: skip
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                shape=shape, name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                trainable=True, autocast=False,
            )  # fmt: skip
        self.axis = axes  # as Keras: a sorted list once built

    def _prepare(self, inputs):
        x = inputs.astype(np.result_type(inputs.dtype, np.float32))
        axes = tuple(a % x.ndim for a in self.axis)
        shape = broadcast_shape(x.shape, self.axis)
        gamma = None if self.gamma is None else np.reshape(self.gamma, shape).astype(x.dtype)
        beta = None if self.beta is None else np.reshape(self.beta, shape).astype(x.dtype)
        return x, axes, gamma, beta

    def call(self, inputs):
        return self.vjp_fwd(inputs)[0]  # one forward, shared with the VJP (bit-identical)

    def vjp_fwd(self, inputs):
        x, axes, gamma, beta = self._prepare(inputs)
        mean, var = moments(x, axes)
        rstd = 1.0 / np.sqrt(var + self.epsilon)
        if self.rms_scaling:
            y = scale_norm(x, rstd, gamma)
            residuals = _Residuals(x, mean, rstd, gamma)
        else:
            y = batch_norm(x, mean, var, gamma, beta, self.epsilon)
            residuals = _Residuals((x - mean) * rstd, None, rstd, gamma)
        return y.astype(self.compute_dtype), residuals

    def vjp_bwd(self, residuals, output_grad):
        x, centre, rstd, gamma = residuals
        axes = tuple(a % x.ndim for a in self.axis)
        dy = output_grad.astype(x.dtype)
        grads: dict[str, Any] = {}
        if self.rms_scaling:
            dx, dgamma = scale_norm_grad(dy, x, rstd, gamma, centre, axes, axes)
        else:
            dx, dgamma, dbeta = norm_grad(dy, x, rstd, gamma, axes, axes)
            if self.beta is not None:
                grads["beta"] = np.reshape(dbeta, self.beta.shape)
        if self.gamma is not None:
            grads["gamma"] = np.reshape(dgamma, self.gamma.shape)
        return dx, grads

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        normalized_axes(self.name, self.axis, input_shape)
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
