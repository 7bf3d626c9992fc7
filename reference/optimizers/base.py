"""Optimizer: the Keras 3 update pipeline (clip, weight decay, update step, EMA, constraints)."""

from __future__ import annotations

import inspect
import math
import numbers
import re
import threading
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import config, initializers
from ..naming import to_snake_case, unique_name
from ..variable import Variable
from .schedules import LearningRateSchedule


def _cast(x: Any, dtype: Any) -> np.ndarray:
    """Keras's ops.cast: a Python float becomes a float32 tensor first (0.9 -> 0.89999997...)."""
    if type(x) is float:
        x = np.float32(x)
    return np.asarray(x).astype(dtype, copy=False)


class Optimizer:
    """Base optimizer: `apply(grads, variables)` runs Keras 3's `_backend_apply_gradients`.

    Computes, per call: grads = clip(grads) (clipnorm per tensor, global_clipnorm over all, or
    clipvalue); w -= w * weight_decay * lr for each decayed variable; update_step(g, w, lr);
    EMA: avg = m * avg + (1 - m) * w with m = ema_momentum (0 on the first step), copied into
    w every ema_overwrite_frequency steps; w = constraint(w); iterations += 1. With
    gradient_accumulation_steps=n, n - 1 calls only add g to an accumulator; the n-th applies
    (g + acc) / n and resets it; `iterations` counts applied steps (the raw counter // n), while
    a schedule reads the raw counter, as Keras.
    Keras: keras.optimizers.Optimizer (TF backend). `variables` are in Keras's order and names:
    iteration, learning_rate, then `<weight path with _>_<slot>` per slot.
    Differences: no loss scaling, no distribution; a gradient whose shape differs from its
    variable raises ValueError before anything changes.
    """

    def __init__(
        self,
        learning_rate: Any,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and is ignored.", stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if loss_scale_factor is not None:
            raise ValueError(f"{type(self).__name__}: loss_scale_factor is not supported.")
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema and not 0 <= ema_momentum <= 1:
            raise ValueError(
                f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
            )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = use_ema, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = None
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list = []
        self._index: dict[int, int] = {}
        self._iterations = self._new_variable(0, "iteration", dtype="int64")
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        elif isinstance(learning_rate, float):
            self._learning_rate = self._new_variable(learning_rate, "learning_rate")
        else:
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current iteration value "
                f"and returns the corresponding learning rate value). Received instead: "
                f"learning_rate={learning_rate}"
            )

    # -- variables --------------------------------------------------------------------------
    def _new_variable(self, value, name, dtype=None, shape=None) -> Variable:
        dtype = dtype or config.floatx()
        v = Variable(value, shape=shape, dtype=dtype, trainable=False, name=name,
                     path=f"{self.name}/{name}")  # fmt: skip
        self._variables.append(v)
        return v

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot shaped and typed like `reference_variable`, named `<its path, _>_<name>`."""
        name = f"{reference_variable.path.replace('/', '_')}_{name or 'var'}"
        init = initializer if callable(initializer) else initializers.get(initializer)
        return self._new_variable(init, name, reference_variable.dtype, reference_variable.shape)

    def add_optimizer_variables(self, variables, name, initializer="zeros"):
        """One slot per variable and name, interleaved per variable as Keras creates them."""
        names = [name] if isinstance(name, str) else list(name)
        out = tuple([] for _ in names)
        for v in variables:
            for i, n in enumerate(names):
                out[i].append(self.add_variable_from_reference(v, n, initializer))
        return out[0] if isinstance(name, str) else out

    def build(self, variables: list) -> None:
        if self.use_ema:
            self._averages = self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulators = self.add_optimizer_variables(variables, "gradient_accumulator")
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._trainable_variables = list(variables)
        self.built = True

    def _slot(self, slots: list, variable) -> Variable:
        return slots[self._index[id(variable)]]

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    @property
    def iterations(self) -> int:
        n = int(self._iterations.value)
        return n // self.gradient_accumulation_steps if self.gradient_accumulation_steps else n

    @property
    def learning_rate(self) -> np.ndarray:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return np.asarray(lr(self._iterations.numpy()))
        if isinstance(lr, Variable):
            return lr.numpy()
        return np.asarray(lr())

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, LearningRateSchedule) or callable(value):
            self._learning_rate = value
        elif isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(value)
        else:
            self._learning_rate = self._new_variable(float(value), "learning_rate")

    # -- the update -------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable) -> Variable:
        grads, variables = zip(*grads_and_vars, strict=True)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads: list, trainable_variables: list | None = None) -> None:
        """Apply one step of `grads` to `trainable_variables` (the build list when omitted)."""
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{type(self).__name__}.apply: when passing `grads` without `variables`, "
                    "the optimizer must already be built (call `optimizer.build(variables)`)."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"{type(self).__name__}.apply: received {len(grads)} gradients for "
                f"{len(trainable_variables)} variables."
            )
        if self.built:
            for v in trainable_variables:
                if id(v) not in self._index:
                    raise ValueError(
                        f"Unknown variable: {v}. This optimizer can only be called for the "
                        "variables it was originally built with. When working with a new set "
                        "of variables, you should recreate a new optimizer instance."
                    )
        pairs = [(g, v) for g, v in zip(grads, trainable_variables, strict=True) if g is not None]
        for g, v in pairs:
            if np.shape(g) != tuple(v.shape):
                raise ValueError(
                    f"{type(self).__name__}.apply: the gradient for variable '{v.path}' has "
                    f"shape {np.shape(g)}, but the variable has shape {tuple(v.shape)}."
                )
        self._check_hyperparameters()
        if not self.built:
            self.build(trainable_variables)
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if len(pairs) < len(trainable_variables):
            missing = [v.path for g, v in zip(grads, trainable_variables, strict=True) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If "
                "using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=2,
            )
        grads = [np.asarray(g) for g, _ in pairs]
        variables = [v for _, v in pairs]
        self._apply_step(grads, variables)
        for v in variables:
            if v.constraint is not None:
                v.assign(v.constraint(v.value))
        self._iterations.assign(self._iterations.value + 1)

    def _check_hyperparameters(self) -> None:
        """A float hyper-parameter that is not a number (`epsilon=None`) is refused here, before
        any slot or weight changes. Keras accepts it at construction as well and fails inside
        its first update (a ValueError converting None to a tensor)."""
        for name in ("epsilon", "beta_1", "beta_2", "rho", "momentum"):
            value = getattr(self, name, 0.0)
            if not isinstance(value, numbers.Real | np.ndarray) or callable(value):
                raise ValueError(
                    f"{type(self).__name__}: `{name}` must be a number to apply gradients. "
                    f"Received: {name}={value!r}"
                )

    def _apply_step(self, grads: list, variables: list) -> None:
        n = self.gradient_accumulation_steps
        if n:
            accs = [self._slot(self._accumulators, v) for v in variables]
            if (int(self._iterations.value) + 1) % n == 0:
                grads = [(g + a.value) / n for g, a in zip(grads, accs, strict=True)]
                self._update(grads, variables)
                for a in accs:
                    a.assign(np.zeros(a.shape, a.dtype))
            else:
                for g, a in zip(grads, accs, strict=True):
                    a.assign(g + a.value)
        else:
            self._update(grads, variables)
        if self.use_ema:
            self._update_averages()

    def _update(self, grads: list, variables: list) -> None:
        grads = self._clip(grads)
        lr = self.learning_rate
        if self.weight_decay is not None:
            for v in variables:
                if self._use_weight_decay(v):
                    wd = _cast(self.weight_decay, v.dtype)
                    v.assign(v.value - v.value * wd * _cast(lr, v.dtype))
        for g, v in zip(grads, variables, strict=True):
            self.update_step(_cast(g, v.dtype), v, _cast(lr, v.dtype))

    def _clip(self, grads: list) -> list:
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            norm = np.sqrt(np.sum(np.stack([np.sum(np.square(g)) for g in grads])))
            c = self.global_clipnorm
            scale = c * np.minimum(1.0 / norm, 1.0 / c) + (norm - norm)  # NaN for a non-finite norm
            return [g * scale for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, g: np.ndarray) -> np.ndarray:
        l2sum = np.sum(np.square(g), keepdims=True)
        l2norm = np.where(l2sum > 0, np.sqrt(np.where(l2sum > 0, l2sum, 1)), l2sum)
        return (g * self.clipnorm) / np.maximum(l2norm, self.clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer is "
                "built."
            )
        self._exclude_ids = {id(v) for v in var_list or []}
        self._exclude_names = list(var_names or [])

    def _use_weight_decay(self, v) -> bool:
        if id(v) in getattr(self, "_exclude_ids", ()):
            return False
        names = getattr(self, "_exclude_names", ())
        return not (names and re.search("|".join(set(names)), v.name))

    def _update_averages(self) -> None:
        not_first = float(self.iterations != 0)
        for v, avg in zip(self._trainable_variables, self._averages, strict=True):
            m = np.asarray(not_first * self.ema_momentum, dtype=v.dtype)  # a weak Python float
            avg.assign(m * avg.value + (1 - m) * v.value)
        freq = self.ema_overwrite_frequency
        if freq and (self.iterations + 1) % freq == 0:
            self.finalize_variable_values(self._trainable_variables)

    def finalize_variable_values(self, var_list: list) -> None:
        """Copy the moving averages into the variables (use_ema only), as Keras at fit's end."""
        if self.use_ema:
            for v, avg in zip(var_list, self._averages, strict=True):
                v.assign(avg.value)

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step`.")

    def get_config(self) -> dict:
        lr = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": float(lr.value) if isinstance(lr, Variable) else _serialized(lr),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            **self._own_config(),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        """Keras: Optimizer.from_config: a serialized learning-rate schedule is rebuilt first."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from ..saving.serialization import deserialize_keras_object

            config["learning_rate"] = deserialize_keras_object(
                config["learning_rate"], custom_objects, kind="keras.optimizers.schedules"
            )
        return cls(**config)

    def _own_config(self) -> dict:
        """A subclass's own constructor arguments, in signature order, read from the attributes
        of the same name: what each Keras optimizer's get_config adds to the base config."""
        base = inspect.signature(Optimizer.__init__).parameters
        own = inspect.signature(type(self).__init__).parameters
        names = [p for p in own if p not in base and own[p].kind is not own[p].VAR_KEYWORD]
        return {p: getattr(self, p) for p in names if p != "self"}


def _serialized(schedule: Any) -> Any:
    """A learning-rate schedule in its serialized form, as Optimizer.get_config saves it."""
    from ..saving.serialization import serialize_keras_object

    return serialize_keras_object(schedule)


_WORKSPACE = threading.local()


def workspace(shape: tuple, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Two scratch arrays of `shape` for an update step, views of this thread's buffers for
    `dtype` (grown to the largest variable seen). An update's temporaries are as large as its
    variable: new ones each step made a 784x512 kernel's Adam step depend on the C allocator's
    history (glibc hands arrays above its adaptive mmap threshold fresh, faulted-in pages):
    an MLP's training step took 7.1 or 8.7 ms depending on what the process had freed before."""
    n = math.prod(shape)
    key = np.dtype(dtype).str
    bufs = _WORKSPACE.__dict__.get(key)
    if bufs is None or bufs[0].size < n:
        bufs = _WORKSPACE.__dict__[key] = (np.empty(n, dtype), np.empty(n, dtype))
    return bufs[0][:n].reshape(shape), bufs[1][:n].reshape(shape)


# Elementwise update steps run over blocks of this many elements: an Adam step makes 12 passes
# over its arrays, and a block's slices stay in cache across them instead of each pass
# streaming whole arrays from memory (a 784x512 kernel's 6 arrays are 9.6 MB). On a 2-core
# AMD EPYC, Adam over an MLP's 670k float32 parameters took 2.9 ms in 65,536-element blocks
# against 3.3-3.9 ms whole; 16k / 32k / 128k-element blocks took 3.5 / 3.1 / 2.9-3.0 ms.
_BLOCK = 1 << 16


def blocks(arrays: list):
    """For each block of _BLOCK elements, the matching flat slices of `arrays` (one shape):
    views that write through when every array is C-contiguous; else the arrays whole, once.
    Only for updates that act element by element, whose results blocks cannot change."""
    if arrays[0].size <= _BLOCK or not all(a.flags.c_contiguous for a in arrays):
        yield arrays
        return
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, flat[0].size, _BLOCK):
        yield [f[start : start + _BLOCK] for f in flat]
