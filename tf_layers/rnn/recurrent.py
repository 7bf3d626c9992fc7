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
        implementation = kwargs.pop("implementation", 2) if self.gates > 1 else None
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
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        # recurrent dropout forces Keras's implementation 1: one mask per gate block
        self.mask_count = self.gates if (recurrent_dropout or implementation == 1) else 1

    @property
    def state_size(self):
        return [self.units, self.units] if self.gates == 4 else self.units

    @property
    def output_size(self):
        return self.units

    def applies(self, rate):
        """Keras's cells apply a mask when 0 < rate < 1 (SimpleRNNCell: rate > 0)."""
        return rate > 0 if self.gates == 1 else 0 < rate < 1

    def project(self, x, in_masks):
        """x @ kernel + input bias; gate block k sees x * in_masks[k] (one mask: all blocks)."""
        if in_masks is None:
            xw = tf.matmul(x, self.kernel)
        else:
            xs = [x * m for m in in_masks] if len(in_masks) > 1 else [x * in_masks[0]] * self.gates
            ks = tf.split(self.kernel, self.gates, axis=1)
            xw = tf.concat([tf.matmul(a, k) for a, k in zip(xs, ks, strict=True)], axis=-1)
        if self.bias is not None:
            xw = xw + (self.bias[0] if getattr(self, "reset_after", False) else self.bias)
        return xw

    def hidden(self, h, rec_masks, k):
        """The previous state as gate block k reads it (dropped with its recurrent mask)."""
        return h if rec_masks is None else h * rec_masks[k]

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

    def step(self, x, states, in_masks=None, rec_masks=None):
        a = self.project(x, in_masks)
        h = self.hidden(states[0], rec_masks, 0)
        return [self.activation(a + tf.matmul(h, self.recurrent_kernel))]


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

    def step(self, x, states, in_masks=None, rec_masks=None):
        h, c = states
        rks = tf.split(self.recurrent_kernel, 4, axis=1)
        rec = [tf.matmul(self.hidden(h, rec_masks, k), rks[k]) for k in range(4)]
        z = self.project(x, in_masks) + tf.concat(rec, axis=-1)
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

    def step(self, x, states, in_masks=None, rec_masks=None):
        h = states[0]
        x_z, x_r, x_h = tf.split(self.project(x, in_masks), 3, axis=-1)
        rks = tf.split(self.recurrent_kernel, 3, axis=1)
        m_z, m_r, m_h = (tf.matmul(self.hidden(h, rec_masks, k), rks[k]) for k in range(3))
        if self.reset_after and self.bias is not None:
            m_z, m_r, m_h = (
                a + b for a, b in zip((m_z, m_r, m_h), tf.split(self.bias[1], 3), strict=True)
            )
        z = self.recurrent_activation(x_z + m_z)
        r = self.recurrent_activation(x_r + m_r)
        if self.reset_after:
            hh = self.activation(x_h + r * m_h)
        else:
            hh = self.activation(x_h + tf.matmul(r * self.hidden(h, rec_masks, 2), rks[2]))
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
        zero_output_for_mask=False,
        **kwargs,
    ):
        layer_args = ("name", "dtype", "trainable", "activity_regularizer", "autocast")
        layer_kwargs = {k: kwargs.pop(k) for k in layer_args if k in kwargs}
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
        self.zero_output_for_mask = zero_output_for_mask
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_masking = True

    def build(self, input_shape):
        self.cell.build((input_shape[0], input_shape[-1]))
        if self.stateful:
            # plain tf.Variables: Keras keeps rnn_state out of `weights`
            n_states = 2 if isinstance(self.cell, LSTMCell) else 1
            shape = (input_shape[0], self.cell.units)
            self._states = [
                tf.Variable(tf.zeros(shape, self.variable_dtype), trainable=False)
                for _ in range(n_states)
            ]

    def reset_states(self):
        for v in self._states:
            v.assign(tf.zeros_like(v))

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        n_states = 2 if isinstance(self.cell, LSTMCell) else 1
        return [out, *[None] * n_states] if self.return_state else out

    def call(self, inputs, initial_state=None, mask=None, training=None, dropout_masks=None):
        """`dropout_masks`: (input masks, recurrent masks), each None or (count, batch, width)
        -- the draws this call applies in training (the twin draws none itself)."""
        inputs = tf.convert_to_tensor(inputs, self.compute_dtype)
        batch, steps = tf.shape(inputs)[0], inputs.shape[1]
        n_states = 2 if isinstance(self.cell, LSTMCell) else 1
        states = [tf.zeros((batch, self.cell.units), self.compute_dtype)] * n_states
        if self.stateful:
            if inputs.shape[0] != self._states[0].shape[0]:
                raise ValueError(
                    f"{type(self).__name__} ({self.name}): stateful batch size "
                    f"{self._states[0].shape[0]}, received {inputs.shape[0]}"
                )
            states = [tf.cast(v, self.compute_dtype) for v in self._states]
        cell = self.cell
        in_masks, rec_masks = dropout_masks or (None, None)
        needed = [
            bool(training) and cell.applies(r) for r in (cell.dropout, cell.recurrent_dropout)
        ]
        if [in_masks is not None, rec_masks is not None] != needed:
            raise ValueError(
                f"{type(self).__name__}: pass exactly the masks this call applies: "
                f"(input, recurrent) needed {needed}"
            )
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
            new = self.cell.step(inputs[:, t], states, in_masks, rec_masks)
            if mask is None:
                states, output = new, new[0]
            else:  # a masked step keeps the states and repeats the previous output (Keras)
                keep = tf.cast(mask, tf.bool)[:, t : t + 1]
                states = [tf.where(keep, a, b) for a, b in zip(new, states, strict=True)]
                output = tf.where(keep, new[0], 0 * output if self.zero_output_for_mask else output)
            outputs.append(output)
        out = tf.stack(outputs, axis=1) if self.return_sequences else output
        if self.stateful:
            for v, state in zip(self._states, states, strict=True):
                v.assign(state)
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
