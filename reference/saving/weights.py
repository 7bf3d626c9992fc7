"""Keras 3 `.weights.h5` files, written and read by structure, as keras.src.saving.saving_lib.

Layout (the one Keras 3 writes; docs/porting-guide.md section 2): every saveable object (a
layer, a model, the optimizer) gets a group `<path>/vars` with attribute `name` (its `.name`)
and datasets "0", "1", ... holding its own variables (trainable ones first, then the
non-trainable ones); its children follow under their own paths. A path is made of attribute
names and snake_cased class names, never of layer names: Sequential and functional models
first give `layers/<class>[_N]` for `model.layers`, then every attribute of the object in
sorted order (private ones last) that holds a saveable (`<attr>`) or a list, tuple or dict of
them (`<attr>/<class>[_N]`, nested containers `container[_N]`). An object reached twice is saved
at its first path only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from typing import Any

import numpy as np

from ..layer import Layer
from ..naming import to_snake_case
from ..optimizers.base import Optimizer
from . import _h5

_SUFFIX = ".weights.h5"
# Attributes that hold a model's own bookkeeping, never walked: Keras skips the attributes a
# plain Layer() has (`_layers`, ...) and Sequential's internal `_functional`; the reference keeps
# the layer lists (and Sequential's InputLayer, which Keras does not save) under these names.
_SKIP = frozenset({"_layers", "_layers_list", "_input_layer", "_trainable_variables",
                   "_non_trainable_variables", "_losses", "_auto_config", "_build_shapes_dict",
                   "_compile_config"})  # fmt: skip


def _is_saveable(obj: Any) -> bool:
    return isinstance(obj, Layer | Optimizer)


def own_variables(obj: Any) -> list:
    """What `save_own_variables` writes: a layer's own trainable then non-trainable variables
    (in the reference's lists, as `Layer.weights` orders them); an optimizer's `variables`."""
    if isinstance(obj, Optimizer):
        return obj.variables
    return list(obj._trainable_variables) + list(obj._non_trainable_variables)


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name  # private attributes last, as Keras


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _children(obj: Any) -> list[tuple[str, Any]]:
    out = []
    if isinstance(obj, Optimizer):
        return out  # an optimizer's state is all in its own variables
    if hasattr(obj, "_layers_list"):  # Sequential and Functional: `layers` first, as Keras
        out.append(("layers", obj.layers))
    attrs = {k: v for k, v in vars(obj).items() if not k.startswith("__") and k not in _SKIP}
    attrs.update(_layer_properties(obj))
    for key in sorted(attrs, key=_name_key):
        if key != "layers":
            out.append((key, attrs[key]))
    return out


def _layer_properties(obj: Any) -> dict[str, Any]:
    """Properties of obj's own classes that return a layer (MultiHeadAttention.query_dense ->
    _query_dense). Keras walks dir(), so such a public name comes first and is the path the
    layer is saved under; properties of the base Layer/Model classes are skipped, as Keras
    skips the attributes every Layer has."""
    from ..models import Functional, Model, Sequential

    found = {}
    for cls in type(obj).__mro__:
        if cls in (Layer, Model, Functional, Sequential, object):
            continue
        for name, member in vars(cls).items():
            if isinstance(member, property) and not name.startswith("__") and name not in found:
                try:
                    value = getattr(obj, name)
                except Exception:  # as Keras: an attribute that cannot be read is not visited
                    continue
                if isinstance(value, Layer):
                    found[name] = value
    return found


def walk(root: Any) -> list[tuple[str, Any]]:
    """(path, saveable) for `root` and everything under it, in Keras's visiting order."""
    found: list[tuple[str, Any]] = []
    visited: set[int] = set()

    def visit(obj: Any, path: str) -> None:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        found.append((path, obj))
        for attr, child in _children(obj):
            if _is_saveable(child):
                visit(child, _join(path, attr))
            elif isinstance(child, list | tuple | dict):
                visit_container(child, _join(path, attr), set())

    def visit_container(container: Any, path: str, seen: set[int]) -> None:
        if id(container) in seen:
            return
        seen.add(id(container))
        used: dict[str, int] = {}
        for item in container.values() if isinstance(container, dict) else container:
            if _is_saveable(item):
                visit(item, _join(path, _unique(to_snake_case(type(item).__name__), used)))
            elif isinstance(item, list | tuple | dict):
                visit_container(item, _join(path, _unique("container", used)), seen)

    visit(root, "")
    return found


def _unique(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _check_path(filepath: Any, who: str) -> str:
    filepath = os.fspath(filepath)
    if not str(filepath).endswith(_SUFFIX):
        raise ValueError(
            f"{who}: the filename must end in `{_SUFFIX}`. Received: filepath={filepath}"
        )
    return filepath


def save_weights(obj: Any, filepath: Any, overwrite: bool = True) -> None:
    """Write `obj`'s weights (a layer or a model, with its optimizer) to a `.weights.h5` file.

    Keras: model.save_weights(filepath, overwrite=True) (saving_lib.save_weights_only).
    The file is written to a temporary file in the same folder and renamed over `filepath`, so a
    failed or interrupted save never leaves a half-written file at `filepath`.
    Differences: `overwrite=False` raises FileExistsError instead of asking on the console.
    """
    filepath = _check_path(filepath, "save_weights")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_weights: {filepath} exists and overwrite=False.")
    h5py = _h5.h5py()
    with atomic_write(filepath) as tmp, h5py.File(tmp, "w") as f:
        write_open_file(obj, f)


def write_open_file(obj: Any, f: Any) -> None:
    """Write `obj`'s weights into an open, empty h5py.File, in Keras's layout."""
    for path, saveable in walk(obj):
        group = f.create_group(_join(path, "vars"))
        if isinstance(getattr(saveable, "name", None), str):
            group.attrs["name"] = saveable.name
        for i, v in enumerate(own_variables(saveable)):
            group.create_dataset(str(i), data=v.numpy())


@contextlib.contextmanager
def atomic_write(filepath: str):
    """Yield a temporary path in `filepath`'s folder; on success rename it over `filepath`
    (os.replace: atomic on POSIX and Windows), on any failure remove it. A crash mid-write
    leaves `filepath` as it was, and the temporary file never has its name."""
    folder = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(filepath)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _numbered(index: Any, vpath: str, where: str) -> list:
    """The datasets of a `vars` group in numeric order ("10" after "9"); nothing else allowed."""
    keys = index.children(vpath)
    if sorted(keys, key=lambda k: (len(k), k)) != [str(i) for i in range(len(keys))]:
        raise ValueError(
            f"{where}: expected datasets named 0..{len(keys) - 1}, found {sorted(keys)}."
        )
    for i in range(len(keys)):
        if index.kind(f"{vpath}/{i}") != "dataset":
            raise ValueError(f"{where}/{i}: expected a dataset, found a group.")
    return [index.dataset(f"{vpath}/{i}") for i in range(len(keys))]


def _plan_one(index: Any, path: str, saveable: Any, filepath: str) -> list:
    """(variable, dataset, where) for one saveable; ValueError (nothing assigned) on any
    mismatch. `index` is the file's _h5.FileIndex."""
    vpath = _join(path, "vars")
    where = f"{filepath}: {vpath}"
    variables = own_variables(saveable)
    kind = index.kind(vpath)
    if kind not in (None, "group"):
        raise ValueError(f"{where}: expected a group of datasets, found a dataset.")
    if kind is None and variables:
        raise ValueError(
            f"{filepath}: layer {saveable.name!r} (path {vpath!r}) is missing from the file: it "
            f"expected {len(variables)} variables {[v.name for v in variables]}."
        )
    members = [] if kind is None else _numbered(index, vpath, where)
    if len(members) != len(variables):
        if isinstance(saveable, Optimizer):  # Keras warns and leaves the optimizer as it is
            warnings.warn(
                f"Skipping variable loading for optimizer '{saveable.name}', because it has "
                f"{len(variables)} variables whereas the saved optimizer has {len(members)} "
                "variables.",
                stacklevel=4,
            )
            return []
        raise ValueError(
            f"{filepath}: layer {saveable.name!r} (path {vpath!r}) expected {len(variables)} "
            f"variables, but received {len(members)} variables during loading. Expected: "
            f"{[v.name for v in variables]}"
        )
    return [
        (v, _h5.check_dataset(ds, at, v.shape, v.dtype), at)
        for i, (v, ds) in enumerate(zip(variables, members, strict=True))
        for at in [f"{where}/{i} (variable {v.path!r})"]
    ]


def _read(ds: Any, where: str, image: Any) -> np.ndarray:
    """The dataset's values: a view of the file's bytes in `image` (an archive.MemberImage whose
    CRC was verified) where they lie there raw; otherwise read by HDF5 into a new array."""
    try:
        span = None if image is None else ds.raw_span()
    except OSError as e:
        raise ValueError(f"{where}: unreadable dataset: {e}") from e
    if span is None:
        return ds.read(where)
    offset, size = span
    if offset + size > image.buffer.size:
        raise ValueError(f"{where}: the dataset's data runs past the end of the file.")
    value = image.buffer[offset : offset + size].view(ds.dtype).reshape(ds.shape)
    return value if value.flags.aligned else value.copy()


def _adopt(variable: Any, value: np.ndarray) -> None:
    """variable.assign(value) without assign's copy: `value` is a new array only this load
    holds (a 10M-weight model's copy would cost as much as reading the file)."""
    if value.dtype != np.dtype(variable.dtype):
        variable.assign(value)
        return
    value.flags.writeable = False
    variable._value = value


def _extra_groups(index: Any, expected: set[str]) -> list[str]:
    """`vars` groups holding datasets that no object of the target model reads."""
    extra = []
    for name in index.datasets():
        parent = name.rsplit("/", 1)[0] if "/" in name else ""
        if parent not in expected and parent not in extra:
            extra.append(parent)
    return extra


def load_weights(
    obj: Any, filepath: Any, skip_mismatch: bool = False, by_name: bool = False
) -> None:
    """Load a `.weights.h5` file into `obj`, matching by structure (paths), not by layer names.

    Keras: model.load_weights(filepath, skip_mismatch=False) (saving_lib.load_weights_only).
    All or nothing: every value is read and checked (shape, dtype, count) before any variable
    is assigned; on a mismatch a ValueError names the file, the path and the variable, and no
    weight changes. With skip_mismatch=True the objects that do not match are left as they are
    (with a warning) and the others load, as Keras.
    Differences: a file with weights that no object of the target reads is refused (Keras
    ignores them); soft/external links and virtual datasets are refused (untrusted input).
    A Keras 2 `.h5`/`.hdf5` file (by topology, or `by_name=True`) is read by legacy_h5.
    """
    from . import legacy_h5

    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.load_weights(obj, filepath, skip_mismatch, by_name)
    if by_name:
        raise ValueError(
            "load_weights: `by_name` only supports loading legacy '.h5' or '.hdf5' files. "
            f"Received: {filepath}"
        )
    filepath = _check_path(filepath, "load_weights")
    if isinstance(obj, Layer) and not obj.built:
        raise ValueError(
            f"Layer {obj.name!r} is not built: its weights cannot be loaded from {filepath}. "
            "Try building the model first by calling it on some data or by using `build()`."
        )
    h5py = _h5.h5py()
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_weights: no such file: {filepath}")
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise ValueError(f"load_weights: {filepath} is not a readable HDF5 file: {e}") from e
    with f:
        load_open_file(obj, f, filepath, skip_mismatch)


def load_open_file(
    obj: Any, f: Any, label: str, skip_mismatch: bool = False, image: Any = None
) -> None:
    """load_weights on an open h5py.File (`label` names it in errors): check every shape and
    dtype, read every value into a new array (or a view of `image`, the file's bytes, once its
    CRC is verified), then give each variable its array."""
    errors: list[str] = []
    plan: list = []
    try:
        index = _h5.check_links(f, label)
        entries = walk(obj)
        for path, saveable in entries:
            try:
                plan.extend(_plan_one(index, path, saveable, label))
            except ValueError as e:
                errors.append(str(e))
        extra = _extra_groups(index, {_join(path, "vars") for path, _ in entries})
    except (OSError, KeyError, RuntimeError) as e:  # h5py's errors on a damaged file
        raise ValueError(f"load_weights: {label} is damaged; nothing was loaded: {e}") from e
    errors.extend(
        f"{label}: {group!r} holds weights that no layer of {obj.name!r} reads (the file has "
        "more layers or variables than the model)."
        for group in extra
    )
    if errors and not skip_mismatch:
        raise ValueError(
            f"A total of {len(errors)} objects could not be loaded from {label}; no weight "
            "was changed:\n" + "\n".join(errors)
        )
    for message in errors:
        warnings.warn(f"Skipped loading: {message}", stacklevel=3)
    if image is not None:
        image.verify()  # the bytes are all read and their CRC-32 checked
    values = _unshared([_read(ds, where, image) for _, ds, where in plan])  # all before assigning
    for (variable, _, _), value in zip(plan, values, strict=True):
        _adopt(variable, value)


def _unshared(values: list) -> list:
    """The values, each a copy where its memory overlaps an earlier one's: two datasets of a
    crafted file may point at the same bytes, and variables updated in place (an optimizer's
    step) must never write into each other."""
    out = list(values)
    spans = sorted((v.__array_interface__["data"][0], i) for i, v in enumerate(out) if v.nbytes)
    end = 0  # each value is one contiguous block: overlaps show in a sweep by start address
    for start, i in spans:
        if start < end:
            out[i] = out[i].copy()
        else:
            end = start + out[i].nbytes
    return out
