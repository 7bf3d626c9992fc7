"""Model: a Layer with training methods; `Model(inputs, outputs)` makes a functional model."""

from __future__ import annotations

from typing import Any

from .. import config
from ..layer import Layer
from .summary import print_summary
from .trainer import Trainer


class Model(Trainer, Layer):
    """A trainable Layer: subclass it (layers in `__init__`, the forward pass in `call`), or
    call `Model(inputs, outputs)` for a functional model.

    Computes: call(inputs); compile/fit/evaluate/predict as keras.Model.
    Keras: keras.Model(*args, **kwargs). The dtype defaults to floatx (as a Keras layer's policy
    does); inputs are not autocast by the model itself (each layer casts what it receives).
    """

    def __new__(cls, *args: Any, **kwargs: Any):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return Functional.__new__(Functional, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args: Any, name: str | None = None, trainable: bool = True,
                 dtype: Any = None, **kwargs: Any):  # fmt: skip
        if args:
            raise TypeError(
                f"{type(self).__name__}: unexpected positional arguments {args}; a functional "
                "model is created with Model(inputs, outputs)."
            )
        super().__init__(name=name, trainable=trainable, dtype=dtype or config.floatx(), **kwargs)
        self.autocast = False
        self._init_trainer()

    @property
    def layers(self) -> list[Layer]:
        return list(self._sublayers())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`, as keras.Model.get_layer."""
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[x.name for x in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length: int | None = None, print_fn=None) -> None:
        """Print a table of layers, output shapes and parameter counts, as keras.Model.summary."""
        print_summary(self, line_length=line_length, print_fn=print_fn)
