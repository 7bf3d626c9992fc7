"""`--plot`: a heat map of the worst tensor's error, |ours - keras| over its last two axes.

A padding bug lights up the border of a convolution's output, a layout bug a transposed
pattern, a scale bug the whole map: the shape of the error is visible at a glance. Leading axes
(batch, ...) are reduced by their maximum. Needs matplotlib (the `examples` extra); drawn with
the Agg canvas, so no display and no global backend change.
"""

from __future__ import annotations

import importlib.util

import numpy as np


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def error_map(err) -> np.ndarray:
    """The 2-D map drawn: max over every axis but the last two (a vector becomes one row)."""
    err = np.abs(np.asarray(err, np.float64))
    if err.ndim < 2:
        return err.reshape(1, -1)
    return err.reshape(-1, *err.shape[-2:]).max(axis=0) if err.size else err.reshape(1, 0)


def heat_map(err, path, title: str = "|ours - keras|") -> None:
    """Write a PNG heat map of `err` (error_map) to `path`."""
    if not available():
        raise ValueError("--plot needs matplotlib: `python -m pip install -e '.[examples]'`.")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    grid = error_map(err)
    fig = Figure(figsize=(5.0, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="magma", interpolation="nearest", aspect="auto", vmin=0.0)
    fig.colorbar(image, ax=ax, label="max |ours - keras| over leading axes")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(f"last axis ({grid.shape[1]})")
    ax.set_ylabel(f"second-to-last axis ({grid.shape[0]})")
    fig.tight_layout()
    fig.savefig(path, format="png")
