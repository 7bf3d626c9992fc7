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

    # -- saving ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True) -> None:  # fmt: skip
        """Keras: Model.compile; also records what get_compile_config saves (Keras's
        SerializableDict of the arguments, with the optimizer resolved)."""
        super().compile(optimizer=optimizer, loss=loss, loss_weights=loss_weights,
                        metrics=metrics, weighted_metrics=weighted_metrics,
                        run_eagerly=run_eagerly, steps_per_execution=steps_per_execution,
                        jit_compile=jit_compile, auto_scale_loss=auto_scale_loss)  # fmt: skip
        # Keras resolves jit_compile="auto" on TensorFlow's CPU to False, the value it saves.
        jit = False if jit_compile == "auto" or run_eagerly else bool(jit_compile)
        self._compile_config = {"optimizer": self.optimizer, "loss": loss,
                                "loss_weights": loss_weights, "metrics": metrics,
                                "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
                                "steps_per_execution": steps_per_execution,
                                "jit_compile": jit}  # fmt: skip

    def get_compile_config(self) -> dict:
        """The compile arguments, serialized ({} when the model was never compiled).
        Keras: Model.get_compile_config."""
        from ..saving.serialization import serialize_keras_object

        if not getattr(self, "compiled", False) or "_compile_config" not in self.__dict__:
            return {}
        return serialize_keras_object(self._compile_config)

    def save(self, filepath, overwrite: bool = True, zipped: bool = True) -> None:
        """Write a Keras 3 `.keras` archive (config.json, metadata.json, model.weights.h5)
        that keras.models.load_model reads; atomic (reference.saving.save_model)."""
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite, zipped=zipped)

    def summary(self, line_length: int | None = None, print_fn=None) -> None:
        """Print a table of layers, output shapes and parameter counts, as keras.Model.summary."""
        print_summary(self, line_length=line_length, print_fn=print_fn)
