"""Variable: the only place a layer keeps state."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import config as _config
from .autodiff import tape as _tape
from .autodiff import tracked as _tracked
from .naming import unique_name

FLOAT_DTYPES = ("float16", "float32", "float64")


def standardize_dtype(dtype: Any, who: str = "dtype") -> str:
    """A dtype name as Keras spells it ("float32"), or ValueError; None is config.floatx()."""
    if dtype is None:
        return _config.floatx()
    try:
        name = np.dtype(getattr(dtype, "name", dtype)).name
    except TypeError:
        name = None
    if name is None or name in ("object", "str", "bytes", "void") or name.startswith("<"):
        raise ValueError(f"Invalid {who}: {dtype!r}. Expected a NumPy dtype such as 'float32'.")
    return name


class Variable(_tracked.Readable, np.lib.mixins.NDArrayOperatorsMixin):
    """A named, shaped, typed value that a layer owns, usable directly in NumPy expressions.

    Computes: nothing; `np.matmul(x, v)` reads `v.value` (a tracked leaf while a
    GradientTape records and the variable is trainable or watched).
    Keras: keras.Variable(initializer, shape=None, dtype=None, trainable=True, name=None).
    Differences: no aggregation, synchronization or autocast machinery (no distribution and no
    mixed precision in the reference); the stored array is read-only, so a read can never be
    changed behind the tape's back: `assign` replaces it.
    """

    def __init__(
        self,
        initializer: Any,
        shape: tuple | None = None,
        dtype: Any = None,
        trainable: bool = True,
        name: str | None = None,
        *,
        path: str | None = None,
        regularizer: Callable | None = None,
        constraint: Callable | None = None,
    ):
        if name is None:
            name = unique_name("variable")
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        if not isinstance(trainable, bool):
            raise ValueError(
                f"Expected `trainable` to be a boolean. Received: trainable={trainable} "
                f"(of type {type(trainable)})"
            )
        self.name = name
        self.path = path or name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint
        if callable(initializer):
            if shape is None:
                raise ValueError(f"Variable {name!r}: a callable initializer needs a `shape`.")
            shape = tuple(shape)
            if any(d is None for d in shape):
                raise ValueError(
                    "Shapes used to initialize variables must be fully-defined (no `None` "
                    f"dimensions). Received: shape={shape} for variable path='{self.path}'"
                )
            self._dtype = standardize_dtype(dtype)
            value = np.asarray(initializer(shape, dtype=self._dtype))
            if value.shape != shape:
                raise ValueError(
                    f"Variable {self.path!r}: the initializer returned shape {value.shape}, "
                    f"expected {shape}."
                )
        else:
            value = np.asarray(initializer)
            if dtype is None and not isinstance(initializer, np.ndarray | np.generic):
                # Keras: Python floats become float32 (floatx), Python ints int32.
                dtype = {"f": "float32", "i": "int32"}.get(value.dtype.kind, value.dtype)
            self._dtype = standardize_dtype(value.dtype if dtype is None else dtype)
            if shape is not None and tuple(shape) != value.shape:
                raise ValueError(
                    f"Variable {self.path!r}: initial value has shape {value.shape}, "
                    f"but shape={tuple(shape)} was given."
                )
        self._value = self._freeze(value)

    def _freeze(self, value) -> np.ndarray:
        value = np.array(value, dtype=self._dtype, copy=True)
        value.flags.writeable = False
        return value

    # -- state
    @property
    def value(self):
        """The current value; inside a recording tape, the tracked read (differentiable, as a
        Keras variable's `.value` is). `numpy()` is always a plain copy."""
        return self._read() if _tracked.is_recording() else self._value

    @property
    def shape(self) -> tuple:
        return self._value.shape

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def numpy(self) -> np.ndarray:
        return self._value.copy()

    def assign(self, value: Any) -> np.ndarray:
        """Replace the value (cast to this variable's dtype; the shape must match)."""
        if _tape.assigns_frozen():  # a forward pass replayed for a higher-order backward
            return self._value
        value = np.asarray(_tracked._plain(value))
        if value.shape != self.shape:
            raise ValueError(
                "The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={self.shape}, Received: "
                f"value.shape={value.shape}. Target variable: {self!r}"
            )
        self._value = self._freeze(value)
        return self._value

    def _writable(self) -> np.ndarray:
        """The stored array, made writable for an in-place update by this variable's owner (an
        optimizer updating its slots); `_refreeze()` ends the update. Reads handed out earlier
        never change: when anything besides this Variable references the stored array (a
        `.value` read, a tape's leaf, a view), the update goes to a private copy instead. The
        reference count is the test, as in NumPy's own `ndarray.resize(refcheck=True)`."""
        value = self._value
        if sys.getrefcount(value) > 3:  # this Variable, `value`, getrefcount's own argument
            value = self._value = value.copy()
        value.flags.writeable = True
        return value

    def _refreeze(self) -> None:
        self._value.flags.writeable = False

    def assign_add(self, value: Any) -> np.ndarray:
        return self.assign(self._value + np.asarray(_tracked._plain(value)))

    def assign_sub(self, value: Any) -> np.ndarray:
        return self.assign(self._value - np.asarray(_tracked._plain(value)))

    def _in_place(self, *args, **kwargs):
        raise TypeError(
            f"Variable {self.path!r} cannot be updated with an in-place operator (`v -= x`): "
            "its value is read-only so that the tape's saved reads never change. Use "
            "v.assign(...), v.assign_add(x) or v.assign_sub(x), as with a tf.Variable."
        )

    __iadd__ = __isub__ = __imul__ = __itruediv__ = __ifloordiv__ = __imod__ = _in_place
    __ipow__ = __imatmul__ = __iand__ = __ior__ = __ixor__ = __ilshift__ = __irshift__ = _in_place

    # -- NumPy interop: substitute the (possibly tracked) value and dispatch again.
    def _read(self):
        leaf = (
            _tape.leaf_for(self, self._value, self.trainable) if _tracked.is_recording() else None
        )
        return self._value if leaf is None else leaf

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._value.dtype:
            return self._value.astype(dtype)
        return self._value.copy() if copy else self._value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "at" or any(isinstance(o, Variable) for o in kwargs.get("out", ()) or ()):
            raise TypeError(
                f"numpy.{ufunc.__name__}.{method} would write into Variable {self.path!r} in place "
                "(NumPy 2 ignores the read-only flag there). Use v.assign(...)."
            )
        if method != "__call__":
            inputs = tuple(x._read() if isinstance(x, Variable) else x for x in inputs)
            return getattr(ufunc, method)(*inputs, **kwargs)
        return _tracked.apply(ufunc, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _tracked.apply(func, args, kwargs)

    def __getitem__(self, index):
        return self._read()[index]

    def __len__(self) -> int:
        return len(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    @property
    def T(self):
        return np.transpose(self)

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
            f"value={self._value}>"
        )
