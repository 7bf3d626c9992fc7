"""Layer: state created in `build` with `add_weight`, computation in `call`, as in Keras 3."""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import warnings
from typing import Any

import numpy as np

from . import config as _config
from . import constraints, initializers, nest, regularizers
from .autodiff import tape as _tape
from .autodiff.tracked import TrackedArray, is_recording
from .input_spec import assert_input_compatibility
from .naming import to_snake_case, unique_name
from .variable import FLOAT_DTYPES, Variable, standardize_dtype

_state = threading.local()


def _scope() -> list:
    if not hasattr(_state, "scope"):
        _state.scope = []
    return _state.scope


@contextlib.contextmanager
def initializers_skipped():
    """Within it, add_weight runs no initializer: a new variable's value is a read-only
    zero-stride view of one zero, which takes no memory. reference.saving.load_model builds
    a model whose every value the file then replaces (a 10M-weight glorot draw costs ~15x
    the read of the file, and even a zero fill costs about one read)."""
    before = getattr(_state, "skip_initializers", False)
    _state.skip_initializers = True
    try:
        yield
    finally:
        _state.skip_initializers = before


def _policy_name(dtype: Any, layer: str) -> str:
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        dtype = dtype.get("config", {}).get("name")
    # None: the global dtype policy, as Keras 3 (fixed from floatx() at its first read).
    dtype = _config.dtype_policy() if dtype is None else dtype
    name = standardize_dtype(getattr(dtype, "name", dtype), "dtype")
    if name not in FLOAT_DTYPES:
        raise ValueError(
            f"Layer {layer!r}: dtype must be one of {list(FLOAT_DTYPES)}. Received: dtype={dtype!r}"
        )
    return name


# Argument types that are never KerasTensors: skipped without a (failing, slow) hasattr.
_NOT_SYMBOLIC = frozenset({np.ndarray, TrackedArray, bool, int, float, str, type(None)})


def _is_symbolic(args: tuple, kwargs: dict) -> bool:
    """Any KerasTensor (reference.Input or a layer call on one) among the call's arguments."""
    return any(
        type(x) not in _NOT_SYMBOLIC and hasattr(x, "_keras_history")
        for x in nest.flatten((args, kwargs))
    )


def _is_input(x) -> bool:
    return x is None or isinstance(x, np.ndarray | np.generic | TrackedArray | Variable)


# add_weight's positional arguments: Keras 3's, and Keras 2's (a string first: the name).
_KERAS3_ORDER = ("shape", "initializer", "dtype")
_KERAS2_ORDER = ("name", "shape", "dtype", "initializer", "regularizer", "trainable", "constraint")
# The Layer's own bookkeeping: never scanned for sub-layers (it holds variables, losses, ...),
# and a model's private lists (its graph's nodes, its layer list -- every layer in them is in
# `_layers` already -- and what compile() keeps): `_sublayers` runs ~20 times per training
# step, and these containers were most of what it scanned. Public names stay scanned: a
# user's layer may keep sub-layers in a list it calls `outputs`.
_BOOKKEEPING = frozenset(
    {"_trainable_variables", "_non_trainable_variables", "_layers", "_losses", "_auto_config",
     "_nodes", "_layers_list", "_compile_config", "_compiled_metrics", "_output_loss_trackers"}
)  # fmt: skip
_CONTAINERS = frozenset({list, tuple, dict, set})
_LOCKED = (
    "You cannot add new elements of state (variables or sub-layers) to a layer that is already "
    "built. All state must be created in the `__init__()` method or in the `build()` method."
)


class Layer:
    """The base class of every layer: state in Variables, `build` once, then `call`.

    Computes: __call__(x) = call(x), after build(x.shape) on the first call.
    Keras: keras.layers.Layer(*, activity_regularizer=None, trainable=True, dtype=None,
    autocast=True, name=None).
    Differences: float16/32/64 policies only (no mixed precision), no masking, no symbolic
    (KerasTensor) calls; add_weight also takes Keras 2's name-first form; a failed build changes
    nothing (Keras keeps the variables created before the failure).
    """

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # As Keras: wrap this instance's build so that a manual layer.build(shape) also marks
        # the layer built, and remember the constructor arguments for the automatic get_config.
        object.__setattr__(obj, "build", _build_wrapper(obj, obj.build))
        try:
            bound = signature(cls.__init__).bind(obj, *args, **kwargs)
            bound.apply_defaults()
            config = dict(bound.arguments)
            config.pop("self")
            config.update(config.pop("kwargs", {}))
        except TypeError:
            config = None
        object.__setattr__(obj, "_auto_config", config)
        return obj

    def __init__(
        self,
        *,
        activity_regularizer: Any = None,
        trainable: bool = True,
        dtype: Any = None,
        autocast: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ):
        cls_name = type(self).__name__
        # Keras: input_dim=n is input_shape=(n,) and wins (an input_shape beside it is then
        # unrecognized); kept for Sequential, which builds its first layer from it
        input_dim = kwargs.pop("input_dim", None)
        input_shape = (input_dim,) if input_dim is not None else kwargs.pop("input_shape", None)
        if input_shape is not None:
            warnings.warn(
                "Do not pass an `input_shape`/`input_dim` argument to a layer. When using "
                "Sequential models, prefer using an `Input(shape)` object as the first layer "
                "in the model instead.",
                stacklevel=2,
            )
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {cls_name}: {kwargs}")
        object.__setattr__(self, "_input_shape_arg", input_shape)
        if not isinstance(trainable, bool):
            raise ValueError(
                f"Expected `trainable` to be a boolean. Received: trainable={trainable} "
                f"(of type {type(trainable)})"
            )
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        self._dtype = _policy_name(dtype, cls_name)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._trainable_variables: list[Variable] = []
        self._non_trainable_variables: list[Variable] = []
        self._layers: list[Layer] = []
        self._losses: list = []
        self._trainable = trainable
        self.autocast = autocast
        self.name = name or unique_name(to_snake_case(cls_name))
        self.built = False
        self._locked = False
        self._path = None
        self.input_spec = None

    # -- tracking -----------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        tracked = self.__dict__.get("_layers")
        if tracked is not None and not name.startswith("__"):
            new_layers = [x for x in _leaves_of(value, Layer) if x is not self and x not in tracked]
            new_vars = [v for v in _leaves_of(value, Variable) if not self._owns(v)]
            if (new_layers or new_vars) and self._locked:
                raise ValueError(_LOCKED)
            tracked.extend(new_layers)
            for v in new_vars:
                self._track_variable(v)
        object.__setattr__(self, name, value)

    def _owns(self, v: Variable) -> bool:
        return any(v is w for w in self._trainable_variables + self._non_trainable_variables)

    def _track_variable(self, v: Variable) -> None:
        if not self._trainable:
            v.trainable = False
        (self._trainable_variables if v.trainable else self._non_trainable_variables).append(v)

    def _sublayers(self) -> list[Layer]:
        """Direct sub-layers in first-assignment order (those appended to lists later too)."""
        # This runs several times per training step, so it is a flat loop: exact type tests for
        # the plain containers (cheaper than a union isinstance), and no list per leaf.
        found = self._layers
        for key, value in self.__dict__.items():
            if type(value) in _CONTAINERS:
                if key not in _BOOKKEEPING:
                    _collect_layers(value, found, self)
            elif isinstance(value, Layer) and value is not self and value not in found:
                found.append(value)
        return found

    @property
    def weights(self) -> list[Variable]:
        """Own trainable, own non-trainable, then each sub-layer's weights (Keras 3 order)."""
        out, seen = [], set()
        for v in self._trainable_variables + self._non_trainable_variables:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for layer in self._sublayers():
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    variables = weights

    @property
    def trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if v.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if not v.trainable] if self.trainable else self.weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze or unfreeze this layer and every sub-layer (non-trainable state is untouched)."""
        self._trainable = bool(value)
        for v in self._trainable_variables:
            v.trainable = bool(value)
        for layer in self._sublayers():
            layer.trainable = value

    @property
    def dtype(self) -> str:
        return self._dtype

    variable_dtype = compute_dtype = input_dtype = dtype

    @property
    def path(self) -> str | None:
        return self._path

    # -- weights in and out ------------------------------------------------------------------
    def add_weight(
        self,
        *args: Any,
        shape: Any = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool | None = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: str | None = "none",
        overwrite_with_gradient: bool = False,
        name: str | None = None,
    ) -> Variable:
        """Create a Variable owned by this layer, as Keras 3's add_weight.

        Keras: Layer.add_weight(shape=None, initializer=None, dtype=None, trainable=True,
        autocast=True, regularizer=None, constraint=None, aggregation="none",
        overwrite_with_gradient=False, name=None); at most 3 positionals (shape, initializer,
        dtype).
        Differences: Keras 2's form `add_weight("kernel", shape, dtype, initializer, ...)` (a
        string first) is also accepted; Keras 3 raises ValueError for it.
        """
        self._check_super_called()
        given = dict(
            shape=shape,
            initializer=initializer,
            dtype=dtype,
            name=name,
            regularizer=regularizer,
            trainable=trainable,
            constraint=constraint,
        )
        order = _KERAS2_ORDER if args and isinstance(args[0], str) else _KERAS3_ORDER
        if len(args) > len(order):
            raise TypeError(
                f"add_weight() takes at most {len(order)} positional arguments but "
                f"{len(args)} were given."
            )
        for key, value in zip(order, args, strict=False):
            if key in _KERAS3_ORDER + ("name",) and given[key] is not None:
                raise ValueError(f"`{key}` was passed both positionally and as a keyword argument.")
            given[key] = value
        shape, dtype, name = given["shape"], given["dtype"], given["name"]
        regularizer, constraint = given["regularizer"], given["constraint"]
        trainable = True if given["trainable"] is None else given["trainable"]
        if aggregation not in (None, "none", "mean", "sum", "only_first_replica"):
            raise ValueError(
                "Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, "
                f"`'mean'`, `'sum'`, `'only_first_replica'`. Received: aggregation={aggregation}"
            )
        if self._locked:
            raise ValueError(_LOCKED)
        dtype = standardize_dtype(dtype or self.variable_dtype)
        if shape is None:
            shape = ()
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for d in shape:
            if not (d is None or isinstance(d, int | np.integer)) or isinstance(d, bool):
                raise ValueError(
                    f"Cannot convert '{shape}' to a shape. Found invalid dimension '{d}' of type "
                    f"'{type(d)}'. "
                )
        shape = tuple(None if d is None else int(d) for d in shape)
        init = given["initializer"]
        if init is None:
            init = initializers.get("glorot_uniform" if "float" in dtype else "zeros")
        elif not callable(init) or isinstance(init, type | dict):
            init = initializers.get(init)
        skip = getattr(_state, "skip_initializers", False) and None not in shape
        if skip:  # initializers_skipped(): the variable is created from one zero
            init = np.zeros((), dtype)
        with self._name_scope():
            prefix = "/".join(layer.name for layer in _scope())
            name = name if name is not None else unique_name("variable")
            variable = Variable(
                init,
                shape=None if skip else shape,
                dtype=dtype,
                trainable=trainable,
                name=name,
                path=f"{prefix}/{name}" if isinstance(name, str) else None,
                regularizer=regularizers.get(regularizer),
                constraint=constraints.get(constraint),
            )
        if skip:  # then takes its shape as a read-only view (no memory; a load replaces it)
            variable._value = np.broadcast_to(variable._value, shape)
        self._track_variable(variable)
        return variable

    def get_weights(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: list) -> None:
        """Assign every weight, in `weights` order; nothing is assigned unless all fit."""
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list "
                f"of length {len(weights)}, but the layer was expecting {len(params)} weights."
            )
        values = [np.asarray(w) for w in weights]
        for v, w in zip(params, values, strict=True):
            if v.shape != w.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {v.shape} is not compatible with provided "
                    f"weight shape {w.shape} (weight {v.path!r})."
                )
        for v, w in zip(params, values, strict=True):
            v.assign(w)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Write a Keras 3 `.weights.h5` file (reference.saving.save_weights)."""
        from . import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(
        self, filepath: Any, skip_mismatch: bool = False, by_name: bool = False
    ) -> None:
        """Read a Keras 3 `.weights.h5` file, or a Keras 2 `.h5` one (by topology or by_name),
        all or nothing (reference.saving.load_weights)."""
        from . import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(np.prod(v.shape) for v in self.weights))

    # -- losses --------------------------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        self._losses.append(loss)

    @property
    def losses(self) -> list:
        """Own add_loss values, sub-layers' ones, then regularizers of trainable weights (lazy)."""
        out = list(self._losses)
        for layer in self._flatten_layers():
            out.extend(layer._losses)
        return out + [v.regularizer(v) for v in self.trainable_weights if v.regularizer]

    def _flatten_layers(self) -> list[Layer]:
        """Every layer below this one, depth first, each once."""
        out: list[Layer] = []
        seen: set[int] = set()
        for layer in self._sublayers():
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
                for x in layer._flatten_layers():
                    if id(x) not in seen:
                        seen.add(id(x))
                        out.append(x)
        return out

    # -- masks (docs/porting-guide.md section 9; reference/layers/core/masking.py) -----------
    @property
    def supports_masking(self) -> bool:
        """Whether outputs get compute_mask's mask: as Keras, True when the class overrides
        compute_mask, unless set."""
        value = self.__dict__.get("_supports_masking")
        return type(self).compute_mask is not Layer.compute_mask if value is None else value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        object.__setattr__(self, "_supports_masking", bool(value))

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The outputs' mask; by default the inputs' (Keras)."""
        return previous_mask

    # -- the call ------------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the state; the default creates none."""

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `call()` method implemented."
        )

    def compute_output_shape(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `compute_output_shape` method "
            "implemented. Should implement `def compute_output_shape(self, input_shape)`."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._check_super_called()
        if _is_symbolic(args, kwargs):  # a functional model's graph is being recorded
            from .models.symbolic import symbolic_call

            return symbolic_call(self, args, kwargs)
        previous_mask = _populate_mask(self, args, kwargs)  # before conversion makes new arrays
        args = nest.map_structure(self._convert_input, args)
        kwargs = {k: nest.map_structure(self._convert_input, v) for k, v in kwargs.items()}
        for arg in nest.flatten(args):
            if not _is_input(arg):
                raise ValueError(
                    "Only input tensors may be passed as positional arguments. The following "
                    f"argument value should be passed as a keyword argument: {arg} "
                    f"(of type {type(arg)})"
                )
        first = args[0] if args else next(iter(kwargs.values()), None)
        assert_input_compatibility(self.input_spec, first, self.name)
        if not self.built:
            self.build(**_build_arguments(self, args, kwargs))
            assert_input_compatibility(self.input_spec, first, self.name)
        entry = getattr(_state, "context", None) is None
        if entry:
            _state.context = {}
            for layer in [self, *self._flatten_layers()]:
                layer._losses.clear()
        try:
            self._resolve_training(args, kwargs, _state.context)
            with self._name_scope():
                outputs = NotImplemented
                if len(args) == 1 and _has_fused_vjp(type(self)) and is_recording():
                    if _tape.layer_vjps_enabled():
                        from .layers import fused  # the layer side of the VJP seam

                        outputs = fused.call_with_vjp(self, args[0], kwargs)
                if outputs is NotImplemented:
                    outputs = self.call(*args, **kwargs)
            outputs = _propagate_mask(self, first, outputs, previous_mask)
            if self.activity_regularizer is not None:
                for out in nest.flatten(outputs):
                    loss = self.activity_regularizer(out)
                    if np.ndim(out) > 0 and np.shape(out)[0]:
                        loss = loss / np.shape(out)[0]
                    self.add_loss(loss)
        finally:
            if entry:
                _state.context = None
        return outputs

    def _convert_input(self, x: Any) -> Any:
        if isinstance(x, Variable):
            x = x._read()
        elif isinstance(x, np.generic):
            x = np.asarray(x)
        if isinstance(x, np.ndarray):
            if x.dtype.kind not in "biufc":
                raise ValueError(
                    f"Layer '{self.name}': inputs must be numeric arrays. Received an array of "
                    f"dtype {x.dtype} (as Keras: 'Failed to convert a NumPy array to a Tensor')."
                )
            x = _tape.track_input(x)
        if (
            self.autocast
            and isinstance(x, np.ndarray | TrackedArray)
            and x.dtype.kind == "f"  # np.issubdtype(dtype, np.floating), without its cost
            and x.dtype != np.dtype(self.compute_dtype)
        ):
            x = x.astype(self.compute_dtype)
        return x

    def _resolve_training(self, args: tuple, kwargs: dict, context: dict) -> None:
        """Keras 3.15's rule: explicit value, else the outer call's, else call()'s default.

        The resolved value is stored in the one context of this top-level call, so it reaches
        later sibling layers too (Keras 3.15 behaves so; docs/keras-facts.md#fact-1-4).
        """
        params = _call_params(type(self))
        index = _training_index(type(self))
        positional = index is not None and index < len(args)
        if "training" in kwargs:
            value = kwargs["training"] if index is not None else kwargs.pop("training")
        elif positional:
            value = args[index]
        elif context.get("training") is not None:
            value = context["training"]
        else:
            default = params["training"].default if index is not None else None
            value = None if default is inspect.Parameter.empty else default
        context["training"] = value
        if index is not None and not positional and value is not None:
            kwargs["training"] = value

    # -- names, config -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _name_scope(self):
        scope = _scope()
        pushed = not scope or scope[-1] is not self
        if pushed:
            scope.append(self)
        try:
            yield
        finally:
            if pushed:
                scope.pop()

    def _check_super_called(self) -> None:
        if "_layers" not in self.__dict__:
            raise RuntimeError(
                f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` as "
                "the first statement in the `__init__()` method. Go add it!"
            )

    def get_config(self) -> dict:
        self._check_super_called()
        config: dict[str, Any] = {"name": self.name}
        overridden = type(self).get_config is not Layer.get_config
        if not overridden and type(self).__init__ is not Layer.__init__:
            extra = dict(self._auto_config or {})
            if not _plain_config(extra):
                raise NotImplementedError(
                    f"Object {type(self).__name__} was created by passing non-serializable "
                    "argument values in `__init__()`, and therefore the object must override "
                    "`get_config()` in order to be serializable."
                )
            extra.pop("name", None)
            config.update(extra)
            params = signature(type(self).__init__).parameters
            if "name" not in params and "kwargs" not in params:
                del config["name"]  # Keras 3.15 drops it too (docs/keras-facts.md#fact-4-1)
        config["trainable"] = self.trainable
        config["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                           "config": {"name": self.dtype}, "registered_name": None}  # fmt: skip
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    def get_build_config(self) -> dict | None:
        """The shape(s) build() received, as Keras: {"input_shape": shape} for one argument,
        {"shapes_dict": {...}} for several; None when the layer was never built, or has no
        build() of its own (Keras then marks it built without calling build; a layer whose
        Keras twin has none says so with `_saves_build_config = False`)."""
        shapes = self.__dict__.get("_build_shapes_dict")
        default_build = type(self).build is Layer.build
        if not shapes or default_build or not getattr(self, "_saves_build_config", True):
            return None
        if len(shapes) == 1:
            return {"input_shape": next(iter(shapes.values()))}
        return {"shapes_dict": shapes}

    def build_from_config(self, config: dict | None) -> None:
        """Keras: Layer.build_from_config: build(input_shape) or build(**shapes_dict)."""
        if config and "input_shape" in config:
            self.build(config["input_shape"])
        elif config and "shapes_dict" in config:
            self.build(**config["shapes_dict"])

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        config = {k: _sublayer(v) for k, v in config.items()}
        try:
            return cls(**config)
        except Exception as e:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\n"
                f"Exception encountered: {e}"
            ) from e

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _collect_layers(container: Any, found: list, owner: Layer) -> None:
    """Append to `found` the layers in a nested plain container not already in it (by
    identity: `in` compares with ==, which a Layer does not define, so it is `is`)."""
    for value in container.values() if type(container) is dict else container:
        if type(value) in _CONTAINERS:
            _collect_layers(value, found, owner)
        elif isinstance(value, Layer) and value is not owner and value not in found:
            found.append(value)


@functools.cache
def _has_fused_vjp(cls: type) -> bool:
    """fused.has_fused_vjp, once per class (it walks the MRO)."""
    from .layers import fused

    return fused.has_fused_vjp(cls)


def _leaves_of(value: Any, kind: type) -> list:
    if isinstance(value, kind):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple | set):
        return [x for v in value for x in _leaves_of(v, kind)]
    return []


def _populate_mask(layer: Layer, args: tuple, kwargs: dict) -> Any:
    """Keras's __call__ step 6: a `call` with a `mask` parameter, one tensor argument and no
    mask passed gets that argument's mask. Returns the previous mask (passed, else attached)."""
    if not args:
        return kwargs.get("mask")
    from .layers.core import masking

    if kwargs.get("mask") is None and len(args) == 1 and "mask" in _call_params(type(layer)):
        found = masking.masks_of(args[0])
        if found is not None:
            kwargs["mask"] = found
    return kwargs["mask"] if kwargs.get("mask") is not None else masking.masks_of(args[0])


def _propagate_mask(layer: Layer, first: Any, outputs: Any, previous_mask: Any) -> Any:
    """Attach compute_mask's mask to the outputs of a masking layer (Keras's
    _set_mask_metadata); warn, as Keras, when a mask reaches a layer that drops it."""
    if not layer.supports_masking:
        if previous_mask is not None:
            warnings.warn(
                f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input with "
                "a mask attached to it. However, this layer does not support masking and will "
                "therefore destroy the mask information. Downstream layers will not see the mask.",
                stacklevel=3,
            )
        return outputs
    if previous_mask is None and type(layer).compute_mask is Layer.compute_mask:
        return outputs  # the default compute_mask passes None on: nothing to attach
    from .layers.core import masking

    if all(masking.get_keras_mask(o) is not None for o in nest.flatten(outputs)):
        return outputs
    return masking.attach_masks(outputs, layer.compute_mask(first, previous_mask))


@functools.cache
def _training_index(cls: type) -> int | None:
    """The position of `training` among call()'s parameters (after self), or None."""
    names = list(_call_params(cls))
    return names.index("training") if "training" in names else None


def signature(fn: Any) -> inspect.Signature:
    """inspect.signature(fn), cached per function for plain functions and for bound methods
    (through their function, less the bound first parameter, as inspect does): building a
    layer asks for a few signatures, ~20 us each, which was a third of rebuilding a model from
    its config. A build wrapper is read through, as inspect does; anything else (a partial, a
    callable object) is not cached."""
    if inspect.ismethod(fn) and inspect.isfunction(fn.__func__):
        return _bound_signature(fn.__func__)
    if inspect.isfunction(fn) and not hasattr(fn, "__signature__"):
        inner = getattr(fn, "__wrapped__", None)  # the build wrapper: inspect reads through it
        if inner is None:
            return _function_signature(fn)
        if inspect.ismethod(inner) or inspect.isfunction(inner):
            return signature(inner)
    return inspect.signature(fn)


@functools.cache
def _function_signature(fn: Any) -> inspect.Signature:
    return inspect.signature(fn)


@functools.cache
def _bound_signature(fn: Any) -> inspect.Signature:
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if not params or params[0].kind not in (inspect.Parameter.POSITIONAL_ONLY,
                                            inspect.Parameter.POSITIONAL_OR_KEYWORD):  # fmt: skip
        return inspect.signature(fn.__get__(object()))  # inspect's own rule for the odd cases
    return sig.replace(parameters=params[1:])


@functools.cache
def _call_params(cls: type) -> dict:
    params = dict(inspect.signature(cls.call).parameters)
    params.pop("self", None)
    return params


def _build_arguments(layer: Layer, args: tuple, kwargs: dict) -> dict:
    """What Keras 3 passes to build: shapes as tuples of ints with the concrete batch size.

    A one-parameter build gets the shape of call()'s first tensor argument (a list or dict of
    shapes for a list or dict input); a build with several parameters must name each
    `<call argument>_shape` and gets those (docs/keras-facts.md#fact-1-3).
    """
    return shape_arguments(layer, layer.build, "build", args, kwargs)


def shape_arguments(layer: Layer, target: Any, what: str, args: tuple, kwargs: dict) -> dict:
    """The shapes of a call's tensor arguments as keyword arguments of `target` (build or
    compute_output_shape), by Keras's rule (get_shapes_dict, update_shapes_dict_for_target_fn):
    a one-parameter target gets the first tensor argument's shape; one with several parameters
    gets `<call argument>_shape` for each tensor argument passed (positionally or by name)."""
    call_params = signature(layer.call).parameters
    known = {k: v for k, v in kwargs.items() if k in call_params}  # e.g. drops `training`
    bound = signature(layer.call).bind_partial(*args, **known).arguments
    shapes = {
        f"{name}_shape": nest.map_structure(lambda t: None if t is None else tuple(t.shape), value)
        for name, value in bound.items()
        if call_params[name].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                          inspect.Parameter.VAR_KEYWORD)
        and name != "mask" and not name.endswith("_mask")
        and nest.flatten(value) and all(hasattr(t, "shape") for t in nest.flatten(value))
    }  # fmt: skip
    names = [
        p.name
        for p in signature(target).parameters.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if len(names) <= 1:
        return {names[0]: next(iter(shapes.values()), None)} if names else {}
    preamble = (
        f"For a `{what}()` method with more than one argument, all arguments should have a "
        "`_shape` suffix and match an argument from `call()`. E.g. "
        f"`{what}(self, foo_shape, bar_shape)`  For layer '{type(layer).__name__}', received "
        f"`{what}()` argument `{{}}`, "
    )
    for name in names:
        if not name.endswith("_shape"):
            raise ValueError(preamble.format(name) + "which does not end in `_shape`.")
        if name[: -len("_shape")] not in call_params:
            raise ValueError(
                preamble.format(name)
                + f"but `call()` does not have argument `{name[: -len('_shape')]}`."
            )
    return {name: shapes[name] for name in names if name in shapes}


def _build_wrapper(layer: Layer, build):
    """Run build in the layer's name scope, mark it built and lock it; on failure undo it all."""

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        layer._check_super_called()
        saved = dict(layer.__dict__)
        saved_lists = {k: list(v) for k, v in saved.items() if isinstance(v, list)}
        try:
            with layer._name_scope():
                object.__setattr__(layer, "_path", "/".join(x.name for x in _scope()))
                build(*args, **kwargs)
        except BaseException:
            layer.__dict__.clear()
            layer.__dict__.update(saved)
            for k, v in saved_lists.items():
                saved[k][:] = v
            raise
        layer.built = True
        layer._locked = True
        try:  # what get_build_config saves, as Keras's build_wrapper records it
            shapes = dict(signature(build).bind(*args, **kwargs).arguments)
        except TypeError:
            shapes = None
        object.__setattr__(layer, "_build_shapes_dict", shapes)

    return wrapper


def _sublayer(value: Any) -> Any:
    """A serialized layer in a config (a wrapper's `layer`, an RNN's `cell`, StackedRNNCells'
    `cells`) made into the layer, as those Keras classes' from_config do; other values as they
    are (initializers and the like are resolved by the constructors)."""
    if isinstance(value, list):
        return [_sublayer(v) for v in value]
    if isinstance(value, dict) and isinstance(value.get("config"), dict) and "module" in value:
        from .saving import registry, serialization

        try:
            cls = registry.lookup(value, None, "from_config")
        except ValueError:
            return value
        if isinstance(cls, type) and issubclass(cls, Layer):
            return serialization.deserialize_keras_object(value)
    return value


def _plain_config(value: Any) -> bool:
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    if isinstance(value, list | tuple):
        return all(_plain_config(v) for v in value)
    if isinstance(value, dict):
        return all(_plain_config(v) for v in value.values())
    return False
