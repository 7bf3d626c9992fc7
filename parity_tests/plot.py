"""`--plot`: a heat map of the worst tensor's error, |ours - keras| over two axes.

The axes are the last two, except for a tensor of rank 4 or more, a channels-last image
(batch, ..., height, width, channels): there the last two would be (width, channels), where a
padding bug is invisible, so the map is (height, width), the two axes before the channels. Every
other axis is reduced by its maximum. A padding bug lights up the border of the map, a layout
bug a transposed pattern, a scale bug the whole map. Needs matplotlib (the `examples` extra);
drawn on an Agg canvas: no display, no global backend change.
"""

from __future__ import annotations

import importlib.util

import numpy as np


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def map_axes(ndim: int) -> tuple[int, int] | None:
    """The two axes drawn (module docstring); None for a scalar or a vector (one row)."""
    if ndim < 2:
        return None
    return (ndim - 3, ndim - 2) if ndim >= 4 else (ndim - 2, ndim - 1)


def error_map(err) -> np.ndarray:
    """The 2-D map drawn: |err| reduced by its maximum over every axis but map_axes."""
    err = np.abs(np.asarray(err, np.float64))
    axes = map_axes(err.ndim)
    if axes is None:
        return err.reshape(1, -1)
    others = tuple(i for i in range(err.ndim) if i not in axes)
    return err.max(axis=others) if others and err.size else err


def heat_map(err, path, title: str = "|ours - keras|") -> None:
    """Write a PNG heat map of `err` (error_map) to `path`."""
    if not available():
        raise ValueError("--plot needs matplotlib: `python -m pip install -e '.[examples]'`.")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    grid = error_map(err)
    axes = map_axes(np.ndim(err)) or (None, np.ndim(err) - 1)
    fig = Figure(figsize=(5.0, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="magma", interpolation="nearest", aspect="auto", vmin=0.0)
    fig.colorbar(image, ax=ax, label="max |ours - keras| over the other axes")
    ax.set_title(f"{title}\nshape {np.shape(err)}", fontsize=9)
    ax.set_xlabel(f"axis {axes[1]} ({grid.shape[1]})")
    ax.set_ylabel(f"axis {axes[0]} ({grid.shape[0]})" if axes[0] is not None else "")
    fig.tight_layout()
    fig.savefig(path, format="png")
