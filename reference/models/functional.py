"""Functional models: the graph of Nodes recorded from `Input`s to outputs, replayed on arrays."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import nest
from ..autodiff.tracked import TrackedArray
from .model import Model
from .symbolic import InputLayer, KerasTensor


def _map_graph(inputs: list, outputs: list) -> tuple[list, list]:
    """Keras's map_graph: (nodes in execution order, layers in Keras's `model.layers` order).

    A depth-first walk from the outputs gives a topological order and each layer's first-visit
    index; a node's depth is its longest distance to an output (a layer takes the largest over
    its nodes). Layers are sorted by decreasing depth, ties by first-visit index; nodes run by
    decreasing depth.
    """
    post, first_visit, done = [], {}, set()

    def visit(tensor):
        if tensor._keras_history is None:
            raise ValueError(f"Functional model: {tensor} was not produced by a layer call.")
        layer, index, _ = tensor._keras_history
        node = layer._inbound_nodes[index]
        if id(node) in done:
            return
        if isinstance(layer, InputLayer) and all(tensor is not x for x in inputs):
            raise ValueError(
                f"Functional model: the outputs depend on the input {tensor.name!r}, which is "
                "not among the model's `inputs`."
            )
        first_visit.setdefault(id(layer), len(first_visit))
        for parent in node.parents:
            visit(parent)
        done.add(id(node))
        post.append(node)

    for out in outputs:
        visit(out)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(post):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        for parent in node.parents:
            layer, index, _ = parent._keras_history
            key = id(layer._inbound_nodes[index])
            node_depth[key] = max(depth + 1, node_depth.get(key, 0))
    for x in inputs:  # an input that no output uses still belongs to the model
        layer = x._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], first_visit[id(layer)] = 0, -1
            post.insert(0, layer._inbound_nodes[0])
            node_depth[id(post[0])] = 0
    nodes = sorted(post, key=lambda n: -node_depth[id(n)])
    layers = list({id(n.layer): n.layer for n in post}.values())
    layers.sort(key=lambda x: (-layer_depth[id(x)], first_visit[id(x)]))
    return nodes, layers


class Functional(Model):
    """A model defined by its inputs and outputs: `Model(inputs, outputs)`.

    Computes: each recorded layer call, in topological order, on the arrays given for the
    inputs; shared layers are called once per node; nested models are single nodes.
    Keras: keras.Model(inputs, outputs, name=None) (keras.src.models.functional.Functional).
    `layers` (and so the weights) are in Keras's order: by decreasing depth in the graph, ties
    by first visit from the outputs.
    Differences: inputs are a KerasTensor, a list or a dict of them.
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
        nodes, layers = _map_graph(flat_in, flat_out)
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
            if isinstance(node.layer, InputLayer):
                continue

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

    # -- config ------------------------------------------------------------------------------
    def get_build_config(self) -> dict:
        return {"input_shape": None}  # what Keras 3.15 writes for every functional model

    def get_config(self) -> dict:
        """Keras's functional config: every layer (InputLayers included, in `layers` order)
        with its name and the calls of it that belong to this model ("inbound_nodes", their
        tensors as {"class_name": "__keras_tensor__"} entries naming [layer, node, index]),
        then "input_layers" and "output_layers" as [layer, node, index] structures.

        Keras: Functional.get_config. A node index counts only this model's calls of a layer,
        and in "input_layers"/"output_layers" a nested functional model's calls count from 1
        (Keras's get_config counts a first node of its own; the nodes' arguments do not).
        """
        from ..saving.serialization import serialize_keras_object

        own = {id(node) for node in self._nodes}
        index = {}  # id(node) -> its index in the config
        for layer in self._layers_list:
            kept = 1 if isinstance(layer, Functional) else 0
            for node in layer._inbound_nodes:
                if id(node) in own:
                    index[id(node)], kept = kept, kept + 1

        def history(x: KerasTensor) -> list:
            layer, node_index, tensor_index = x._keras_history
            return [layer.name, index[id(layer._inbound_nodes[node_index])], tensor_index]

        def tensor(x: Any) -> Any:
            if not isinstance(x, KerasTensor):
                return serialize_keras_object(x)
            layer, node_index, tensor_index = x._keras_history
            own_before = sum(id(n) in own for n in layer._inbound_nodes[:node_index])
            return {"class_name": "__keras_tensor__", "config": {
                "shape": list(x.shape), "dtype": x.dtype,
                "keras_history": [layer.name, own_before, tensor_index]}}  # fmt: skip

        def kwargs_of(node) -> dict:
            kwargs = {k: nest.map_structure(tensor, v) for k, v in node.kwargs.items()}
            # Keras's __call__ passes mask=None to every call() that takes a mask (models too)
            # and so records it.
            takes_mask = "mask" in inspect.signature(node.layer.call).parameters
            if (takes_mask or isinstance(node.layer, Model)) and "mask" not in kwargs:
                kwargs["mask"] = None
            return kwargs

        layers = []
        for layer in self._layers_list:
            entry = serialize_keras_object(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [
                {"args": nest.map_structure(tensor, list(node.args)), "kwargs": kwargs_of(node)}
                for node in layer._inbound_nodes
                if id(node) in own and not isinstance(layer, InputLayer)
            ]  # fmt: skip
            layers.append(entry)
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": nest.map_structure(history, self._inputs_struct),
                "output_layers": nest.map_structure(history, self._outputs_struct)}  # fmt: skip

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Functional:
        """Keras: Functional.from_config (functional_from_config): create the layers, then
        replay their recorded calls (reference.saving.keras_file)."""
        from ..saving.keras_file import functional_from_config

        return functional_from_config(config, custom_objects, f"{cls.__name__}.from_config")
