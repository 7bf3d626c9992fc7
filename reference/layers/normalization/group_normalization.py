"""Normalization layers: GroupNormalization."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import constraints, initializers, regularizers
from ...input_spec import InputSpec
from ...layer import Layer
from ...ops.normalization import batch_norm, moments, norm_grad
from ._axes import normalized_axes


class _Residuals(NamedTuple):
    x_hat: np.ndarray  # (x - mean) / sqrt(var + eps), in the grouped shape
    rstd: np.ndarray  # keepdims, grouped shape
    gamma: np.ndarray | None  # in the grouped broadcast shape
    shape: tuple  # the input's shape


class GroupNormalization(Layer):
    """Normalizes each example within groups of channels (Wu & He, 2018).

    Computes: x reshaped so that `axis` (C channels) becomes (groups, C // groups); mean, var =
    biased moments over every axis but the batch axis and the group axis; then, per channel,
    inv = gamma / sqrt(var + epsilon), y = x * inv + (beta - mean * inv), reshaped back.
    groups=-1 means one group per channel (instance normalization).
    VJP: layer normalization's (ops.normalization.norm_grad) in the grouped shape, with the
    statistics over the group's elements and gamma, beta per (group, channel-in-group).
    Keras: keras.layers.GroupNormalization(groups=32, axis=-1, epsilon=1e-3, center=True,
    scale=True, ...); gamma then beta, shape (C,), autocast=False.

    Input shape: any rank >= 2 with a known `axis`.  Output shape: same as input.
    """

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
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
        bad_type = isinstance(groups, bool) or not isinstance(groups, int)
        if bad_type or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer "
                f"(or `-1` for instance normalization). Received: groups={groups}"
            )
        resolved = dict(
            beta_initializer=initializers.get(beta_initializer),
            gamma_initializer=initializers.get(gamma_initializer),
            beta_regularizer=regularizers.get(beta_regularizer),
            gamma_regularizer=regularizers.get(gamma_regularizer),
            beta_constraint=constraints.get(beta_constraint),
            gamma_constraint=constraints.get(gamma_constraint),
        )
        super().__init__(**kwargs)
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        for key, value in resolved.items():
            setattr(self, key, value)
        self.supports_masking = True
        self.autocast = False
        self.gamma = self.beta = None

    def build(self, input_shape: tuple) -> None:
        normalized_axes(self.name, self.axis, input_shape)
        dim = input_shape[self.axis]
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of channels "
                f"({dim})."
            )
        if dim % self.groups != 0:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of channels "
                f"({dim})."
            )  # Keras's words, the relation reversed as in Keras
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        for name, on in (("gamma", self.scale), ("beta", self.center)):
            if on:
                setattr(self, name, self.add_weight(
                    shape=(dim,), name=name, initializer=getattr(self, f"{name}_initializer"),
                    regularizer=getattr(self, f"{name}_regularizer"),
                    constraint=getattr(self, f"{name}_constraint"), autocast=False,
                ))  # fmt: skip

    def _grouped(self, shape: tuple) -> tuple[tuple, tuple, tuple]:
        """(grouped shape, its reduction axes, the broadcast shape of gamma/beta), as Keras."""
        grouped = list(shape)
        grouped[self.axis] = shape[self.axis] // self.groups
        grouped.insert(self.axis, self.groups)
        axes = list(range(1, len(grouped)))
        axes.pop(-2 if self.axis == -1 else self.axis - 1)
        param = [1] * len(shape)
        param[self.axis] = shape[self.axis] // self.groups
        param.insert(self.axis, self.groups)
        return tuple(grouped), tuple(axes), tuple(param)

    def call(self, inputs):
        return self.vjp_fwd(inputs)[0]  # one forward, shared with the VJP (bit-identical)

    def vjp_fwd(self, inputs):
        grouped, axes, param = self._grouped(inputs.shape)
        x = np.reshape(inputs, grouped).astype(np.result_type(inputs.dtype, np.float32))
        gamma = None if self.gamma is None else np.reshape(self.gamma, param).astype(x.dtype)
        beta = None if self.beta is None else np.reshape(self.beta, param).astype(x.dtype)
        mean, var = moments(x, axes)
        rstd = 1.0 / np.sqrt(var + self.epsilon)
        y = batch_norm(x, mean, var, gamma, beta, self.epsilon).astype(inputs.dtype)
        out = np.reshape(y, inputs.shape).astype(self.compute_dtype)
        return out, _Residuals((x - mean) * rstd, rstd, gamma, tuple(inputs.shape))

    def vjp_bwd(self, residuals, output_grad):
        x_hat, rstd, gamma, shape = residuals
        _, axes, param = self._grouped(shape)
        dy = np.reshape(output_grad, x_hat.shape).astype(x_hat.dtype)
        dx, dgamma, dbeta = norm_grad(dy, x_hat, rstd, gamma, axes, self._param_axes(param))
        grads: dict[str, Any] = {}
        if self.gamma is not None:
            grads["gamma"] = np.reshape(dgamma, self.gamma.shape)
        if self.beta is not None:
            grads["beta"] = np.reshape(dbeta, self.beta.shape)
        return np.reshape(dx, shape), grads

    def _param_axes(self, param: tuple) -> tuple:
        """The two grouped axes that gamma and beta live on (group, channel within group)."""
        g = self.axis % (len(param) - 1)
        return (g, g + 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
