"""Recurrent cells: SimpleRNNCell, GRUCell, LSTMCell -- the weights of one step, in Keras's
names, shapes, gate order and creation order. The recurrence itself is in reference/ops/rnn.py;
the layers in layers.py run it over a sequence."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import _config, activations, constraints, initializers, random, regularizers
from ..._config import keras_order
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
        for key, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, int | float):
                raise TypeError(
                    f"{cls}: expected `{key}` to be a float between 0 and 1. "
                    f"Received: {key}={rate!r}"
                )
        implementation = kwargs.pop("implementation", 2) if self.gates > 1 else None
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
        # Keras clamps both rates into [0, 1]; recurrent dropout forces implementation 1,
        # which draws one mask per gate block (and the input masks too).
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        if self.recurrent_dropout and implementation is not None:
            implementation = 1
        self.implementation = implementation
        self._dropout_mask = self._recurrent_dropout_mask = None
        self.seed = seed
        self.seed_generator = seed_generator
        for key, value in resolved.items():
            setattr(self, key, value)

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self) -> int:
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

    # -- dropout (Keras's DropoutRNNCell) ------------------------------------------------------
    def _mask_count(self) -> int:
        return self.gates if self.implementation == 1 else 1

    def _draw(self, rate: float, like) -> np.ndarray:
        """`count` keep masks (count, batch, width): ones / (1 - rate) where kept, else 0,
        one SeedGenerator step each (keras.random.dropout on ones_like(like))."""
        ones = np.ones(np.shape(like), np.asarray(like).dtype)
        return np.stack(
            [
                random.dropout(ones, rate, seed=self.seed_generator)
                for _ in range(self._mask_count())
            ]
        )

    def get_dropout_mask(self, step_input):
        """The input masks of this call, drawn once (Keras draws them at every call of the
        RNN layer, training or not, whenever dropout > 0)."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._draw(self.dropout, step_input)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_state):
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._draw(self.recurrent_dropout, step_state)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._recurrent_dropout_mask = None

    def active_masks(self, training) -> tuple:
        """(input masks, recurrent masks) that this call applies: Keras's cells apply them only
        when training and 0 < rate < 1 (SimpleRNNCell: whenever training and drawn)."""
        applies = (lambda r: r > 0) if self.gates == 1 else (lambda r: 0 < r < 1)
        im = self._dropout_mask if training and applies(self.dropout) else None
        rm = self._recurrent_dropout_mask if training and applies(self.recurrent_dropout) else None
        return im, rm

    def project(self, x, kernel, bias, in_masks=None):
        """x @ kernel + input bias over any leading axes; with input dropout, each gate block
        sees its own dropped copy of x: (x * m_k) @ kernel_k (one mask: (x * m) @ kernel)."""
        if in_masks is None:
            xw = np.matmul(x, kernel)
        elif len(in_masks) == 1:
            xw = np.matmul(x * in_masks[0], kernel)
        else:
            u = self.units
            blocks = [
                np.matmul(x * m, kernel[:, k * u : (k + 1) * u]) for k, m in enumerate(in_masks)
            ]
            xw = np.concatenate(blocks, axis=-1)
        return xw if bias is None else xw + self.input_bias(bias)

    def input_bias(self, bias):
        """The part of the bias added to the input projection (all of it, but for GRU)."""
        return bias

    def call(self, inputs, states, training=None):
        """One step: (output, new_states), as a Keras cell. Runs the layer's recurrence on a
        sequence of length 1, with this call's dropout masks (drawn here if not yet)."""
        states = list(states) if isinstance(states, list | tuple) else [states]
        self.get_dropout_mask(inputs)
        self.get_recurrent_dropout_mask(states[0])
        in_masks, rec_masks = self.active_masks(training)
        xw = self.project(inputs, self.kernel, self.bias, in_masks)
        new = self.run(xw[None], states, rec_masks)
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
        return keras_order(config, _config.SIMPLE_RNN_CELL)


class SimpleRNNCell(_Cell):
    """One step of a fully-connected RNN.

    Computes: h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)
    Keras: keras.layers.SimpleRNNCell(units, activation="tanh", use_bias=True, ...).
    Weights: kernel (in, U), recurrent_kernel (U, U), bias (U,).
    """

    seed_first = True

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any):
        if "recurrent_activation" in kwargs:
            raise ValueError(
                "SimpleRNNCell: unexpected argument `recurrent_activation` (SimpleRNN has none)."
            )
        super().__init__(units, activation=activation, **kwargs)

    def run(self, xw, states, rec_masks=None):
        rk = self.recurrent_kernel
        return [rnn_ops.simple_rnn_forward(xw, rk, states[0], self.activation, None, rec_masks)]

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

    def run(self, xw, states, rec_masks=None):
        hs, cs, _, _ = rnn_ops.lstm_forward(
            xw,
            self.recurrent_kernel,
            states[0],
            states[1],
            self.activation,
            self.recurrent_activation,
            None,
            rec_masks,
        )
        return [hs, cs]

    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }
        return keras_order(config, _config.LSTM_CELL)


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

    def run(self, xw, states, rec_masks=None):
        rb = self.recurrent_bias(self.bias)
        hs, _, _ = rnn_ops.gru_forward(
            xw,
            self.recurrent_kernel,
            states[0],
            self.activation,
            self.recurrent_activation,
            self.reset_after,
            rb,
            None,
            rec_masks,
        )
        return [hs]

    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
        return keras_order(config, _config.GRU_CELL)
