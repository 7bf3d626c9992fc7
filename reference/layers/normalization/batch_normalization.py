"""Normalization layers: BatchNormalization."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import constraints, initializers, regularizers
from ...autodiff import stop_gradient
from ...input_spec import InputSpec
from ...layer import Layer
from ...ops.normalization import (
    batch_norm,
    batch_norm_grad_batch_stats,
    batch_norm_grad_fixed_stats,
    centered_moments,
    masked_moments,
    moments,
    synchronized_moments,
)


class _Residuals(NamedTuple):
    """What BatchNormalization's backward pass needs from its forward pass."""

    x: np.ndarray  # the input in the statistics dtype (float32 for float16), centred if batch_stats
    mean: np.ndarray  # the statistics the forward pass used (batch or moving), broadcastable
    rstd: np.ndarray  # 1 / sqrt(var + epsilon)
    gamma: np.ndarray | None  # the gamma value read, broadcastable (None if scale=False)
    batch_stats: bool  # True: mean and var were the batch's (so they depend on x)


class BatchNormalization(Layer):
    """Normalizes each feature with batch statistics (training) or moving statistics (inference).

    Computes: y = gamma * (x - mean) / sqrt(var + epsilon) + beta, as TF does it:
    inv = gamma / sqrt(var + epsilon);  y = x * inv + (beta - mean * inv).
    Training (training=True and layer.trainable): mean, var = the batch's biased moments over
    every axis but `axis`; then moving_stat <- moving_stat * momentum + stat * (1 - momentum).
    VJP (training): with xh = (x - mean) / sqrt(var + eps) and N reduced elements per feature,
    dbeta = sum(dy);  dgamma = sum(dy * xh);  dx = gamma / sqrt(var + eps) / N *
    (N * dy - dbeta - xh * dgamma).
    VJP (inference): dx = dy * inv;  dgamma = sum(dy * (x - mm)) / sqrt(mv + eps);
    dbeta = sum(dy);  dmoving_mean = -sum(dy) * inv;  dmoving_variance = -0.5 * sum(dy * (x - mm))
    * inv / (mv + eps).
    Keras: keras.layers.BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True,
    scale=True, ...).
    Masks (call's `mask`, rank one less than the input, broadcast on the LAST axis whatever
    `axis` is, as Keras): the batch moments count only unmasked positions,
    mean = sum(m x) / (sum(m) + 1e-7), var likewise; the output is computed everywhere.
    synchronized=True: mean = E[x], var = max(E[x^2] - E[x]^2, 0) (Keras on TF runs its
    cross-replica formula even on one device). Both are traced (vjp_fwd declines them).
    Differences: no renorm (renorm=True raises NotImplementedError).

    Input shape: any rank >= 1 with a known `axis`.  Output shape: same as input.
    Weights: gamma (if scale), beta (if center), moving_mean, moving_variance (non-trainable).
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        renorm: bool = False,
        renorm_clipping: dict | None = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs: Any,
    ):
        if renorm:
            raise NotImplementedError(
                "BatchNormalization: renorm=True is not implemented in the reference yet. "
                f"Received: renorm={renorm}"
            )
        resolved = dict(
            beta_initializer=initializers.get(beta_initializer),
            gamma_initializer=initializers.get(gamma_initializer),
            moving_mean_initializer=initializers.get(moving_mean_initializer),
            moving_variance_initializer=initializers.get(moving_variance_initializer),
            beta_regularizer=regularizers.get(beta_regularizer),
            gamma_regularizer=regularizers.get(gamma_regularizer),
            beta_constraint=constraints.get(beta_constraint),
            gamma_constraint=constraints.get(gamma_constraint),
        )
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = synchronized
        self.supports_masking = True
        for key, value in resolved.items():
            setattr(self, key, value)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Layer '{self.name}': axis {self.axis} is out of bounds for input shape "
                f"{tuple(input_shape)}. Received: axis={self.axis}"
            )
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                trainable=True, autocast=False,
            )  # fmt: skip
        if self.center:
            self.beta = self.add_weight(
                shape=shape, name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                trainable=True, autocast=False,
            )  # fmt: skip
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer,
            trainable=False, autocast=False,
        )  # fmt: skip
        self.moving_variance = self.add_weight(
            shape=shape, name="moving_variance", initializer=self.moving_variance_initializer,
            trainable=False, autocast=False,
        )  # fmt: skip
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: input_shape[self.axis]})

    def _axes(self, x) -> tuple[tuple, tuple]:
        """(reduction axes, shape that broadcasts a per-feature vector against x)."""
        axis = self.axis % x.ndim
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        return tuple(i for i in range(x.ndim) if i != axis), tuple(shape)

    def _in_training(self, training) -> bool:
        return bool(training) and self.trainable

    def _moving(self, x):
        """The moving statistics in x's broadcast shape and dtype."""
        _, shape = self._axes(x)
        mean = np.reshape(self.moving_mean, shape).astype(x.dtype)
        return mean, np.reshape(self.moving_variance, shape).astype(x.dtype)

    def _affine(self, x):
        """(gamma, beta) in x's broadcast shape and dtype, None where disabled."""
        _, shape = self._axes(x)
        gamma = None if self.gamma is None else np.reshape(self.gamma, shape).astype(x.dtype)
        beta = None if self.beta is None else np.reshape(self.beta, shape).astype(x.dtype)
        return gamma, beta

    def _update_moving(self, mean, var, dtype) -> None:
        """moving <- moving * momentum + batch statistic * (1 - momentum), as Keras."""
        m = self.momentum
        for moving, stat in ((self.moving_mean, mean), (self.moving_variance, var)):
            moving.assign(
                moving.numpy().astype(dtype) * m + np.ravel(stop_gradient(stat)) * (1 - m)
            )

    def _batch_moments(self, x, axes, mask):
        if mask is not None:
            return masked_moments(x, mask, axes)
        return synchronized_moments(x, axes) if self.synchronized else moments(x, axes)

    def _check_mask(self, inputs, mask):
        if mask is not None and np.ndim(mask) != np.ndim(inputs) - 1:
            raise ValueError(
                f"Layer '{self.name}': the mask provided should be one dimension less than the "
                f"inputs. Received: mask.shape={np.shape(mask)}, inputs.shape={np.shape(inputs)}"
            )

    def call(self, inputs, training=None, mask=None):
        self._check_mask(inputs, mask)
        # float16 inputs are normalized in float32, as Keras does, then cast back.
        x = inputs.astype(np.result_type(inputs.dtype, np.float32))
        axes, _ = self._axes(x)
        if self._in_training(training):
            mean, var = self._batch_moments(x, axes, mask)
            self._update_moving(mean, var, x.dtype)
        else:
            mean, var = self._moving(x)
        gamma, beta = self._affine(x)
        return batch_norm(x, mean, var, gamma, beta, self.epsilon).astype(self.compute_dtype)

    def vjp_fwd(self, inputs, training=None, mask=None):
        self._check_mask(inputs, mask)
        batch_stats = self._in_training(training)
        if batch_stats and (mask is not None or self.synchronized):
            return NotImplemented  # masked / E[x^2]-E[x]^2 moments: traced, not this backward
        x = inputs.astype(np.result_type(inputs.dtype, np.float32), copy=False)
        axes, _ = self._axes(x)
        if batch_stats:
            mean, var, xc = centered_moments(x, axes)  # moments(), keeping x - mean
            self._update_moving(mean, var, x.dtype)
        else:
            (mean, var), xc = self._moving(x), None
        gamma, beta = self._affine(x)
        y = batch_norm(x, mean, var, gamma, beta, self.epsilon)
        y = y.astype(self.compute_dtype, copy=False)
        rstd = 1.0 / np.sqrt(var + self.epsilon)
        return y, _Residuals(x if xc is None else xc, mean, rstd, gamma, batch_stats)

    def vjp_bwd(self, residuals, output_grad):
        x, mean, rstd, gamma, batch_stats = residuals
        axes, _ = self._axes(x)
        dy = output_grad.astype(x.dtype, copy=False)
        grads: dict[str, Any] = {"moving_mean": None, "moving_variance": None}
        if batch_stats:  # x is x - mean here
            dx, dgamma, dbeta = batch_norm_grad_batch_stats(dy, x * rstd, rstd, gamma, axes)
        else:
            dx, dgamma, dbeta, dmean, dvar = batch_norm_grad_fixed_stats(
                dy, x, mean, rstd, gamma, axes
            )
            grads["moving_mean"], grads["moving_variance"] = np.ravel(dmean), np.ravel(dvar)
        if self.gamma is not None:
            grads["gamma"] = np.ravel(dgamma)
        if self.beta is not None:
            grads["beta"] = np.ravel(dbeta)
        return dx, grads

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }
