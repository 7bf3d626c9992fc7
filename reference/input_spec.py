"""InputSpec: what a layer accepts, checked on every call (Keras's messages, word for word)."""

from __future__ import annotations

from typing import Any


class InputSpec:
    """Constraints on a layer input's rank and axis sizes.

    Keras: keras.InputSpec(dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
    axes=None, allow_last_axis_squeeze=False, name=None, optional=False).
    Differences: `dtype` and `allow_last_axis_squeeze` are stored but not checked yet.
    """

    def __init__(
        self,
        dtype: Any = None,
        shape: tuple | None = None,
        ndim: int | None = None,
        max_ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict | None = None,
        allow_last_axis_squeeze: bool = False,
        name: str | None = None,
        optional: bool = False,
    ):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional
        self.axes = dict(axes or {})
        if any(not isinstance(k, int) for k in self.axes):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: {axes}")
        limit = self.ndim if self.ndim is not None else self.max_ndim
        if limit is not None and self.axes and max(self.axes) >= limit:
            raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed value: "
                             f"{limit - 1}")  # fmt: skip

    def __repr__(self) -> str:
        fields = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
        return (
            "InputSpec("
            + ", ".join(f"{f}={getattr(self, f)}" for f in fields if getattr(self, f))
            + ")"
        )  # noqa: E501


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raise ValueError, in Keras's words, when `inputs` break `input_spec`."""
    if not input_spec:
        return
    specs = input_spec if isinstance(input_spec, list | tuple) else [input_spec]
    flat = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
    if len(flat) != len(specs):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(flat)} '
            f"input tensors. Inputs received: {inputs}"
        )
    for i, (x, spec) in enumerate(zip(flat, specs, strict=True)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(
                f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input "
                f"for layer '{layer_name}'."
            )
        shape = tuple(x.shape)
        head = (
            f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible "
            "with the layer:"
        )
        ndim = len(shape)
        if spec.ndim is not None and ndim != spec.ndim:
            raise ValueError(f"{head} expected ndim={spec.ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")  # fmt: skip
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{head} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{head} expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")  # fmt: skip
        for axis, value in spec.axes.items():
            if value is not None and (-ndim <= axis < ndim) and shape[axis] not in (value, None):
                raise ValueError(f"{head} expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {shape}")  # fmt: skip
        if spec.shape is not None and any(
            s is not None and d is not None and s != d
            for s, d in zip(spec.shape, shape, strict=False)
        ):
            raise ValueError(f"{head} expected shape={spec.shape}, found shape={shape}")
