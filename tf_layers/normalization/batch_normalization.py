"""Normalization layers of the TF twins: `BatchNormalization`, in raw TensorFlow ops."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


def _statistics_dtype(dtype: tf.DType) -> tf.DType:
    # Keras computes in result_type(input dtype, float32): float64 stays, everything else
    # (float16, bfloat16, integers) runs in float32, where the statistics do not overflow.
    return tf.float64 if dtype == tf.float64 else tf.float32


class BatchNormalization(keras.layers.Layer):
    """Batch normalization over every axis except `axis`.

    Computes: y = gamma * (x - mean) / sqrt(var + epsilon) + beta, evaluated as
        inv = rsqrt(var + epsilon) * gamma; y = x * inv + (beta - mean * inv).
        Training (`training and trainable`): mean/var are the batch's (biased var, /N) and
        moving = moving * momentum + stat * (1 - momentum). Otherwise mean/var are the moving ones.
    Keras: keras.layers.BatchNormalization(axis, momentum, epsilon, center, scale, ...), same
        weights (gamma, beta, moving_mean, moving_variance; shape (C,); autocast=False), InputSpec,
        masked statistics, `synchronized` formula and config.
    Differences: `renorm=True` raises NotImplementedError (the twin keeps only the layer's math).

    Args:
        axis: int, the feature axis (negative or positive).
        momentum: float, weight of the old moving statistics.
        epsilon: float added to the variance.
        center, scale: whether to create and use beta / gamma.
        *_initializer, *_regularizer, *_constraint: as in Keras.
        renorm, renorm_clipping, renorm_momentum: renorm must be False.
        synchronized: use the cross-replica E[x^2] - E[x]^2 statistics, as Keras on TF.

    Input shape: any rank >= 2 (fixed at build).
    Output shape: the input shape, in the layer's compute dtype.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        if renorm:
            raise NotImplementedError(
                "tf_layers.BatchNormalization keeps only the layer's math: batch renormalization "
                "is not supported. Received: renorm=True"
            )
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.synchronized = synchronized
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.moving_mean_initializer = keras.initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = keras.initializers.get(moving_variance_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)
        self.supports_masking = True
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None
        self._reduction_axes = None

    def build(self, input_shape):
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape,
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape,
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=shape,
            name="moving_mean",
            initializer=self.moving_mean_initializer,
            trainable=False,
            autocast=False,
        )
        self.moving_variance = self.add_weight(
            shape=shape,
            name="moving_variance",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={self.axis: input_shape[self.axis]}
        )
        reduction_axes = list(range(len(input_shape)))
        del reduction_axes[self.axis]
        self._reduction_axes = reduction_axes

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(
                "The mask provided should be one dimension less "
                "than the inputs. Received: "
                f"mask.shape={mask.shape}, inputs.shape={inputs.shape}"
            )
        x = tf.cast(inputs, _statistics_dtype(inputs.dtype))
        moving_mean = tf.cast(self.moving_mean, x.dtype)
        moving_variance = tf.cast(self.moving_variance, x.dtype)
        gamma = tf.cast(self.gamma, x.dtype) if self.scale else None
        beta = tf.cast(self.beta, x.dtype) if self.center else None

        if training and self.trainable:
            mean, variance = self._moments(x, mask)
            self.moving_mean.assign(moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
        else:
            mean, variance = moving_mean, moving_variance

        outputs = self._normalize(x, mean, variance, beta, gamma)
        return tf.cast(outputs, self.compute_dtype)

    def _moments(self, x, mask):
        """Batch mean and biased variance over the reduction axes, each of shape (C,)."""
        axes = self._reduction_axes
        if mask is not None:
            # Keras broadcasts the (rank - 1) mask over the last axis, whatever `axis` is.
            where = tf.cast(tf.broadcast_to(tf.expand_dims(mask, axis=-1), tf.shape(x)), tf.bool)
            eps = keras.config.epsilon()
            zeros = tf.zeros_like(x)
            count = tf.reduce_sum(tf.cast(where, x.dtype), axes, keepdims=True)
            total = tf.reduce_sum(tf.where(where, x, zeros), axes, keepdims=True)
            mean = total / (count + eps)
            squares = tf.square(tf.where(where, x - mean, zeros))
            variance = tf.reduce_sum(squares, axes, keepdims=True) / (count + eps)
            return tf.squeeze(mean), tf.squeeze(variance)
        replica_ctx = tf.distribute.get_replica_context() if self.synchronized else None
        if replica_ctx:
            # Keras's synchronized path: global sums over replicas, var = E[x^2] - E[x]^2.
            add = tf.distribute.ReduceOp.SUM
            total = replica_ctx.all_reduce(add, tf.reduce_sum(x, axes, keepdims=True))
            squares = replica_ctx.all_reduce(add, tf.reduce_sum(tf.square(x), axes, keepdims=True))
            count = replica_ctx.all_reduce(add, tf.reduce_sum(tf.ones_like(x), axes, keepdims=True))
            mean = tf.math.divide_no_nan(total, count)
            variance = tf.maximum(tf.math.divide_no_nan(squares, count) - tf.square(mean), 0.0)
        else:
            # tf.nn.moments: the variance does not differentiate through the mean (its gradient
            # there is zero anyway), and divides by N.
            mean = tf.reduce_mean(x, axes, keepdims=True)
            variance = tf.reduce_mean(
                tf.math.squared_difference(x, tf.stop_gradient(mean)), axes, keepdims=True
            )
        return tf.squeeze(mean, axes), tf.squeeze(variance, axes)

    def _normalize(self, x, mean, variance, beta, gamma):
        if self.axis != -1:
            shape = [1] * len(x.shape)
            shape[self.axis] = mean.shape[0]
            mean = tf.reshape(mean, shape)
            variance = tf.reshape(variance, shape)
            beta = None if beta is None else tf.reshape(beta, shape)
            gamma = None if gamma is None else tf.reshape(gamma, shape)
        inv = tf.math.rsqrt(variance + self.epsilon)
        if gamma is not None:
            inv = inv * gamma
        shift = beta - mean * inv if beta is not None else -mean * inv
        return x * inv + shift

    def compute_output_shape(self, input_shape):
        axis = self.axis
        if axis >= len(input_shape) or axis < -len(input_shape):
            raise ValueError(
                f"Axis {axis} is out of bounds for "
                f"input shape {input_shape}. "
                f"Received: axis={self.axis}"
            )
        return input_shape

    def get_config(self) -> dict:
        base_config = super().get_config()
        config = {
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": keras.initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": keras.initializers.serialize(
                self.moving_variance_initializer
            ),
            "beta_regularizer": keras.regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": keras.regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": keras.constraints.serialize(self.beta_constraint),
            "gamma_constraint": keras.constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }
        return {**base_config, **config}
