"""Merging layers of the TF twins: lower-rank inputs get size-1 axes after the batch axis,
then a left-to-right fold of one TF op (Keras's order, so float rounding agrees)."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


class _Merge(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        rank = max(len(x.shape) for x in inputs)
        aligned = []
        for x in inputs:
            for _ in range(rank - len(x.shape)):
                x = tf.expand_dims(x, 1)
            aligned.append(x)
        out = aligned[0]
        for x in aligned[1:]:
            out = self._op(out, x)
        return self._finish(out, len(inputs))

    def _finish(self, out, n):
        return out

    def compute_output_shape(self, input_shape):
        return tuple(tf.broadcast_static_shape(*[tf.TensorShape(s) for s in input_shape]))


class Add(_Merge):
    """Computes: x0 + x1 + ... Keras: keras.layers.Add()."""

    _op = staticmethod(tf.add)


class Subtract(_Merge):
    """Computes: x0 - x1. Keras: keras.layers.Subtract()."""

    _op = staticmethod(tf.subtract)


class Multiply(_Merge):
    """Computes: x0 * x1 * ... Keras: keras.layers.Multiply()."""

    _op = staticmethod(tf.multiply)


class Average(_Merge):
    """Computes: (x0 + x1 + ...) / n. Keras: keras.layers.Average()."""

    _op = staticmethod(tf.add)

    def _finish(self, out, n):
        return out / n


class Maximum(_Merge):
    """Computes: max(max(x0, x1), ...). Keras: keras.layers.Maximum()."""

    _op = staticmethod(tf.maximum)


class Minimum(_Merge):
    """Computes: min(min(x0, x1), ...). Keras: keras.layers.Minimum()."""

    _op = staticmethod(tf.minimum)


class Concatenate(keras.layers.Layer):
    """Computes: tf.concat(inputs, axis). Keras: keras.layers.Concatenate(axis=-1)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs):
        return tf.concat(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(keras.layers.Layer):
    """Computes: per example, x1 contracted with x2 over `axes` (tf.einsum-free: transposes and
    one batched tf.linalg.matmul), x L2-normalized first if `normalize`; rank-1 results become
    (batch, 1). Keras: keras.layers.Dot(axes, normalize=False)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes, self.normalize = axes, normalize
        self.supports_masking = True

    def call(self, inputs):
        x, y = inputs
        given = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        a0, a1 = given[0] % len(x.shape), given[1] % len(y.shape)
        if self.normalize:
            x = x * tf.minimum(tf.math.rsqrt(tf.reduce_sum(tf.square(x), a0, keepdims=True)), 1e7)
            y = y * tf.minimum(tf.math.rsqrt(tf.reduce_sum(tf.square(y), a1, keepdims=True)), 1e7)
        xr = [i for i in range(len(x.shape)) if i not in (0, a0)]
        yr = [i for i in range(len(y.shape)) if i not in (0, a1)]
        xt = tf.transpose(x, [0, *xr, a0])
        yt = tf.transpose(y, [0, a1, *yr])
        b, k = x.shape[0], x.shape[a0]
        out = tf.linalg.matmul(tf.reshape(xt, (b, -1, k)), tf.reshape(yt, (b, k, -1)))
        shape = [b, *(x.shape[i] for i in xr), *(y.shape[i] for i in yr)]
        return tf.reshape(out, shape if len(shape) > 1 else [b, 1])

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}
