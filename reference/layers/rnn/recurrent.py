"""Recurrent layers: SimpleRNN, GRU and LSTM over a whole sequence, with a hand-written
backpropagation through time (reference/ops/rnn.py) under the layer-VJP residuals contract.

Each layer owns its cell (a sub-layer named as Keras names it: `simple_rnn_cell`, `gru_cell`,
`lstm_cell`), so weight paths are `<cell>/kernel`, `<cell>/recurrent_kernel`, `<cell>/bias`.
`call` is the readable forward: one GEMM for the input projection of every step, then the
recurrence step by step. `vjp_fwd` runs the same code on plain arrays and keeps the per-step
gates and states; `vjp_bwd` walks them backwards, never rerunning the sequence.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import _config, regularizers
from ..._config import keras_order
from ...autodiff.tracked import TrackedArray, _plain
from ...input_spec import InputSpec
from ...layer import Layer
from ...nest import flatten
from ...ops import rnn as rnn_ops
from ...variable import Variable
from .cells import GRUCell, LSTMCell, SimpleRNNCell

_LAYER_ARGS = ("name", "dtype", "trainable", "activity_regularizer", "autocast")


class _Residuals(NamedTuple):
    x: np.ndarray  # (T, B, in) time-major, in processing order (reversed if go_backwards)
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    saved: tuple  # the recurrence's per-step values (ops.rnn *_forward)
    mask: np.ndarray | None  # (T, B) booleans in processing order
    dact: Any  # activation' from its output
    drec: Any  # recurrent_activation' from its output
    states: list  # the initial states (zeros, the stateful layer's, or constant given ones)


class _Recurrent(Layer):
    """Shared by SimpleRNN, GRU and LSTM: arguments, the sequence plumbing and the VJP."""

    cell_class: type = Layer
    n_states = 1

    def __init__(
        self,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        use_cudnn: Any = "auto",
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ):
        layer_kwargs = {k: kwargs.pop(k) for k in _LAYER_ARGS if k in kwargs}
        cell_name = self.cell_class.__name__.replace("Cell", "").lower()
        cell_name = {"simplernn": "simple_rnn"}.get(cell_name, cell_name) + "_cell"
        cell = self.cell_class(
            dtype=layer_kwargs.get("dtype"),
            trainable=layer_kwargs.get("trainable", True),
            name=cell_name,
            **kwargs,
        )
        super().__init__(**layer_kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll  # no effect on the math: the reference always loops
        self.use_cudnn = use_cudnn
        self.zero_output_for_mask = zero_output_for_mask  # matters only with a mask
        self.input_spec = InputSpec(ndim=3)
        self.supports_masking = True
        # Keras keeps a stateful layer's states out of `weights` (never saved, never trained).
        object.__setattr__(self, "states", None)

    def __getattr__(self, key: str) -> Any:
        # units, activation, kernel_initializer, ...: read through to the cell, as Keras does.
        cell = self.__dict__.get("cell")
        if cell is None or key.startswith("_"):
            raise AttributeError(key)
        return getattr(cell, key)

    def build(self, input_shape: tuple) -> None:
        self.cell.build((input_shape[0], input_shape[-1]))
        self.cell.built = True
        if self.stateful:
            if self.states is not None:
                self.reset_state()
                return
            if input_shape[0] is None:
                raise ValueError(
                    f"{type(self).__name__} ({self.name}): with `stateful=True` the batch size "
                    f"must be static. Received: input shape {input_shape}"
                )
            zeros = np.zeros((input_shape[0], self.cell.units), self.variable_dtype)
            states = [
                Variable(zeros, trainable=False, name="rnn_state", path=f"{self.name}/rnn_state")
                for _ in range(self.n_states)
            ]
            object.__setattr__(self, "states", states)

    def reset_state(self) -> None:
        """A stateful layer's states back to zeros (Keras: reset_state / reset_states)."""
        for v in self.states or []:
            v.assign(np.zeros_like(v.numpy()))

    def reset_states(self) -> None:
        self.reset_state()

    # -- forward -------------------------------------------------------------------------------
    def _initial_states(self, x, initial_state) -> list:
        """Zeros (or a stateful layer's states), or the caller's states checked: n_states arrays
        of shape (batch, units)."""
        b, u = x.shape[1], self.cell.units
        if self.stateful and self.states[0].shape[0] != b:
            raise ValueError(
                f"{type(self).__name__} ({self.name}): a stateful layer's batch size is fixed "
                f"at its first call. Expected batch size: {self.states[0].shape[0]}. "
                f"Received batch size: {b}"
            )
        if initial_state is None:
            if self.stateful:
                return [v.numpy().astype(x.dtype, copy=False) for v in self.states]
            return [np.zeros((b, u), x.dtype) for _ in range(self.n_states)]
        states = list(initial_state) if isinstance(initial_state, list | tuple) else [initial_state]
        shapes = [tuple(np.shape(s)) for s in states]
        if len(states) != self.n_states or any(shape != (b, u) for shape in shapes):
            raise ValueError(
                f"{type(self).__name__} ({self.name}): expected `initial_state` to be "
                f"{self.n_states} array(s) of shape (batch, units) = {(b, u)}. "
                f"Received: {len(states)} array(s) of shape(s) {shapes}"
            )
        return [s if s.dtype == x.dtype else s.astype(x.dtype) for s in states]

    def _time_mask(self, x, mask):
        """The mask as (T, B) booleans in processing order, checked against the inputs."""
        if mask is None:
            return None
        if tuple(np.shape(mask)) != x.shape[1::-1]:
            raise ValueError(
                f"{type(self).__name__} ({self.name}): expected a mask of shape (batch, "
                f"timesteps) = {x.shape[1::-1]}. Received: mask of shape {np.shape(mask)}"
            )
        m = np.swapaxes(mask, 0, 1).astype(bool)
        return m[::-1] if self.go_backwards else m

    def _shown(self, mask):
        """(T, B): where the output is the step's state (elsewhere it is zero)."""
        return mask if self.zero_output_for_mask else np.logical_or.accumulate(mask, axis=0)

    def _sequence(self, inputs, weights, initial_state=None, mask=None, training=None):
        """Shared by call and vjp_fwd: (outputs, x, per-step values, mask, initial states)."""
        kernel, recurrent_kernel, bias = weights
        if inputs.dtype.kind not in "fc":
            inputs = inputs.astype(self.compute_dtype)
        x = np.swapaxes(inputs, 0, 1)  # time-major
        states = self._initial_states(x, initial_state)
        mask = self._time_mask(x, mask)
        cell = self.cell
        # Keras draws this call's dropout masks up front, training or not (its
        # _maybe_config_dropout_masks): the input masks from step 0, then the recurrent ones.
        cell.get_dropout_mask(x[0])
        cell.get_recurrent_dropout_mask(states[0])
        in_masks, rec_masks = cell.active_masks(training)
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
        if self.go_backwards:
            x = x[::-1]
        xw = cell.project(x, kernel, bias, in_masks)  # every step's input projection at once
        saved = self._recurrence(xw, recurrent_kernel, bias, states, mask, rec_masks)
        last = [s[-1] for s in saved[: self.n_states]]
        ys = saved[0]
        if mask is not None:
            # Keras's output at a masked step is the previous OUTPUT, zeros before the first
            # unmasked step (even with an initial state); the states carry over.
            # zero_output_for_mask: zeros at every masked step (the last output too).
            ys = np.where(self._shown(mask)[..., None], ys, np.zeros((), ys.dtype))
        if self.stateful:
            for v, s in zip(self.states, last, strict=True):
                v.assign(np.asarray(_plain(s)))
        out = np.swapaxes(ys, 0, 1) if self.return_sequences else ys[-1]
        return ([out, *last] if self.return_state else out), x, saved, mask, states

    def call(self, inputs, initial_state=None, mask=None, training=None):
        cell = self.cell
        # .value: plain arrays outside a tape (the loop's fast path), tracked reads inside one
        weights = [w if w is None else w.value for w in (cell.kernel, cell.recurrent_kernel)]
        weights.append(None if cell.bias is None else cell.bias.value)
        return self._sequence(inputs, weights, initial_state, mask, training)[0]

    # -- backward ------------------------------------------------------------------------------
    def vjp_fwd(self, inputs, initial_state=None, mask=None, training=None):
        cell = self.cell
        if any(isinstance(s, TrackedArray) for s in flatten(initial_state)):
            # The seam differentiates `inputs` only: a caller's tracked state is traced through
            # `call`, which carries its gradient. Constant or stateful states take the BPTT.
            return NotImplemented
        if training and (cell.dropout or cell.recurrent_dropout):
            return NotImplemented  # dropout in training: traced (no hand-written rule)
        dact = rnn_ops.derivative_from_output(cell.activation)
        drec = rnn_ops.derivative_from_output(getattr(cell, "recurrent_activation", None))
        if dact is None or (drec is None and not isinstance(cell, SimpleRNNCell)):
            return NotImplemented  # an activation without a from-output rule: trace `call`
        kernel, rk = cell.kernel.value, cell.recurrent_kernel.value
        bias = None if cell.bias is None else cell.bias.value
        weights = (kernel, rk, bias)
        outputs, x, saved, m, states = self._sequence(inputs, weights, initial_state, mask)
        return outputs, _Residuals(x, kernel, rk, saved, m, dact, drec, states)

    def vjp_bwd(self, residuals, output_grads):
        x, kernel, rk, saved = residuals[:4]
        grads = output_grads if self.return_state else [output_grads]
        hs = saved[0]
        dhs = np.zeros_like(hs)
        if self.return_sequences:
            dhs += np.swapaxes(grads[0], 0, 1)
        else:
            dhs[-1] += grads[0]
        if residuals.mask is not None:
            dhs *= self._shown(residuals.mask)[..., None]  # zeroed outputs pass no gradient
        if self.return_state:
            dhs[-1] += grads[1]
        dxw, drk, db_rec = self._backward(residuals, dhs, grads[2:] if self.return_state else [])
        t, b, n_in = x.shape
        dxw2 = dxw.reshape(t * b, -1)
        dx = np.dot(dxw2, kernel.T).reshape(t, b, n_in)
        if self.go_backwards:
            dx = dx[::-1]
        c = self.cell.name
        grads_w = {
            f"{c}/kernel": np.dot(x.reshape(t * b, n_in).T, dxw2),
            f"{c}/recurrent_kernel": drk,
        }
        if self.cell.bias is not None:
            db = dxw2.sum(axis=0)
            grads_w[f"{c}/bias"] = db if db_rec is None else np.stack([db, db_rec])
        return np.swapaxes(dx, 0, 1), grads_w

    def compute_mask(self, inputs, previous_mask=None):
        """Keras's: the input mask on the output sequence (return_sequences), else None; None
        for every returned state."""
        out = previous_mask if self.return_sequences else None
        return [out, *[None] * self.n_states] if self.return_state else out

    def compute_output_shape(self, input_shape: tuple) -> Any:
        b, t, u = input_shape[0], input_shape[1], self.cell.units
        out = (b, t, u) if self.return_sequences else (b, u)
        return [out, *[(b, u)] * self.n_states] if self.return_state else out

    def get_config(self) -> dict:
        config = {
            k: v
            for k, v in self.cell.get_config().items()
            if k not in ("name", "dtype", "trainable")
        }
        config.update(Layer.get_config(self))
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
        )
        if isinstance(self.cell, SimpleRNNCell):
            config.pop("seed")  # Keras's SimpleRNN does not report its cell's seed
        order = {SimpleRNNCell: _config.SIMPLE_RNN, LSTMCell: _config.LSTM, GRUCell: _config.GRU}
        return keras_order(config, order.get(type(self.cell), ()))


class SimpleRNN(_Recurrent):
    """Fully-connected RNN over a sequence.

    Computes: h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel), h_0 = 0;
    output h_T (or every h_t with return_sequences), and [output, h_T] with return_state.
    VJP (per step, t = T-1 .. 0): dh = dy_t + dh_next;  da = dh * act'(h_t);
    drecurrent_kernel += h_{t-1}.T @ da;  dh_next = da @ recurrent_kernel.T;  then, over all
    steps at once, dx = da @ kernel.T, dkernel = x.T @ da, dbias = sum(da).
    Keras: keras.layers.SimpleRNN(units, activation="tanh", use_bias=True, ...,
    return_sequences=False, return_state=False, go_backwards=False, stateful=False).
    Differences: with a tracked `initial_state`, dropout in training or an activation other
    than tanh, sigmoid, linear, relu or hard_sigmoid, the gradient is
    traced from `call` (the layer seam differentiates the sequence only).
    Input shape: (B, T, in).  Weights: simple_rnn_cell/kernel (in, U), recurrent_kernel (U, U),
    bias (U,).
    """

    cell_class = SimpleRNNCell

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any):
        super().__init__(units=units, activation=activation, **kwargs)

    def _recurrence(self, xw, rk, bias, states, mask, rec_masks):
        act = self.cell.activation
        return (rnn_ops.simple_rnn_forward(xw, rk, states[0], act, mask, rec_masks),)

    def _backward(self, res, dhs, _state_grads):
        (hs,) = res.saved
        h0 = res.states[0]
        rk = res.recurrent_kernel
        dxw, drk, _ = rnn_ops.simple_rnn_backward(dhs, hs, h0, rk, res.dact, res.mask)
        return dxw, drk, None


class LSTM(_Recurrent):
    """Long short-term memory over a sequence (gate order i, f, c, o).

    Computes: per step, z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias;
    i, f, o = rec_act(z_i, z_f, z_o);  c_t = f * c_{t-1} + i * act(z_c);  h_t = o * act(c_t).
    VJP: ops.rnn.lstm_backward's per-step equations, then dx, dkernel, dbias over all steps.
    Keras: keras.layers.LSTM(units, activation="tanh", recurrent_activation="sigmoid",
    unit_forget_bias=True, ...); return_state gives [output, h_T, c_T].
    Differences: with a tracked `initial_state`, dropout in training or an activation other
    than tanh, sigmoid, linear, relu or hard_sigmoid, the gradient is
    traced from `call` (the layer seam differentiates the sequence only).
    Input shape: (B, T, in).  Weights: lstm_cell/kernel (in, 4U), recurrent_kernel (U, 4U),
    bias (4U,).
    """

    cell_class = LSTMCell
    n_states = 2

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(units=units, **kwargs)

    def _recurrence(self, xw, rk, bias, states, mask, rec_masks):
        cell = self.cell
        h0, c0 = states
        act, rec_act = cell.activation, cell.recurrent_activation
        return rnn_ops.lstm_forward(xw, rk, h0, c0, act, rec_act, mask, rec_masks)

    def _backward(self, res, dhs, state_grads):
        hs, cs, gates, act_cs = res.saved
        zero = np.zeros_like(hs[0])
        dc_last = state_grads[0] if state_grads else zero
        dxw, drk, _, _ = rnn_ops.lstm_backward(
            dhs,
            dc_last,
            hs,
            cs,
            gates,
            act_cs,
            res.states[0],
            res.states[1],
            res.recurrent_kernel,
            res.dact,
            res.drec,
            res.mask,
        )
        return dxw, drk, None


class GRU(_Recurrent):
    """Gated recurrent unit over a sequence (gate order z, r, h).

    Computes: ops.rnn.gru_forward's step (reset_after=True: the reset gate multiplies
    h_{t-1} @ recurrent_kernel + bias[1]; False: it multiplies h_{t-1} before the product);
    h_t = z * h_{t-1} + (1 - z) * hh.
    VJP: ops.rnn.gru_backward's per-step equations, then dx, dkernel and the input bias over all
    steps; the recurrent bias (bias[1]) from the per-step sums.
    Keras: keras.layers.GRU(units, activation="tanh", recurrent_activation="sigmoid",
    reset_after=True, ...).
    Differences: with a tracked `initial_state`, dropout in training or an activation other
    than tanh, sigmoid, linear, relu or hard_sigmoid, the gradient is
    traced from `call` (the layer seam differentiates the sequence only).
    Input shape: (B, T, in).  Weights: gru_cell/kernel (in, 3U), recurrent_kernel (U, 3U),
    bias (2, 3U) with reset_after, else (3U,).
    """

    cell_class = GRUCell

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(units=units, **kwargs)

    def _recurrence(self, xw, rk, bias, states, mask, rec_masks):
        cell = self.cell
        rb = None if bias is None else cell.recurrent_bias(bias)
        return rnn_ops.gru_forward(
            xw,
            rk,
            states[0],
            cell.activation,
            cell.recurrent_activation,
            cell.reset_after,
            rb,
            mask,
            rec_masks,
        )

    def _backward(self, res, dhs, _state_grads):
        hs, gates, mhs = res.saved
        reset_after = self.cell.reset_after
        dxw, drk, db_rec, _ = rnn_ops.gru_backward(
            dhs,
            hs,
            gates,
            mhs,
            res.states[0],
            res.recurrent_kernel,
            res.dact,
            res.drec,
            reset_after,
            res.mask,
        )
        return dxw, drk, db_rec
