"""Recurrent layers of the TF twins: SimpleRNN, GRU, LSTM and their cells, in raw TensorFlow ops.

Each step is written out with tf ops in a Python loop over time (eager); gradients come from
TensorFlow's autodiff through that loop. Unlike the reference, the input projection is computed
per step (x_t @ kernel), so the two do not share a summation order by construction.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from tf_layers import activations


class _Cell(keras.layers.Layer):
    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"{type(self).__name__}: received an invalid value for argument `units`, "
                f"expected a positive integer, got {units}."
            )
        if dropout or recurrent_dropout:
            raise NotImplementedError(f"{type(self).__name__}: dropout is not implemented yet.")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout, self.seed = dropout, recurrent_dropout, seed

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        width = self.gates * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=self._bias_shape(),
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def call(self, inputs, states):
        new_states = self.step(inputs, list(states))
        return new_states[0], new_states


class SimpleRNNCell(_Cell):
    """h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)."""

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)

    def step(self, x, states):
        a = tf.matmul(x, self.kernel)
        if self.bias is not None:
            a = tf.nn.bias_add(a, self.bias)
        return [self.activation(a + tf.matmul(states[0], self.recurrent_kernel))]


class LSTMCell(_Cell):
    """Gate order i, f, c, o: c_t = f * c_{t-1} + i * act(z_c); h_t = o * act(c_t)."""

    gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def forget_ones(shape, dtype=None):
            parts = [init((u,), dtype=dtype), tf.ones((u,), dtype), init((2 * u,), dtype=dtype)]
            return tf.concat(parts, axis=0)

        return forget_ones

    def step(self, x, states):
        h, c = states
        z = tf.matmul(x, self.kernel) + tf.matmul(h, self.recurrent_kernel)
        if self.bias is not None:
            z = tf.nn.bias_add(z, self.bias)
        zi, zf, zc, zo = tf.split(z, 4, axis=-1)
        i, f, o = (self.recurrent_activation(a) for a in (zi, zf, zo))
        c = f * c + i * self.activation(zc)
        return [o * self.activation(c), c]


class GRUCell(_Cell):
    """Gate order z, r, h; reset_after=True: two biases, r multiplies h @ R_h + b_rec_h."""

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def step(self, x, states):
        h = states[0]
        u = self.units
        mx = tf.matmul(x, self.kernel)
        if self.bias is not None:
            mx = mx + (self.bias[0] if self.reset_after else self.bias)
        x_z, x_r, x_h = tf.split(mx, 3, axis=-1)
        rk = self.recurrent_kernel
        if self.reset_after:
            mh = tf.matmul(h, rk)
            if self.bias is not None:
                mh = mh + self.bias[1]
            m_z, m_r, m_h = tf.split(mh, 3, axis=-1)
        else:
            m_z, m_r = tf.split(tf.matmul(h, rk[:, : 2 * u]), 2, axis=-1)
        z = self.recurrent_activation(x_z + m_z)
        r = self.recurrent_activation(x_r + m_r)
        if self.reset_after:
            hh = self.activation(x_h + r * m_h)
        else:
            hh = self.activation(x_h + tf.matmul(r * h, rk[:, 2 * u :]))
        return [z * h + (1 - z) * hh]


class _Recurrent(keras.layers.Layer):
    cell_class = _Cell
    cell_name = ""

    def __init__(
        self,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        layer_args = ("name", "dtype", "trainable", "activity_regularizer", "autocast")
        layer_kwargs = {k: kwargs.pop(k) for k in layer_args if k in kwargs}
        if stateful:
            raise NotImplementedError(f"{type(self).__name__}: stateful is not implemented yet.")
        super().__init__(**layer_kwargs)
        self.cell = self.cell_class(
            dtype=layer_kwargs.get("dtype"),
            trainable=layer_kwargs.get("trainable", True),
            name=self.cell_name,
            **kwargs,
        )
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.use_cudnn = use_cudnn
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_masking = True

    def build(self, input_shape):
        self.cell.build((input_shape[0], input_shape[-1]))

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        n_states = 2 if isinstance(self.cell, LSTMCell) else 1
        return [out, *[None] * n_states] if self.return_state else out

    def call(self, inputs, initial_state=None, mask=None):
        inputs = tf.convert_to_tensor(inputs, self.compute_dtype)
        batch, steps = tf.shape(inputs)[0], inputs.shape[1]
        n_states = 2 if isinstance(self.cell, LSTMCell) else 1
        states = [tf.zeros((batch, self.cell.units), self.compute_dtype)] * n_states
        if initial_state is not None:
            given = initial_state if isinstance(initial_state, list | tuple) else [initial_state]
            states = [tf.cast(s, self.compute_dtype) for s in given]
            shapes = [tuple(s.shape) for s in states]
            if len(states) != n_states or any(sh[1:] != (self.cell.units,) for sh in shapes):
                raise ValueError(
                    f"{type(self).__name__} ({self.name}): expected `initial_state` to be "
                    f"{n_states} tensor(s) of shape (batch, {self.cell.units}). "
                    f"Received: shapes {shapes}"
                )
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, output = [], tf.zeros_like(states[0])
        for t in order:
            new = self.cell.step(inputs[:, t], states)
            if mask is None:
                states, output = new, new[0]
            else:  # a masked step keeps the states and repeats the previous output (Keras)
                keep = tf.cast(mask, tf.bool)[:, t : t + 1]
                states = [tf.where(keep, a, b) for a, b in zip(new, states, strict=True)]
                output = tf.where(keep, new[0], output)
            outputs.append(output)
        out = tf.stack(outputs, axis=1) if self.return_sequences else output
        return [out, *states] if self.return_state else out


class SimpleRNN(_Recurrent):
    """keras.layers.SimpleRNN: weights simple_rnn_cell/{kernel, recurrent_kernel, bias}."""

    cell_class, cell_name = SimpleRNNCell, "simple_rnn_cell"

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units=units, activation=activation, **kwargs)


class LSTM(_Recurrent):
    """keras.layers.LSTM: gate order i, f, c, o; return_state gives [output, h_T, c_T]."""

    cell_class, cell_name = LSTMCell, "lstm_cell"

    def __init__(self, units, **kwargs):
        super().__init__(units=units, **kwargs)


class GRU(_Recurrent):
    """keras.layers.GRU: gate order z, r, h; bias (2, 3U) with reset_after, else (3U,)."""

    cell_class, cell_name = GRUCell, "gru_cell"

    def __init__(self, units, **kwargs):
        super().__init__(units=units, **kwargs)
