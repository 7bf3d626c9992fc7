"""Functional models: the graph of Nodes recorded from `Input`s to outputs, replayed on arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nest
from ..autodiff.tracked import TrackedArray
from .model import Model
from .symbolic import InputLayer, KerasTensor


def _nodes_between(inputs: list, outputs: list) -> list:
    """The Nodes that lead from `inputs` to `outputs`, in execution (topological) order."""
    order, seen = [], set()
    input_ids = {id(x) for x in inputs}

    def visit(tensor):
        if id(tensor) in input_ids:
            return
        history = tensor._keras_history
        if history is None:
            raise ValueError(f"Functional model: {tensor} was not produced by a layer call.")
        layer, index, _ = history
        node = layer._inbound_nodes[index]
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(layer, InputLayer):
            raise ValueError(
                f"Functional model: output depends on the input {tensor.name!r}, which is not "
                "among the model's `inputs`."
            )
        for parent in node.parents:
            visit(parent)
        order.append(node)

    for out in outputs:
        visit(out)
    return order


class Functional(Model):
    """A model defined by its inputs and outputs: `Model(inputs, outputs)`.

    Computes: each recorded layer call, in topological order, on the arrays given for the
    inputs; shared layers are called once per node; nested models are single nodes.
    Keras: keras.Model(inputs, outputs, name=None) (keras.src.models.functional.Functional).
    Differences: inputs are a KerasTensor, a list or a dict of them; `layers` holds the input
    layers first, then the layers in execution order (Keras sorts by graph depth, the same order
    for chains, residual blocks and multi-input/-output graphs built left to right).
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        flat_in, flat_out = nest.flatten(inputs), nest.flatten(outputs)
        for x in flat_in + flat_out:
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    "Functional model: all `inputs` and `outputs` must be symbolic values "
                    f"(from reference.Input or layer calls on them). Received: {x!r}"
                )
        for x in flat_in:
            if not isinstance(x._keras_history[0], InputLayer):
                raise ValueError(
                    f"Functional model: input {x.name!r} is not an `Input` (it was produced by "
                    f"layer {x._keras_history[0].name!r})."
                )
        super().__init__(name=name, trainable=trainable, **kwargs)
        nodes = _nodes_between(flat_in, flat_out)
        layers = [x._keras_history[0] for x in flat_in]
        for node in nodes:
            if node.layer not in layers:
                layers.append(node.layer)
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self._nodes = nodes
        self._layers_list = layers  # tracked: weights follow this order, as Keras's
        self.inputs, self.outputs = flat_in, flat_out
        self.built = True

    @property
    def layers(self) -> list:
        return list(self._layers_list)

    @property
    def input_shape(self):
        shapes = [x.shape for x in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [x.shape for x in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def _flatten_inputs(self, inputs) -> list:
        if isinstance(inputs, dict):
            names = [x.name for x in self.inputs]
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f'Model "{self.name}": missing inputs {missing}; received keys {list(inputs)}.'
                )
            return [inputs[n] for n in names]
        flat = nest.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(
                f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it received '
                f"{len(flat)} input tensors."
            )
        return flat

    def call(self, inputs, training=None):
        values: dict[int, Any] = {}
        for i, (x, spec) in enumerate(zip(self._flatten_inputs(inputs), self.inputs, strict=True)):
            self._check_input(i, x, spec)
            if isinstance(x, np.ndarray | TrackedArray) and x.dtype.kind in "fiu":
                if x.dtype != np.dtype(spec.dtype):
                    x = x.astype(spec.dtype)
            values[id(spec)] = x
        for node in self._nodes:

            def fill(a):
                return values[id(a)] if isinstance(a, KerasTensor) else a

            args = nest.map_structure(fill, node.args)
            kwargs = {k: nest.map_structure(fill, v) for k, v in node.kwargs.items()}
            out = node.layer(*args, **kwargs)
            for kt, v in zip(nest.flatten(node.outputs), nest.flatten(out), strict=True):
                values[id(kt)] = v
        return nest.pack_sequence_as(self._outputs_struct, [values[id(o)] for o in self.outputs])

    def _check_input(self, i: int, x, spec: KerasTensor) -> None:
        shape = tuple(np.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)
        if len(shape) != len(spec.shape) or any(
            d is not None and d != s for d, s in zip(spec.shape, shape, strict=False)
        ):
            raise ValueError(
                f'Input {i} of layer "{self.name}" is incompatible with the layer: expected '
                f"shape={spec.shape}, found shape={shape}"
            )

    def compute_output_shape(self, *input_shapes):
        shapes = [o.shape for o in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes
