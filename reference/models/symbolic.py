"""Symbolic values (Keras's KerasTensor), `Input`, and the recording of layer calls on them.

Calling a layer on a KerasTensor computes no numbers: it builds the layer from the symbolic
shape, finds the output shape (`compute_output_shape`, or else a dry run of `call` on zeros with
the unknown dimensions set to 1, as Keras's compute_output_spec traces one), and records a Node
(layer, arguments, outputs) that a functional Model later replays on real arrays.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import config, nest
from ..autodiff.tracked import paused
from ..input_spec import assert_input_compatibility
from ..layer import Layer, _build_arguments, shape_arguments, signature
from ..naming import unique_name
from ..variable import standardize_dtype


class KerasTensor:
    """A symbolic value: a shape (None for unknown), a dtype, and the node that produced it.

    Keras: keras.KerasTensor. NumPy ufuncs on it (x + y, np.tanh(x)) record an op node, as
    Keras records keras.ops calls on symbolic tensors.
    """

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype).name
        self.name = name or unique_name("keras_tensor")
        self._keras_history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        return OpLayer(ufunc)(*inputs)

    # Arithmetic, so that residual connections can be written `x + y`.
    def __add__(self, other):
        return np.add(self, other)

    def __radd__(self, other):
        return np.add(other, self)

    def __sub__(self, other):
        return np.subtract(self, other)

    def __rsub__(self, other):
        return np.subtract(other, self)

    def __mul__(self, other):
        return np.multiply(self, other)

    def __rmul__(self, other):
        return np.multiply(other, self)

    def __truediv__(self, other):
        return np.divide(self, other)

    def __neg__(self):
        return np.negative(self)


def is_symbolic(structure: Any) -> bool:
    return any(isinstance(x, KerasTensor) for x in nest.flatten(structure))


class InputLayer(Layer):
    """The layer that owns a model input. Keras: keras.layers.InputLayer."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, **kwargs):
        # The input's dtype may be any numeric or bool dtype (token ids for an Embedding), as
        # Keras's; the layer itself computes nothing, so its own policy stays floatx.
        input_dtype = standardize_dtype(dtype, f"dtype of InputLayer {name!r}")
        if np.dtype(input_dtype).kind not in "biuf":
            raise ValueError(f"InputLayer {name!r}: dtype must be a float, integer or bool "
                             f"dtype. Received: dtype={dtype!r}")  # fmt: skip
        super().__init__(name=name, dtype=config.floatx() if np.dtype(input_dtype).kind != "f"
                         else input_dtype, **kwargs)  # fmt: skip
        self._input_dtype = input_dtype
        self._batch_shape = (batch_size, *tuple(shape))
        self.output = KerasTensor(self._batch_shape, input_dtype, self.name, (self, 0, 0))
        self._inbound_nodes = [Node(self, (), {}, self.output)]
        self.built = True

    @property
    def dtype(self) -> str:
        """The input's dtype (Keras: InputLayer.dtype), not a compute policy."""
        return self._input_dtype

    def call(self, inputs):
        return inputs

    def get_config(self) -> dict:
        return {"batch_shape": self._batch_shape, "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}  # Keras's keys  # fmt: skip


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None) -> KerasTensor:
    """A symbolic model input of shape (batch_size, *shape).

    Keras: keras.Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
    name=None, tensor=None, optional=False). dtype defaults to floatx.
    """
    if batch_shape is not None:
        batch_size, shape = batch_shape[0], batch_shape[1:]
    if shape is None:
        raise ValueError("Input: you must pass a `shape` argument (or `batch_shape`).")
    if isinstance(shape, int):
        shape = (shape,)
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output


class Node:
    """One recorded call: layer(*args, **kwargs) -> outputs, with KerasTensors in args/kwargs."""

    def __init__(self, layer, args, kwargs, outputs):
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs
        self.parents = [x for x in nest.flatten((args, kwargs)) if isinstance(x, KerasTensor)]


class OpLayer(Layer):
    """A NumPy ufunc applied to symbolic values (x + y in a functional model)."""

    def __init__(self, ufunc, **kwargs):
        super().__init__(name=unique_name(ufunc.__name__), **kwargs)
        self.ufunc = ufunc
        self.autocast = False

    def call(self, *inputs):
        return self.ufunc(*inputs)

    def compute_output_shape(self, *shapes):
        known = [tuple(1 if d is None else d for d in s) for s in shapes if s is not None]
        out = np.broadcast_shapes(*known)
        none_at = {len(out) - len(s) + i for s in shapes if s for i, d in enumerate(s) if d is None}
        return tuple(None if i in none_at else d for i, d in enumerate(out))


class _Spec:
    """An output's shape and dtype (a leaf for nest, unlike a shape tuple)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype


def _specs_from_shapes(shapes, dtype):
    """compute_output_shape's result: one shape tuple, or a list/dict of them."""
    if isinstance(shapes, tuple | list) and all(
        d is None or isinstance(d, int | np.integer) for d in shapes
    ):
        return _Spec(shapes, dtype)
    if isinstance(shapes, dict):
        return {k: _specs_from_shapes(v, dtype) for k, v in shapes.items()}
    return [_specs_from_shapes(v, dtype) for v in shapes]


def _dry_run(layer: Layer, args, kwargs, batch_known: bool):
    """Output specs from a call on zeros (unknown dimensions set to 1, the batch put back)."""

    def concrete(x):
        if isinstance(x, KerasTensor):
            return np.zeros(tuple(1 if d is None else d for d in x.shape), x.dtype)
        return x

    code = layer.call.__code__
    call_kwargs = {k: nest.map_structure(concrete, v) for k, v in kwargs.items()}
    if "training" in code.co_varnames[: code.co_argcount]:
        call_kwargs["training"] = False  # a dry run must not move BatchNormalization statistics
    with paused():
        out = layer.call(*nest.map_structure(concrete, args), **call_kwargs)

    def spec(y):
        shape = tuple(np.shape(y))
        if shape and not batch_known:
            shape = (None, *shape[1:])
        return _Spec(shape, np.asarray(y).dtype.name)

    return nest.map_structure(spec, out)


def _output_shape(layer: Layer, args: tuple, kwargs: dict) -> Any:
    """compute_output_shape on the call's shapes: by Keras's rule (each tensor argument's shape
    as its `<argument>_shape` parameter, or the first one's for a one-parameter method), or
    positionally for a method that takes `*shapes` (an OpLayer's)."""
    target = layer.compute_output_shape
    kinds = [p.kind for p in signature(target).parameters.values()]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        shapes = nest.map_structure(
            lambda x: tuple(x.shape) if isinstance(x, KerasTensor) else None, list(args)
        )
        return target(*shapes)
    return target(**shape_arguments(layer, target, "compute_output_shape", args, kwargs))


def symbolic_call(layer: Layer, args: tuple, kwargs: dict) -> Any:
    """Layer.__call__ on KerasTensors: build from the symbolic shapes, record a Node."""
    flat = [x for x in nest.flatten((args, kwargs)) if isinstance(x, KerasTensor)]
    first = args[0] if args else next(iter(kwargs.values()))
    assert_input_compatibility(layer.input_spec, first, layer.name)
    if not layer.built:  # the same build arguments as an eager call (keras-facts 1.3)
        layer.build(**_build_arguments(layer, args, kwargs))
        assert_input_compatibility(layer.input_spec, first, layer.name)
    try:
        # As Keras's compute_output_spec: the layer's compute dtype (an Embedding of int ids
        # gives floats), except for layers that only move values (Flatten, Reshape, Permute)
        # and those that never cast (an OpLayer).
        keeps = getattr(layer, "_symbolic_keeps_input_dtype", False) or isinstance(layer, OpLayer)
        dtype = flat[0].dtype if keeps else layer.compute_dtype
        specs = _specs_from_shapes(_output_shape(layer, args, kwargs), dtype)
    except NotImplementedError:
        specs = _dry_run(
            layer, args, kwargs, batch_known=bool(flat) and flat[0].shape[:1] != (None,)
        )
    if "_inbound_nodes" not in layer.__dict__:
        object.__setattr__(layer, "_inbound_nodes", [])
    index = len(layer._inbound_nodes)
    leaves = nest.flatten(specs)
    tensors = [
        KerasTensor(s.shape, s.dtype, history=(layer, index, i)) for i, s in enumerate(leaves)
    ]
    outputs = nest.pack_sequence_as(specs, tensors)
    layer._inbound_nodes.append(Node(layer, args, kwargs, outputs))
    return outputs
