"""Hints for the first diverging layer of compare_models, read from the shape of its error.

Each check looks for one signature of a common porting bug and says which setting to look at:

- weights that differ before the call: an axis permutation of Keras's -> layout, else not the
  same weights at all;
- an output error confined to the border of a convolution's output -> padding;
- Keras's layer rerun with one weight's axes permuted reproduces the port -> layout;
- the port's output is Keras's times one constant where they differ -> an activation default
  (negative_slope, alpha), a momentum or an epsilon; channel by channel an affine function of
  Keras's -> a normalization constant (epsilon, biased variance) or a bias;
- the outputs agree but a state update is Keras's times a constant -> momentum;
- the forward agrees and a gradient differs -> a VJP rule or a kink convention.
"""

from __future__ import annotations

import itertools

import numpy as np

CLOSE = 1e-6  # weights loaded from one file agree exactly; this only absorbs a dtype cast


def layout_mismatch(ours, theirs) -> str:
    """Hint when the weight layouts (names, shapes, order) differ."""
    for a, b in zip(ours.weights, theirs.weights, strict=False):
        sa, sb = tuple(a.shape), tuple(b.shape)
        if sa != sb and sorted(sa) == sorted(sb):
            p = next(p for p in itertools.permutations(range(len(sb))) if _take(sb, p) == sa)
            return (
                f"layout: weight '{_bare(a.name)}' has shape {sa} where Keras's has {sb}: the "
                f"same axes in another order (Keras's value.transpose{p}). Keras keeps Dense "
                "kernels as (in, out) and conv kernels as (kh, kw, in, out) (PyTorch: OIHW)."
            )
    return "the weights' names, shapes or creation order differ from Keras's (see detail)"


def hint(ours, theirs, rows, runs, saved, rebuild, flat, kwargs) -> str:
    """The likeliest cause of a failing layer comparison (module docstring), as one sentence."""
    found = _weights(ours, saved)
    if found:
        return found
    n_out, n_state = len(runs[1].outputs), len(runs[1].state)
    for i, row in enumerate(rows[:n_out]):
        a, b = runs[0].outputs[i], runs[1].outputs[i]
        if row.ok or a is None or b is None or np.shape(a) != np.shape(b):
            continue
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        for check in (_border, _scale):
            found = check(a, b, theirs)
            if found:
                return found
        found = _layout_rerun(a, i, theirs, saved[1], rebuild, flat, kwargs)
        if found:
            return found
        return _fallback(row)
    for j, row in enumerate(rows[n_out : n_out + n_state]):
        if not row.ok:
            before_o, before_t = saved[0][j], saved[1][j]
            d_o = np.asarray(runs[0].state[j], np.float64) - before_o
            d_t = np.asarray(runs[1].state[j], np.float64) - before_t
            r = _constant_ratio(d_o, d_t)
            if r is not None:
                momentum = getattr(theirs, "momentum", None)
                implied = (
                    f"; with Keras's momentum {momentum:g} yours acts as {1 - r * (1 - momentum):g}"
                    if isinstance(momentum, float)
                    else ""
                )
                return (
                    f"momentum: the outputs agree, but the update of '{row.tensor}' is Keras's "
                    f"times {r:.6g}{implied}. Keras: moving = moving * momentum + batch * "
                    "(1 - momentum), momentum=0.99 (PyTorch's momentum=0.1 is Keras's 0.9)."
                )
            return f"state: the outputs agree but '{row.tensor}' differs after the call. " + (
                _fallback(row)
            )
    for row in rows[n_out + n_state :]:
        if not row.ok:
            return (
                f"gradient: the forward pass agrees but '{row.tensor}' differs: a VJP rule, or a "
                "kink convention (TF: relu'(0) = 0, max ties to the first maximum). "
                + _fallback(row)
            )
    return _fallback(rows[0])


def _weights(ours, saved) -> str:
    for w, a, b in zip(ours.weights, saved[0], saved[1], strict=True):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        scale = float(np.max(np.abs(b), initial=0.0))
        if np.max(np.abs(a - b), initial=0.0) <= CLOSE * scale:
            continue
        for p in itertools.permutations(range(b.ndim)):
            t = b.transpose(p)
            if p != tuple(range(b.ndim)) and t.shape == a.shape and _close(a, t):
                return (
                    f"layout: weight '{_bare(w.name)}' holds Keras's value transposed "
                    f"(Keras's {_bare(w.name)}.transpose{p}): the kernel was loaded or stored in "
                    "another layout. Keras: Dense (in, out), conv (kh, kw, in, out)."
                )
        return (
            f"weights: '{_bare(w.name)}' differs from Keras's before the call (max rel "
            f"{np.max(np.abs(a - b)) / (scale or 1.0):.1e}): the models do not hold the same "
            "weights (load both from the same file, in Keras's order)."
        )
    return ""


def _border(a, b, layer) -> str:
    """Error confined to the outer rows/columns of a convolution-like output -> padding."""
    if a.ndim < 3:
        return ""
    first = getattr(layer, "data_format", "channels_last") == "channels_first"
    spatial = list(range(2, a.ndim)) if first else list(range(1, a.ndim - 1))
    others = tuple(i for i in range(a.ndim) if i not in spatial)
    err = np.max(np.abs(a - b), axis=others)
    k = np.atleast_1d(getattr(layer, "kernel_size", (3,)) or (3,))
    w = max(1, int(np.max(k)) // 2)
    if any(n <= 2 * w for n in err.shape):
        return ""
    border = np.zeros(err.shape, bool)
    for ax, n in enumerate(err.shape):
        idx = [slice(None)] * err.ndim
        idx[ax] = np.r_[0:w, n - w : n]
        border[tuple(idx)] = True
    inner, outer = float(np.max(err[~border])), float(np.max(err[border]))
    if outer == 0.0 or inner > 1e-3 * outer:
        return ""
    sides = []
    for ax, n in enumerate(err.shape):
        lead = np.take(err, range(w), axis=ax).max()
        trail = np.take(err, range(n - w, n), axis=ax).max()
        sides += [f"axis {spatial[ax]} {s}" for s, v in (("start", lead), ("end", trail)) if v]
    return (
        f"padding: the error is confined to the border of the output ({w} wide; max {outer:.1e} "
        f"there, {inner:.1e} inside; sides: {', '.join(sides)}). Check the padding: Keras "
        "'same' pads total // 2 zeros before and the rest after (the odd one at the end); "
        "'causal' pads d * (k - 1) zeros at the start."
    )


def _scale(a, b, layer) -> str:
    d = a - b
    r = _constant_ratio(a, b)
    if r is not None:
        n = int(np.sum(np.abs(d) > 1e-3 * np.max(np.abs(d))))
        return (
            f"scale: where they differ ({n} of {d.size} values) your output is Keras's times "
            f"{r:.6g}: a constant factor. A default differs: an activation's parameter "
            "(LeakyReLU negative_slope 0.3 in Keras, 0.2 in tf.nn.leaky_relu; ELU alpha), an "
            "epsilon or a momentum."
        )
    axis = 1 if getattr(layer, "data_format", "") == "channels_first" and a.ndim > 2 else -1
    ca, cb = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
    ca, cb = ca.reshape(-1, ca.shape[-1]), cb.reshape(-1, cb.shape[-1])
    if ca.shape[0] < 3:
        return ""
    fits = []
    for c in range(ca.shape[1]):
        x = np.stack([cb[:, c], np.ones(len(cb))], axis=1)
        coef, *_ = np.linalg.lstsq(x, ca[:, c], rcond=None)
        fits.append((coef, float(np.max(np.abs(x @ coef - ca[:, c])))))
    if max(f[1] for f in fits) > 1e-3 * float(np.max(np.abs(d))):
        return ""
    scales = np.array([f[0][0] for f in fits])
    if np.all(np.abs(scales - 1.0) < 1e-6):
        return (
            "offset: channel by channel your output is Keras's plus a constant: a bias, "
            "beta or moving mean differs."
        )
    return (
        f"per-channel scale: channel by channel your output is Keras's times a_c plus b_c "
        f"(a_c from {scales.min():.6g} to {scales.max():.6g}): a normalization constant "
        "differs: epsilon (Keras's BatchNormalization and LayerNormalization use 1e-3, PyTorch "
        "1e-5) or the variance (Keras divides by N, not N - 1)."
    )


def _constant_ratio(a, b) -> float | None:
    """r when a = r * b on every element where they differ noticeably (r != 1), else None."""
    d = np.abs(a - b)
    top = float(np.max(d, initial=0.0))
    sel = (d > 1e-3 * top) & (np.abs(b) > 1e-6 * float(np.max(np.abs(b), initial=0.0)))
    if top == 0.0 or np.sum(sel) < 2 or np.sum(d > 1e-3 * top) > np.sum(sel):
        return None
    r = a[sel] / b[sel]
    med = float(np.median(r))
    if abs(med - 1.0) < 1e-6 or float(np.max(np.abs(r - med))) > 1e-3 * abs(med - 1.0):
        return None
    return med


def _layout_rerun(ours_out, i, theirs, values, rebuild, flat, kwargs) -> str:
    """Rerun Keras's layer with one weight's axes permuted: does it reproduce the port?"""
    import tensorflow as tf

    from reference import nest

    xs = rebuild([tf.constant(x) for x in flat])
    kw = {k: tf.constant(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    scale = float(np.max(np.abs(ours_out), initial=0.0)) or 1.0
    try:
        for j, b in enumerate(values):
            for p in itertools.permutations(range(b.ndim)):
                t = b.transpose(p)
                if b.ndim < 2 or t.shape != b.shape or np.array_equal(t, b):
                    continue
                theirs.set_weights([t if k == j else v for k, v in enumerate(values)])
                y = np.asarray(nest.flatten(theirs(xs, **kw))[i], np.float64)
                if np.max(np.abs(y - ours_out)) <= 1e-5 * scale:
                    name = _bare(theirs.weights[j].name)
                    return (
                        f"layout: Keras's layer with {name}.transpose{p} reproduces your output: "
                        f"your port reads '{name}' in another layout (Keras: Dense (in, out), "
                        "conv (kh, kw, in, out))."
                    )
    finally:
        theirs.set_weights(values)
    return ""


def _fallback(row) -> str:
    return (
        f"largest error in '{row.tensor}' at index {row.worst} (max rel {row.max_rel:.1e}); "
        "no known pattern (border, layout, constant or per-channel scale)."
    )


def _close(a, b) -> bool:
    scale = float(np.max(np.abs(b), initial=0.0))
    return float(np.max(np.abs(a - b), initial=0.0)) <= CLOSE * scale


def _take(shape, p) -> tuple:
    return tuple(shape[i] for i in p)


def _bare(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(":", 1)[0]
