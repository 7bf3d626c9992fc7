"""RNN(cell), StackedRNNCells, Bidirectional and TimeDistributed of the TF twins, in raw tf ops.

Eager Python loops over time; gradients from TensorFlow's autodiff through them.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


def _zeros(batch, size, dtype):
    if isinstance(size, int):
        return tf.zeros((batch, size), dtype)
    return [_zeros(batch, s, dtype) for s in size]


def _sizes(state_size):
    return [state_size] if isinstance(state_size, int) else list(state_size)


class StackedRNNCells(keras.layers.Layer):
    """cell k's output feeds cell k+1; states [per cell]."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", None) or tf.nest.flatten(last.state_size)[0]

    def build(self, input_shape):
        for cell in self.cells:
            cell.build(input_shape)
            size = getattr(cell, "output_size", None) or tf.nest.flatten(cell.state_size)[0]
            input_shape = (input_shape[0], size)

    def call(self, inputs, states):
        new_states = []
        for cell, state in zip(self.cells, states, strict=True):
            nested = isinstance(state, list | tuple)
            inputs, new = cell(inputs, list(state) if nested else [state])
            new = list(new) if isinstance(new, list | tuple) else [new]
            new_states.append(new if nested or len(new) > 1 else new[0])
        return inputs, new_states


class RNN(keras.layers.Layer):
    """A Python loop over the cell's calls; masks keep states and repeat the last output."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 zero_output_for_mask=False, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.cell = StackedRNNCells(cell) if isinstance(cell, list | tuple) else cell
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.zero_output_for_mask = go_backwards, zero_output_for_mask
        self.supports_masking = True

    def build(self, input_shape):
        if not self.cell.built:
            self.cell.build((input_shape[0], *input_shape[2:]))

    def call(self, inputs, initial_state=None, mask=None):
        inputs = tf.convert_to_tensor(inputs, self.compute_dtype)
        sizes = _sizes(self.cell.state_size)
        states = _zeros(tf.shape(inputs)[0], sizes, self.compute_dtype)
        if initial_state is not None:
            states = tf.nest.pack_sequence_as(states, tf.nest.flatten(initial_state))
        steps = inputs.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, previous = [], None
        for t in order:
            out, new = self.cell(inputs[:, t], states)
            new = list(new) if isinstance(new, list | tuple) else [new]
            if mask is not None:
                keep = tf.cast(mask, tf.bool)[:, t : t + 1]
                pairs = zip(tf.nest.flatten(new), tf.nest.flatten(states), strict=True)
                new = tf.nest.pack_sequence_as(new, [tf.where(keep, a, b) for a, b in pairs])
                zero = self.zero_output_for_mask or previous is None
                fill = tf.zeros_like(out) if zero else previous
                out = tf.where(keep, out, fill)
            states, previous = new, out
            outputs.append(out)
        output = tf.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [output, *states] if self.return_state else output


class Bidirectional(keras.layers.Layer):
    """forward(x) and backward(x) (go_backwards), flipped back and merged."""

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        config = layer.get_config()
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{layer.name}"})
        self.backward_layer = backward_layer or type(layer).from_config(
            {**config, "name": f"backward_{layer.name}", "go_backwards": True}
        )
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self.supports_masking = True

    def build(self, input_shape):
        self.forward_layer.build(input_shape)
        self.backward_layer.build(input_shape)

    def call(self, inputs, initial_state=None, mask=None):
        fs = bs = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fs, bs = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer(inputs, initial_state=fs, mask=mask)
        y_rev = self.backward_layer(inputs, initial_state=bs, mask=mask)
        if mask is not None and self.return_sequences:  # Keras: zeros at masked steps
            keep = tf.cast(mask, y_rev[0].dtype if self.return_state else y_rev.dtype)[..., None]
            y = [y[0] * keep, *y[1:]] if self.return_state else y * keep
            rev = keep[:, ::-1]
            y_rev = [y_rev[0] * rev, *y_rev[1:]] if self.return_state else y_rev * rev
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = tf.reverse(y_rev, axis=[1])
        merged = {
            "concat": lambda: [tf.concat([y, y_rev], axis=-1)],
            "sum": lambda: [y + y_rev],
            "ave": lambda: [(y + y_rev) / 2],
            "mul": lambda: [y * y_rev],
            None: lambda: [y, y_rev],
        }[self.merge_mode]()
        if self.return_state or self.merge_mode is None:
            return [*merged, *states]
        return merged[0]


class TimeDistributed(keras.layers.Layer):
    """The layer on every timestep, in a Python loop over t (as Keras's static-shape path)."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        self.layer.build((input_shape[0], *input_shape[2:]))

    def call(self, inputs):
        inputs = tf.convert_to_tensor(inputs, self.compute_dtype)
        return tf.stack([self.layer(inputs[:, t]) for t in range(inputs.shape[1])], axis=1)
