"""h5py, imported only when a weights file is read or written, and checks of untrusted files.

h5py is not a runtime dependency of `reference` (NumPy and SciPy are): importing the package
never needs it, and the first save or load says how to install it.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


def h5py() -> Any:
    """The h5py module, or an ImportError that says how to install it."""
    try:
        import h5py as module
    except ImportError as e:
        raise ImportError(
            "reference.saving needs h5py to read or write `.weights.h5`, `.keras` and `.h5` "
            "files, and it is not installed. Install it with `python -m pip install h5py` (it "
            "is also in this project's `tf` extra)."
        ) from e
    return module


class Dataset:
    """What a load needs of one dataset, read through h5py's low-level API (a high-level
    `f[name]` costs ~50 us, as much as all of this)."""

    def __init__(self, f: Any, name: str) -> None:
        h5 = h5py()
        self.name = name
        self.id = h5.h5d.open(f.id, name.encode())
        space = self.id.get_space()
        self.shape = None if space.get_simple_extent_type() == h5.h5s.NULL else self.id.shape
        self.dtype = self.id.dtype
        plist = self.id.get_create_plist()
        self.layout = plist.get_layout()
        self.external = plist.get_external_count()

    def raw_span(self) -> tuple[int, int] | None:
        """(offset in the file, size) of the values when they lie there as raw bytes that
        `self.dtype` reads exactly (contiguous, allocated, a standard IEEE/integer type);
        None otherwise (compact, chunked or filtered storage, other types): read via HDF5."""
        h5 = h5py()
        if self.layout != h5.h5d.CONTIGUOUS or self.shape is None:
            return None
        tid = self.id.get_type()
        if not any(tid.equal(t) for t in _raw_types()):
            return None
        offset, size = self.id.get_offset(), self.id.get_storage_size()
        if offset is None or size != self.dtype.itemsize * int(np.prod(self.shape)):
            return None
        return offset, size

    def read(self, where: str) -> np.ndarray:
        """The values, read by HDF5 straight into a new array."""
        h5 = h5py()
        try:
            value = np.empty(self.shape, self.dtype)
            self.id.read(h5.h5s.ALL, h5.h5s.ALL, value)
            return value
        except OSError as e:  # h5py's error for unreadable (corrupted) data
            raise ValueError(f"{where}: unreadable data: {e}") from e


@functools.cache
def _raw_types() -> tuple:
    """The HDF5 types whose bytes NumPy reads as they are: standard integers and IEEE floats
    of 32 and 64 bits, either byte order."""
    h5t = h5py().h5t
    names = [f"{kind}{bits}{order}" for kind, sizes in (("STD_I", (8, 16, 32, 64)),
             ("STD_U", (8, 16, 32, 64)), ("IEEE_F", (32, 64))) for bits in sizes
             for order in ("LE", "BE")]  # fmt: skip
    return tuple(getattr(h5t, n) for n in names)


class FileIndex:
    """Every link of an open HDF5 file, checked: `kind(path)` is "group", "dataset" or None,
    `children(path)` the names in a group (in HDF5's name order), `dataset(path)` a Dataset."""

    def __init__(self, f: Any, where: str) -> None:
        h5 = h5py()
        self._children, self._kinds, self._datasets = {"": []}, {}, {}
        links: list = []
        f.id.links.visit(lambda name, info: links.append((name.decode(), info.type)), info=True)
        objects: dict = {}
        h5.h5o.visit(f.id, lambda name, info: objects.__setitem__(name.decode(), info.type),
                     info=True)  # fmt: skip
        kinds = {h5.h5o.TYPE_GROUP: "group", h5.h5o.TYPE_DATASET: "dataset"}
        for name, link_type in links:
            if link_type != h5.h5l.TYPE_HARD:
                kind = {h5.h5l.TYPE_SOFT: "SoftLink", h5.h5l.TYPE_EXTERNAL: "ExternalLink"}
                raise ValueError(
                    f"{where}: refusing {kind.get(link_type, 'UserDefinedLink')} '/{name}': a "
                    "weights file may only hold plain groups and datasets (no soft or external "
                    "links)."
                )
            parent, _, leaf = name.rpartition("/")
            self._children.setdefault(parent, []).append(leaf)
            if name not in objects:  # a second hard link to one object: ask HDF5
                objects[name] = h5.h5o.get_info(f.id, name.encode()).type
            self._kinds[name] = kinds.get(objects[name], "other")
            if self._kinds[name] == "dataset":
                ds = self._datasets[name] = Dataset(f, name)
                if ds.layout == h5.h5d.VIRTUAL or ds.external:
                    raise ValueError(
                        f"{where}: refusing dataset '/{name}': it is a virtual dataset or has "
                        "external storage (its data would be read from outside this file)."
                    )

    def kind(self, path: str) -> str | None:
        return self._kinds.get(path)

    def children(self, path: str) -> list[str]:
        return self._children.get(path, [])

    def dataset(self, path: str) -> Dataset:
        return self._datasets[path]

    def datasets(self) -> list[str]:
        return list(self._datasets)


def check_links(group: Any, where: str) -> FileIndex:
    """Refuse anything in the file (recursively) that is not a plain hard-linked member, and
    index what is there.

    A file is untrusted input: a soft or external link, an external raw storage or a virtual
    dataset could make a read reach outside the file (or loop); Keras's own files never have one.
    """
    return FileIndex(group.file, where)


def check_dataset(ds: Any, where: str, expected_shape: tuple, expected_dtype: Any) -> Any:
    """`ds` (an h5py dataset or a Dataset), once its shape and dtype fit the target; no data is
    read, so a huge member costs nothing. A numeric value may be cast within its kind
    ("same_kind": float64 -> float32 as Keras's assign does); strings, objects, compounds, or a
    float read into an integer variable, are refused."""
    if ds.shape is None:  # an HDF5 null dataspace (h5py.Empty)
        raise ValueError(f"{where}: the dataset is empty (a null dataspace), not an array.")
    if tuple(ds.shape) != tuple(expected_shape):
        raise ValueError(
            f"{where}: shape mismatch: the file has shape {tuple(ds.shape)}, the target variable "
            f"has shape {tuple(expected_shape)}."
        )
    dtype = ds.dtype
    if dtype.kind not in "biuf" or not np.can_cast(dtype, expected_dtype, "same_kind"):
        raise ValueError(
            f"{where}: dtype mismatch: the file holds {dtype}, which cannot be loaded into a "
            f"{expected_dtype} variable."
        )
    return ds


def read_dataset(ds: Any, where: str, expected_shape: tuple, expected_dtype: str) -> np.ndarray:
    """The array of h5py dataset `ds`, after check_dataset."""
    check_dataset(ds, where, expected_shape, expected_dtype)
    value = np.asarray(ds[()])
    if value.shape != tuple(expected_shape):  # h5py can hand back a different shape
        raise ValueError(f"{where}: could not read a value of shape {tuple(expected_shape)}.")
    return value.astype(expected_dtype, copy=False)
