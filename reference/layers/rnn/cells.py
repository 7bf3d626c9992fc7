"""Recurrent cells: SimpleRNNCell, GRUCell, LSTMCell -- the weights of one step, in Keras's
names, shapes, gate order and creation order. The recurrence itself is in reference/ops/rnn.py;
the layers in layers.py run it over a sequence."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import activations, constraints, initializers, random, regularizers
from ...layer import Layer
from ...ops import rnn as rnn_ops


class _Cell(Layer):
    """Shared by the three cells: arguments, validation and the three weights."""

    gates = 1  # gate blocks side by side in the kernels
    seed_first = False  # whether Keras creates the cell's SeedGenerator before its initializers

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: Any = None,
        **kwargs: Any,
    ):
        cls = type(self).__name__
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"{cls}: received an invalid value for argument `units`, expected a positive "
                f"integer, got {units}."
            )
        if dropout or recurrent_dropout:
            raise NotImplementedError(
                f"{cls}: dropout and recurrent_dropout are not implemented in the reference yet. "
                f"Received: dropout={dropout}, recurrent_dropout={recurrent_dropout}"
            )
        # An unseeded generator and each unseeded initializer draw a seed from the global stream
        # in turn: created in Keras's order (SimpleRNNCell: generator first; GRU/LSTM cells:
        # last), a seeded model starts from Keras's weights. Dropout will draw from it.
        seed_generator = random.SeedGenerator(seed) if self.seed_first else None
        # Resolve every named object before any state exists, so a bad name changes nothing.
        activation = activations.get(activation)
        recurrent_activation = activations.get(recurrent_activation)
        resolved = dict(
            kernel_initializer=initializers.get(kernel_initializer),
            recurrent_initializer=initializers.get(recurrent_initializer),
            bias_initializer=initializers.get(bias_initializer),
            kernel_regularizer=regularizers.get(kernel_regularizer),
            recurrent_regularizer=regularizers.get(recurrent_regularizer),
            bias_regularizer=regularizers.get(bias_regularizer),
            kernel_constraint=constraints.get(kernel_constraint),
            recurrent_constraint=constraints.get(recurrent_constraint),
            bias_constraint=constraints.get(bias_constraint),
        )
        seed_generator = seed_generator or random.SeedGenerator(seed)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation
        self.recurrent_activation = recurrent_activation
        self.use_bias = use_bias
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self.seed_generator = seed_generator
        for key, value in resolved.items():
            setattr(self, key, value)

    @property
    def state_size(self):
        return self.units

    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape: tuple) -> None:
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

    def input_bias(self, bias):
        """The part of the bias added to the input projection (all of it, but for GRU)."""
        return bias

    def call(self, inputs, states, training=None):
        """One step: (output, new_states), as a Keras cell. Runs the layer's recurrence on a
        sequence of length 1."""
        states = list(states) if isinstance(states, list | tuple) else [states]
        xw = np.matmul(inputs, self.kernel)
        if self.bias is not None:
            xw = xw + self.input_bias(self.bias)
        new = self.run(xw[None], states)
        out = [s[-1] for s in new]
        return out[0], out

    def get_config(self) -> dict:
        config = {**Layer.get_config(self), "units": self.units, "use_bias": self.use_bias}
        config["activation"] = activations.serialize(self.activation)
        for key in ("kernel", "recurrent", "bias"):
            config[f"{key}_initializer"] = initializers.serialize(
                getattr(self, f"{key}_initializer")
            )
            config[f"{key}_regularizer"] = regularizers.serialize(
                getattr(self, f"{key}_regularizer")
            )
            config[f"{key}_constraint"] = constraints.serialize(getattr(self, f"{key}_constraint"))
        config.update(
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, seed=self.seed
        )
        return config


class SimpleRNNCell(_Cell):
    """One step of a fully-connected RNN.

    Computes: h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)
    Keras: keras.layers.SimpleRNNCell(units, activation="tanh", use_bias=True, ...).
    Differences: dropout and recurrent_dropout must be 0 (not implemented yet).
    Weights: kernel (in, U), recurrent_kernel (U, U), bias (U,).
    """

    seed_first = True

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any):
        if "recurrent_activation" in kwargs:
            raise ValueError(
                "SimpleRNNCell: unexpected argument `recurrent_activation` (SimpleRNN has none)."
            )
        super().__init__(units, activation=activation, **kwargs)

    def run(self, xw, states):
        return [rnn_ops.simple_rnn_forward(xw, self.recurrent_kernel, states[0], self.activation)]

    def get_config(self) -> dict:
        return super().get_config()


class LSTMCell(_Cell):
    """One step of a long short-term memory unit (gate order i, f, c, o).

    Computes: z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias;  i, f, o = rec_act(z_i,
    z_f, z_o);  c_t = f * c_{t-1} + i * act(z_c);  h_t = o * act(c_t)
    Keras: keras.layers.LSTMCell(units, activation="tanh", recurrent_activation="sigmoid",
    unit_forget_bias=True, ...): bias initialised to [init(U), ones(U), init(2U)] when
    unit_forget_bias.
    Weights: kernel (in, 4U), recurrent_kernel (U, 4U), bias (4U,).
    """

    gates = 4

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def forget_ones(shape, dtype=None):
            ones = np.ones((u,), dtype=dtype)
            return np.concatenate([init((u,), dtype=dtype), ones, init((2 * u,), dtype=dtype)])

        return forget_ones

    def run(self, xw, states):
        hs, cs, _, _ = rnn_ops.lstm_forward(
            xw,
            self.recurrent_kernel,
            states[0],
            states[1],
            self.activation,
            self.recurrent_activation,
        )
        return [hs, cs]

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }


class GRUCell(_Cell):
    """One step of a gated recurrent unit (gate order z, r, h).

    Computes (reset_after=True): m = h_{t-1} @ recurrent_kernel + bias[1];  x = x_t @ kernel +
    bias[0];  z, r = rec_act(x_z + m_z, x_r + m_r);  hh = act(x_h + r * m_h);
    h_t = z * h_{t-1} + (1 - z) * hh.  reset_after=False: one bias, and
    hh = act(x_h + (r * h_{t-1}) @ recurrent_kernel[:, 2U:]).
    Keras: keras.layers.GRUCell(units, activation="tanh", recurrent_activation="sigmoid",
    reset_after=True, ...).
    Weights: kernel (in, 3U), recurrent_kernel (U, 3U), bias (2, 3U) if reset_after else (3U,).
    """

    gates = 3

    def __init__(self, units: int, reset_after: bool = True, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self, bias):
        return bias[0] if self.reset_after else bias

    def recurrent_bias(self, bias):
        return bias[1] if (self.reset_after and bias is not None) else None

    def run(self, xw, states):
        rb = self.recurrent_bias(self.bias)
        hs, _, _ = rnn_ops.gru_forward(
            xw,
            self.recurrent_kernel,
            states[0],
            self.activation,
            self.recurrent_activation,
            self.reset_after,
            rb,
        )
        return [hs]

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
