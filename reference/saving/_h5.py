"""h5py, imported only when a weights file is read or written, and checks of untrusted files.

h5py is not a runtime dependency of `reference` (NumPy and SciPy are): importing the package
never needs it, and the first save or load says how to install it.
"""

from __future__ import annotations

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


def check_links(group: Any, where: str) -> None:
    """Refuse anything in `group` (recursively) that is not a plain hard-linked member.

    A file is untrusted input: a soft or external link, an external raw storage or a virtual
    dataset could make a read reach outside the file (or loop); Keras's own files never have one.
    """
    h5 = h5py()
    for key in group:
        link = group.get(key, getlink=True)
        name = f"{group.name.rstrip('/')}/{key}"
        if not isinstance(link, h5.HardLink):
            raise ValueError(
                f"{where}: refusing {type(link).__name__} {name!r}: a weights file may only hold "
                "plain groups and datasets (no soft or external links)."
            )
        member = group[key]
        if isinstance(member, h5.Dataset):
            if member.is_virtual or member.external:
                raise ValueError(
                    f"{where}: refusing dataset {name!r}: it is a virtual dataset or has external "
                    "storage (its data would be read from outside this file)."
                )
        elif isinstance(member, h5.Group):
            check_links(member, where)


def read_dataset(ds: Any, where: str, expected_shape: tuple, expected_dtype: str) -> np.ndarray:
    """The array of dataset `ds`, after its shape and dtype were checked against the target.

    The shape is checked before any data is read, so a huge member costs nothing. A numeric
    value may be cast within its kind ("same_kind": float64 -> float32 as Keras's assign does);
    strings, objects, compounds, or a float read into an integer variable, are refused.
    """
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
    value = np.asarray(ds[()])
    if value.shape != tuple(expected_shape):  # h5py can hand back a different shape
        raise ValueError(f"{where}: could not read a value of shape {tuple(expected_shape)}.")
    return value.astype(expected_dtype, copy=False)
