"""The generic recurrent layer RNN(cell) and StackedRNNCells (keras/src/layers/rnn/rnn.py,
stacked_rnn_cells.py).

Any cell works: a Layer (or object) with `state_size` and `call(inputs, states[, training])`
returning (output, new_states) -- the built-in cells, a stack of cells, or a user's NumPy cell.
The loop is plain NumPy over the cell's calls, so the tape traces it: a user's cell gets its
gradient with no VJP written (the built-in SimpleRNN/GRU/LSTM layers have hand-written BPTT).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autodiff.tracked import _plain
from ...layer import Layer
from ...nest import flatten, pack_sequence_as
from ...variable import Variable


def _sizes(state_size) -> list:
    """state_size as a list (Keras: an int is one state)."""
    return [state_size] if isinstance(state_size, int) else list(state_size)


def _check_cell(owner: str, cell) -> None:
    if "call" not in dir(cell):
        raise ValueError(
            f"{owner}: the cell must have a `call` method. Received: {cell!r} "
            f"(of type {type(cell).__name__})"
        )
    if getattr(cell, "state_size", None) is None:
        raise ValueError(
            f"{owner}: the cell must have a `state_size` attribute (an int or a list of ints). "
            f"Received: {cell!r} (of type {type(cell).__name__})"
        )


def _output_size(cell) -> int:
    """Keras's rule: the cell's output_size, else the size of its first state."""
    size = getattr(cell, "output_size", None)
    return size if size is not None else flatten(_sizes(cell.state_size))[0]


def _serialize(cell) -> dict:
    """The Keras config entry of a cell (built-in cells live in keras.layers)."""
    module = "keras.layers" if type(cell).__module__.startswith("reference") else None
    return {"module": module, "class_name": type(cell).__name__, "config": cell.get_config(),
            "registered_name": None if module else type(cell).__name__}  # fmt: skip


def _call_cell(cell, inputs, states, training):
    """cell(inputs, states[, training]) through Layer.__call__ where the cell is a Layer."""
    kwargs = {"training": training} if _takes_training(cell) else {}
    return (cell if isinstance(cell, Layer) else cell.call)(inputs, states, **kwargs)


def _zeros(batch: int, state_size, dtype) -> Any:
    """Zero states in the structure of `state_size` (nested for a stack of cells)."""
    if isinstance(state_size, int):
        return np.zeros((batch, state_size), dtype)
    return [_zeros(batch, s, dtype) for s in state_size]


def _config_dropout_masks(cell, step_input, states) -> None:
    """Keras's _maybe_config_dropout_masks: every dropout cell draws its masks before the loop
    (input masks first, then recurrent), a stack cell by cell on the previous cell's output."""
    if hasattr(cell, "get_dropout_mask"):
        cell.get_dropout_mask(step_input)
        cell.get_recurrent_dropout_mask(states[0] if isinstance(states, list) else states)
    if isinstance(cell, StackedRNNCells):
        for c, s in zip(cell.cells, states, strict=True):
            _config_dropout_masks(c, step_input, s)
            step_input, _ = _call_cell(c, step_input, s if isinstance(s, list) else [s], None)


def _reset_dropout_masks(cell) -> None:
    if hasattr(cell, "reset_dropout_mask"):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    for c in getattr(cell, "cells", []) if isinstance(cell, StackedRNNCells) else []:
        _reset_dropout_masks(c)


class StackedRNNCells(Layer):
    """A stack of cells that behaves as one cell: cell k's output is cell k+1's input.

    Computes: per step, y_0 = x_t;  (y_k, s_k') = cell_k(y_{k-1}, s_k);  output y_K, states
    [s_1', ..., s_K'] (each cell's own structure).
    VJP: traced (through each cell's call).
    Keras: keras.layers.StackedRNNCells(cells).
    Weights: each cell's, in order, under `stacked_rnn_cells/<cell name>/`.
    """

    def __init__(self, cells: list, **kwargs: Any):
        for cell in cells:
            _check_cell("StackedRNNCells", cell)
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        return _output_size(self.cells[-1])

    def build(self, input_shape: tuple) -> None:
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            input_shape = (input_shape[0], _output_size(cell))

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, state in zip(self.cells, states, strict=True):
            nested = isinstance(state, list | tuple)
            inputs, new = _call_cell(cell, inputs, list(state) if nested else [state], training)
            new = list(new) if isinstance(new, list | tuple) else [new]
            new_states.append(new if nested or len(new) > 1 else new[0])
        return inputs, new_states

    def get_config(self) -> dict:
        return {**super().get_config(), "cells": [_serialize(c) for c in self.cells]}


class RNN(Layer):
    """A recurrent layer from any cell: runs the cell over the time axis.

    Computes: s_0 = initial_state or zeros;  (y_t, s_t) = cell(x_t, s_{t-1}, training) for
    t = 1 .. T (reversed with go_backwards); a masked step keeps s_{t-1} and repeats the
    previous output (zeros with zero_output_for_mask); output y_T or every y_t, plus s_T with
    return_state.
    VJP: traced through the cell's calls (a user's NumPy cell needs no VJP of its own).
    Keras: keras.layers.RNN(cell, return_sequences=False, return_state=False,
    go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False); a list of
    cells becomes a StackedRNNCells.
    Input shape: (B, T, ...).  Weights: the cell's, under `<rnn name>/<cell name>/`.
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ):
        if isinstance(cell, list | tuple):
            cell = StackedRNNCells(cell)
        _check_cell("RNN", cell)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll  # no effect on the math: the reference always loops
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        object.__setattr__(self, "states", None)  # stateful states: not weights, as Keras

    @property
    def state_size(self) -> list:
        return _sizes(self.cell.state_size)

    def build(self, sequences_shape: tuple, initial_state_shape: Any = None) -> None:
        if len(sequences_shape) < 3:
            raise ValueError(
                f"RNN ({self.name}): expected inputs of rank >= 3 (batch, timesteps, ...). "
                f"Received: input shape {tuple(sequences_shape)}"
            )
        step = (sequences_shape[0], *sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step)
            self.cell.built = True
        if self.stateful and self.states is None:
            if sequences_shape[0] is None:
                raise ValueError(f"RNN ({self.name}): stateful=True needs a static batch size.")
            zeros = flatten(_zeros(sequences_shape[0], self.state_size, self.variable_dtype))
            states = [Variable(z, trainable=False, name="rnn_state", path=f"{self.name}/rnn_state")
                      for z in zeros]  # fmt: skip
            object.__setattr__(self, "states", states)
        elif self.stateful:
            self.reset_state()

    def reset_state(self) -> None:
        for v in self.states or []:
            v.assign(np.zeros_like(v.numpy()))

    def reset_states(self) -> None:
        self.reset_state()

    def _initial(self, batch: int, dtype, initial_state) -> list:
        structure = _zeros(batch, self.state_size, dtype)
        if initial_state is None and self.stateful:
            return pack_sequence_as(structure, [v.numpy().astype(dtype) for v in self.states])
        if initial_state is None:
            return structure
        given = list(initial_state) if isinstance(initial_state, list | tuple) else [initial_state]
        want = [np.shape(z) for z in flatten(structure)]
        got = [tuple(np.shape(s)) for s in flatten(given)]
        if got != want:
            raise ValueError(
                f"RNN ({self.name}): expected `initial_state` of shape(s) {want}. "
                f"Received: shape(s) {got}"
            )
        return pack_sequence_as(structure, flatten(given))

    def call(self, sequences, initial_state=None, mask=None, training=False):
        b, steps = sequences.shape[0], sequences.shape[1]
        if self.stateful and self.states[0].shape[0] != b:
            raise ValueError(
                f"RNN ({self.name}): a stateful layer's batch size is fixed at its first call. "
                f"Expected batch size: {self.states[0].shape[0]}. Received batch size: {b}"
            )
        if mask is not None and tuple(np.shape(mask)) != (b, steps):
            raise ValueError(
                f"RNN ({self.name}): expected a mask of shape (batch, timesteps) = {(b, steps)}. "
                f"Received: mask of shape {np.shape(mask)}"
            )
        states = self._initial(b, sequences.dtype, initial_state)
        _config_dropout_masks(self.cell, sequences[:, 0], states)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, previous = [], None
        for t in order:  # the cell always receives its states as a list, as in Keras
            out, new = _call_cell(self.cell, sequences[:, t], states, training)
            new = new if isinstance(new, list | tuple) else [new]
            if mask is not None:  # a masked step keeps the states and repeats the last output
                keep = np.asarray(mask, bool)[:, t : t + 1]
                pairs = zip(flatten(new), flatten(states), strict=True)
                new = pack_sequence_as(new, [np.where(keep, a, b) for a, b in pairs])
                empty = np.zeros((), out.dtype)
                fill = empty if (self.zero_output_for_mask or previous is None) else previous
                out = np.where(keep, out, fill)
            states, previous = list(new), out
            outputs.append(out)
        _reset_dropout_masks(self.cell)
        if self.stateful:
            for v, s in zip(self.states, flatten(states), strict=True):
                v.assign(np.asarray(_plain(s)))
        output = np.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [output, *states] if self.return_state else output

    def compute_mask(self, inputs, previous_mask=None):
        out = previous_mask if self.return_sequences else None
        return [out, *[None] * len(self.state_size)] if self.return_state else out

    def compute_output_shape(self, input_shape: tuple) -> Any:
        b, t, u = input_shape[0], input_shape[1], _output_size(self.cell)
        out = (b, t, u) if self.return_sequences else (b, u)
        states = [(b, s) if isinstance(s, int) else [(b, d) for d in s] for s in self.state_size]
        return [out, *states] if self.return_state else out

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": _serialize(self.cell),
        }


def _takes_training(cell) -> bool:
    import inspect

    try:
        return "training" in inspect.signature(cell.call).parameters
    except (TypeError, ValueError):
        return False
