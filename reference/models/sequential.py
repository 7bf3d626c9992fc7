"""Sequential: a plain stack of layers, each called on the previous one's output."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layer import Layer
from .model import Model
from .symbolic import InputLayer, KerasTensor


class Sequential(Model):
    """A linear stack of layers.

    Computes: layer_n(...layer_1(x)).
    Keras: keras.Sequential(layers=None, trainable=True, name=None). An `Input` first (or
    `model.build(input_shape)`) builds the layers at once, with weight paths under the model's
    name ("sequential/dense/kernel"); otherwise they are built by the first call.
    A first layer given `input_shape=` (or `input_dim=n`, i.e. (n,)) brings its InputLayer
    (floatx, batch size None), as Keras does; Keras 3 warns about the argument and refuses
    `batch_input_shape=` (Unrecognized keyword arguments); on a later layer it is ignored.
    """

    def __init__(self, layers: list | None = None, trainable: bool = True, name: str | None = None):
        super().__init__(trainable=trainable, name=name)
        self._layers_list: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers_list)

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or an `Input`, which must come first)."""
        shape_arg = getattr(layer, "_input_shape_arg", None)
        if not self._layers_list and self._input_layer is None and shape_arg is not None:
            if not isinstance(shape_arg, list | tuple):
                raise ValueError(
                    f"Sequential '{self.name}': the first layer's input_shape must be a tuple "
                    f"such as (3,). Received: input_shape={shape_arg!r} (Keras: Cannot convert "
                    f"'{shape_arg}' to a shape.)"
                )
            self.add(InputLayer(shape=tuple(shape_arg)), rebuild=False)
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._layers_list or self._input_layer is not None:
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input "
                    f"shape {self._input_layer._batch_shape if self._input_layer else None}. "
                    "You cannot add a different Input layer to it."
                )
            self._input_layer = layer
        elif not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `reference.Layer` can be added to a Sequential model. "
                f"Received: {layer} (of type {type(layer)})"
            )
        else:
            if any(layer is x for x in self._layers_list):
                raise ValueError(f"Layer {layer.name!r} is already in Sequential '{self.name}'.")
            self._unlock()
            self._layers_list.append(layer)
            self._layers.append(layer)
        if rebuild:
            self._maybe_build()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._layers_list:
            raise TypeError("There are no layers in the model.")
        self._unlock()
        layer = self._layers_list.pop()
        self._layers.remove(layer)
        if rebuild:
            self._maybe_build()
        return layer

    def _unlock(self) -> None:
        self._locked = False
        self.built = False

    def _maybe_build(self) -> None:
        if self._input_layer is not None and self._layers_list:
            self.build(self._input_layer._batch_shape)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer from `input_shape` (batch dimension included, None allowed)."""
        if input_shape is None:
            raise ValueError(f"Sequential '{self.name}': build() needs an input shape.")
        shape = tuple(input_shape)
        if self._input_layer is None or self._input_layer._batch_shape != shape:
            if self._input_layer is None:
                shape = (None, *shape[1:])  # the first call's batch size is not kept
            dtype = self._input_layer.dtype if self._input_layer else self.dtype
            self._input_layer = InputLayer(shape=shape[1:], batch_size=shape[0], dtype=dtype)
        x = self._input_layer.output
        for layer in self._layers_list:
            x = layer(x)
        self.outputs = [x]

    @property
    def inputs(self) -> list:
        return [self._input_layer.output] if self._input_layer else []

    @property
    def input_shape(self):
        return self._input_layer._batch_shape if self._input_layer else None

    @property
    def output_shape(self):
        return self.outputs[0].shape if self.built else None

    def call(self, inputs, training=None):
        spec = self._input_layer._batch_shape if self._input_layer else None
        shape = tuple(inputs.shape)
        if spec is not None and (
            len(shape) != len(spec)
            or any(d is not None and d != s for d, s in zip(spec, shape, strict=False))
        ):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"shape={spec}, found shape={shape}"
            )
        x = inputs
        if self._input_layer is not None and x.dtype.kind in "fiu":
            # Keras converts model inputs to the Input's dtype (float32 unless given)
            dtype = np.dtype(self._input_layer.dtype)
            x = x if x.dtype == dtype else x.astype(dtype)
        for layer in self._layers_list:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return self.outputs[0].shape

    def get_config(self) -> dict:
        """Keras: Sequential.get_config: the base config, then every layer serialized (the
        InputLayer first when there is one) and "build_input_shape" once it has an input."""
        from ..saving.serialization import serialize_keras_object

        layers = ([self._input_layer] if self._input_layer else []) + self._layers_list
        dtype = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": self.dtype},
                 "registered_name": None}  # fmt: skip
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype,
                  "layers": [serialize_keras_object(x) for x in layers]}  # fmt: skip
        if self._input_layer is not None:
            config["build_input_shape"] = self._input_layer._batch_shape
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        """Keras: Sequential.from_config (reference.saving.keras_file rebuilds the layers)."""
        from ..saving.keras_file import deserialize

        entry = {"module": "keras", "class_name": "Sequential", "config": config}
        return deserialize(entry, custom_objects, f"{cls.__name__}.from_config")
