"""Normalization layers of the TF twins: LayerNormalization, RMSNormalization,
GroupNormalization and UnitNormalization, in raw TensorFlow ops."""

from __future__ import annotations

import warnings

import tensorflow as tf
from tensorflow import keras


def _stats_dtype(dtype: tf.DType) -> tf.DType:
    return tf.float64 if dtype == tf.float64 else tf.float32  # Keras: result_type(x, float32)


def _axis_list(axis):
    if isinstance(axis, (list, tuple)):
        return list(axis)
    if isinstance(axis, int):
        return axis
    raise TypeError(
        f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}"
    )


def _param_shape(input_shape, axes):
    return tuple(input_shape[a] for a in axes)


def _broadcast(v, rank, axes, dtype):
    shape = [1] * rank
    for a in axes:
        shape[a] = v.shape[axes.index(a)]
    return tf.reshape(tf.cast(v, dtype), shape)


class LayerNormalization(keras.layers.Layer):
    """Layer normalization over `axis`.

    Computes: mean, var = tf.nn.moments(x, axis); inv = rsqrt(var + eps) * gamma;
        y = x * inv + (beta - mean * inv).  rms_scaling: y = x * rsqrt(var + eps) * gamma.
    Keras: keras.layers.LayerNormalization, same arguments, weights (gamma, beta) and config.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):  # fmt: skip
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn("rms_scaling=True is deprecated (scales by the variance).", stacklevel=2)
        super().__init__(**kwargs)
        self.axis = _axis_list(axis)
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape):
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = _param_shape(input_shape, axes)
        self.gamma = self.beta = None
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )
        self.axis = axes

    def call(self, inputs):
        x = tf.cast(inputs, _stats_dtype(inputs.dtype))
        rank = len(x.shape)
        axes = [a % rank for a in self.axis]
        mean, var = tf.nn.moments(x, axes, keepdims=True)
        inv = tf.math.rsqrt(var + self.epsilon)
        gamma = None if self.gamma is None else _broadcast(self.gamma, rank, axes, x.dtype)
        if self.rms_scaling:
            y = x * inv
            y = y if gamma is None else y * gamma
        else:
            if gamma is not None:
                inv = inv * gamma
            res = -mean * inv
            if self.beta is not None:
                res = res + _broadcast(self.beta, rank, axes, x.dtype)
            y = x * inv + res
        return tf.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        s = keras.initializers.serialize
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": s(self.beta_initializer),
                "gamma_initializer": s(self.gamma_initializer),
                "beta_regularizer": keras.regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": keras.regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": keras.constraints.serialize(self.beta_constraint),
                "gamma_constraint": keras.constraints.serialize(self.gamma_constraint)}  # fmt: skip


class RMSNormalization(keras.layers.Layer):
    """Computes: y = x * rsqrt(mean(x^2 over axis) + epsilon) * scale.
    Keras: keras.layers.RMSNormalization(axis=-1, epsilon=1e-6), one weight `scale`."""

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_list(axis)
        self.epsilon = epsilon

    def build(self, input_shape):
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        self.scale = self.add_weight(
            name="scale", shape=_param_shape(input_shape, axes), initializer="ones"
        )
        self.axis = axes

    def call(self, x):
        out_dtype = x.dtype
        x = tf.cast(x, _stats_dtype(x.dtype))
        rank = len(x.shape)
        axes = [a % rank for a in self.axis]
        rrms = tf.math.rsqrt(tf.reduce_mean(tf.square(x), axes, keepdims=True) + self.epsilon)
        return tf.cast(x * rrms * _broadcast(self.scale, rank, axes, x.dtype), out_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class GroupNormalization(keras.layers.Layer):
    """Computes: x reshaped to (..., groups, C // groups, ...) on `axis`; moments over all but
    the batch and group axes; y = x * inv + (beta - mean * inv), inv = rsqrt(var + eps) * gamma.
    Keras: keras.layers.GroupNormalization(groups=32, axis=-1, epsilon=1e-3, ...)."""

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = groups, axis, epsilon
        self.center, self.scale = center, scale
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if self.groups == -1:
            self.groups = dim
        if dim % self.groups:
            raise ValueError(f"Number of groups ({self.groups}) must divide {dim} channels.")
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                name="gamma",
                shape=(dim,),
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                name="beta",
                shape=(dim,),
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )

    def call(self, inputs):
        rank = len(inputs.shape)
        axis = self.axis % rank
        c = inputs.shape[axis]
        grouped = [-1] + list(inputs.shape[1:])
        grouped[axis : axis + 1] = [self.groups, c // self.groups]
        x = tf.cast(tf.reshape(inputs, grouped), _stats_dtype(inputs.dtype))
        axes = [i for i in range(1, rank + 1) if i != axis]
        mean, var = tf.nn.moments(x, axes, keepdims=True)
        param = [1] * (rank + 1)
        param[axis : axis + 2] = [self.groups, c // self.groups]
        inv = tf.math.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            inv = inv * tf.cast(tf.reshape(self.gamma, param), x.dtype)
        res = -mean * inv
        if self.beta is not None:
            res = res + tf.cast(tf.reshape(self.beta, param), x.dtype)
        y = tf.cast(x * inv + res, inputs.dtype)
        return tf.cast(tf.reshape(y, tf.shape(inputs)), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        s = keras.initializers.serialize
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": s(self.beta_initializer),
                "gamma_initializer": s(self.gamma_initializer),
                "beta_regularizer": keras.regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": keras.regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": keras.constraints.serialize(self.beta_constraint),
                "gamma_constraint": keras.constraints.serialize(self.gamma_constraint)}  # fmt: skip


class UnitNormalization(keras.layers.Layer):
    """Computes: y = x * minimum(rsqrt(sum(x^2 over axis)), 1e12).
    Keras: keras.layers.UnitNormalization(axis=-1)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_list(axis)
        self.supports_masking = True

    def call(self, inputs):
        inv = tf.math.rsqrt(tf.reduce_sum(tf.square(inputs), self.axis, keepdims=True))
        return inputs * tf.minimum(inv, 1.0 / 1e-12)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
