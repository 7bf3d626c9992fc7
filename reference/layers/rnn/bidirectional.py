"""Bidirectional: a recurrent layer run forwards and backwards, outputs merged
(keras/src/layers/rnn/bidirectional.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...layer import Layer

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _renamed(layer, prefix: str, **changes) -> Layer:
    """A fresh copy of `layer` from its config, named `<prefix>_<name>` (Keras recreates both
    directions from the config, so neither shares state with the layer passed in)."""
    config = {**layer.get_config(), **changes}
    name = layer.name[len(prefix) + 1 :] if layer.name.startswith(prefix + "_") else layer.name
    config["name"] = f"{prefix}_{name}"
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence forwards and a second one backwards.

    Computes: y_f = forward(x);  y_b = backward(x) (go_backwards=True), flipped back in time
    when it returns sequences;  output = concat([y_f, y_b], -1) | y_f + y_b | y_f * y_b |
    (y_f + y_b) / 2 | [y_f, y_b] for merge_mode concat | sum | mul | ave | None; with
    return_state, the forward states then the backward states follow.
    VJP: the two layers' (hand-written BPTT for SimpleRNN/GRU/LSTM), through the merge.
    Keras: keras.layers.Bidirectional(layer, merge_mode="concat", weights=None,
    backward_layer=None); both directions get zero_output_for_mask = return_sequences.
    Weights: forward_<name>/... then backward_<name>/... (or the given backward layer's name).
    """

    def __init__(
        self,
        layer: Any,
        merge_mode: Any = "concat",
        weights: Any = None,
        backward_layer: Any = None,
        **kwargs: Any,
    ):
        for arg, value in (("layer", layer), ("backward_layer", backward_layer)):
            if not isinstance(value, Layer) and (arg == "layer" or value is not None):
                raise ValueError(
                    f"Bidirectional: `{arg}` must be a `reference.Layer` instance. "
                    f"Received: {arg}={value!r}"
                )
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Bidirectional: invalid merge mode. Received: merge_mode={merge_mode!r}. "
                'Merge mode should be one of {"sum", "mul", "ave", "concat", None}'
            )
        forward = _renamed(layer, "forward")
        backward = backward_layer or _renamed(layer, "backward", go_backwards=True)
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Bidirectional: the forward and backward layers must have different "
                f"`go_backwards`. Received: forward {forward.go_backwards}, backward "
                f"{backward.go_backwards}"
            )
        for key in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, key) != getattr(backward, key):
                raise ValueError(
                    f"Bidirectional: the forward and backward layers must agree on `{key}`. "
                    f"Received: forward {getattr(forward, key)}, backward "
                    f"{getattr(backward, key)}"
                )
        super().__init__(**kwargs)
        for sub in (forward, backward):  # Keras: masked outputs are zeros when sequences
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.forward_layer = forward
        self.backward_layer = backward
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def build(self, sequences_shape: tuple, initial_state_shape: Any = None) -> None:
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(tuple(sequences_shape))
        if self._initial_weights is not None:
            n = len(self._initial_weights)
            self.forward_layer.set_weights(self._initial_weights[: n // 2])
            self.backward_layer.set_weights(self._initial_weights[n // 2 :])

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        kw = dict(mask=mask, training=training)
        y = self.forward_layer(sequences, initial_state=forward_state, **kw)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kw)
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = np.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            output = [np.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return [*output, *states]
        return output[0]

    def reset_states(self) -> None:
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def compute_mask(self, inputs, previous_mask=None):
        mask = previous_mask[0] if isinstance(previous_mask, list) else previous_mask
        out = mask if self.return_sequences else None
        outs = [out] if self.merge_mode else [out, out]
        if self.return_state:
            n = len(self.forward_layer.compute_output_shape((1, 1, 1))) - 1
            return [*outs, *[None] * (2 * n)]
        return outs[0] if self.merge_mode else outs

    def compute_output_shape(self, sequences_shape: tuple) -> Any:
        shape = self.forward_layer.compute_output_shape(tuple(sequences_shape))
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            outs = [(*shape[:-1], shape[-1] * 2)]
        else:
            outs = [shape] if self.merge_mode else [shape, shape]
        if self.return_state or self.merge_mode is None:
            return [*outs, *states, *states]
        return outs[0]

    def get_config(self) -> dict:
        from .rnn import _serialize

        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": _serialize(self.forward_layer),
            "backward_layer": _serialize(self.backward_layer),
        }
