"""Shifted GEMMs: a stride-1, one-group convolution and its two gradients without im2col.

The zero-padded input is one matrix of rows (lead + N * prod(G), C) on a grid G (`_grid`:
each axis padded once, the padding shared between neighbouring rows and images). Output q's
tap k reads row `row(q) + off(k)` with off(k) = sum_i k_i d_i prod(G[i+1:]), so every tap is
one GEMM of a *contiguous* row block with kernel[k], accumulated in place (BLAS beta = 1) into
an output laid out on the same grid; the valid outputs are a view of it. conv.py chooses
these or im2col per call (`shifted_ok`) and states the math; the two are tested against each
other and against the loop definition in fast_paths_test.py.
"""

from __future__ import annotations

import math
import threading

import numpy as np


class Shifted:
    """The shifted-GEMM residual of a forward pass: the input on its zero-padded grid, as rows
    (with the leading zero rows), the grid's sizes and the dilation."""

    __slots__ = ("rows", "grid", "dilation")

    def __init__(self, rows, grid, dilation):
        self.rows, self.grid, self.dilation = rows, grid, dilation


# Below this im2col size, one GEMM over the copied windows beats a GEMM per tap: the copy is
# cheap, and a multi-threaded BLAS pays a thread hand-off per call (on a busy machine each one
# waits for a time slice: 9 calls made a batch-1 Conv2D forward 10x slower than 1 call).
_SHIFTED_MIN_BYTES = 4 << 20


def shifted_ok(x, kernel, strides, groups) -> bool:
    """Shifted GEMMs apply: stride 1, one group, one BLAS float type for both operands, and an
    im2col matrix of at least _SHIFTED_MIN_BYTES (estimated as prod(K) copies of x)."""
    if not (
        groups == 1
        and all(s == 1 for s in strides)
        and x.dtype == kernel.dtype
        and x.dtype in (np.float32, np.float64)
    ):
        return False
    return x.size * math.prod(kernel.shape[:-2]) * x.itemsize >= _SHIFTED_MIN_BYTES


_BLAS = []


def _blas_gemm(dtype):
    """scipy's sgemm or dgemm. The first call also runs one 128x128x128 sgemm: scipy's
    OpenBLAS (0.3.31, measured on a 2-core AMD EPYC) runs the taps' M = 32 GEMMs about 2.7x
    slower (a Conv2D forward: 40 ms against 15 ms) until the process has run one GEMM of
    roughly 10^6 multiply-adds or more with M >= ~96; smaller ones and NumPy's own OpenBLAS
    do not clear it. Once cleared, it stays cleared for the process."""
    if not _BLAS:
        from scipy.linalg import blas  # imported on first use: `import reference` stays light

        warm = np.ones((128, 128), np.float32)
        blas.sgemm(1.0, warm, warm)
        _BLAS.append(blas)
    blas = _BLAS[0]
    return blas.sgemm if dtype == np.float32 else blas.dgemm


def _grid(sizes, pads):
    """The padded grid: each axis gets max(before, after) zeros *after* its data, shared by the
    next row's "before" and this row's "after" (a row's left padding is the previous row's
    right padding, an image's top padding the previous image's bottom one); `lead` zero rows in
    front serve the first row. Returns (grid sizes, lead)."""
    grid = tuple(n + max(b, a) for n, (b, a) in zip(sizes, pads, strict=True))
    steps = [math.prod(grid[i + 1 :]) for i in range(len(grid))]
    return grid, sum(b * st for (b, _), st in zip(pads, steps, strict=True))


def _taps_and_length(grid, n, kernel_size, dilation, out):
    """Each tap's row offset off(k) = sum_i k_i d_i step_i, and L: the rows from the first
    output to the last valid one (output q sits at row n prod(G) + sum_i q_i step_i)."""
    steps = [math.prod(grid[i + 1 :]) for i in range(len(grid))]
    taps = [
        (tap, sum(t * d * st for t, d, st in zip(tap, dilation, steps, strict=True)))
        for tap in np.ndindex(*kernel_size)
    ]
    last = (n - 1) * math.prod(grid) + sum((q - 1) * st for q, st in zip(out, steps, strict=True))
    return taps, last + 1


def _on_grid(a, grid, lead=0, scratch=False, trail=0):
    """a (N, *S, C) at the start of every axis of the grid, zeros elsewhere, as rows
    (lead + N * prod(G) + trail, C). With `scratch`, the rows are this thread's reusable buffer
    for this layout (see _scratch): only valid until the next call with the same layout."""
    n, c = a.shape[0], a.shape[-1]
    shape = (lead + n * math.prod(grid) + trail, c)
    if scratch:
        rows = _scratch("rows", (a.shape, grid, lead, trail), shape, a.dtype)
    else:
        rows = np.zeros(shape, a.dtype)
    block = rows[lead : shape[0] - trail].reshape(n, *grid, c)
    block[(slice(None), *(slice(0, s) for s in a.shape[1:-1]))] = a
    return rows


_SCRATCH = threading.local()
_SCRATCH_KEPT = 4  # layouts kept per kind and thread (a few layers of a CNN)


def _scratch(kind: str, layout: tuple, shape: tuple, dtype) -> np.ndarray:
    """A zeroed buffer of this thread, reused by every call with the same `layout`: rows are
    written at the same data positions each time, so their zero padding stays zero. Saves the
    fresh pages of a ~5 MB array per call (page faults and zeroing: 0.2 ms of a 6 ms Conv2D
    forward on (32, 32, 32, 32))."""
    cache = _SCRATCH.__dict__.setdefault(kind, {})
    key = (layout, shape, np.dtype(dtype).str)
    buf = cache.pop(key, None)
    if buf is None:
        buf = np.zeros(shape, dtype)
        while len(cache) >= _SCRATCH_KEPT:
            cache.pop(next(iter(cache)))  # the least recently used
    cache[key] = buf
    return buf


def _off_grid(rows, n, grid, sizes):
    """The (N, *S, C) block at the start of the grid (a view)."""
    full = rows[rows.shape[0] - n * math.prod(grid) :].reshape(n, *grid, rows.shape[-1])
    return full[(slice(None), *(slice(0, s) for s in sizes))]


# Each shifted-GEMM loop runs over pieces of about this many bytes of rows (input and output
# channels together), every tap on one piece before the next: a piece's rows stay in cache
# across its taps instead of streaming the whole ~5 MB grid from memory once per tap. On a
# 2-core AMD EPYC (512 KiB L2 per core, 8 MiB L3), Conv2D(32, 3, "same") on (32, 32, 32, 32):
# forward 12.0 ms with 2 MiB pieces, 14.8 ms in one piece; 0.5 / 1 / 4 / 8 MiB pieces took
# 13.0 / 12.6 / 12.3 / 13.8 ms. The input gradient follows the forward; the kernel gradient
# gains less (32.1 ms against 35.0 ms in one piece).
_PIECE_BYTES = 2 << 20


def _pieces(start: int, stop: int, row_bytes: int):
    """[start, stop) cut into consecutive (a, b) ranges of about _PIECE_BYTES of rows each."""
    step = max(1, _PIECE_BYTES // row_bytes)
    count = max(1, round((stop - start) / step))  # equal pieces: no short tail GEMM
    bounds = [start + (stop - start) * i // count for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _tap_kernels(kernel, taps):
    """kernel[k]^T per tap as a Fortran (O, C) matrix (BLAS's view of a C-order (C, O))."""
    return [np.ascontiguousarray(kernel[tap]).T for tap, _ in taps]


def shifted_forward(x, kernel, pads, dilation, out, bias=None, residual=True):
    """y = bias + sum over taps k of rows[off(k) : off(k) + L] @ kernel[k], accumulated in
    place on the grid, piece by piece (the accumulator starts as the bias, so adding it costs
    no pass of its own); y is the view of the valid outputs. Without `residual` (no gradient
    will follow), the padded input's rows are this thread's scratch buffer and no residual is
    returned."""
    grid, lead = _grid(x.shape[1:-1], pads)
    rows = _on_grid(x, grid, lead, scratch=not residual)
    n, kernel_size, o = x.shape[0], kernel.shape[:-2], kernel.shape[-1]
    taps, length = _taps_and_length(grid, n, kernel_size, dilation, out)
    full = np.empty((n * math.prod(grid), o), x.dtype)
    gemm, kts = _blas_gemm(x.dtype), _tap_kernels(kernel, taps)
    for a, b in _pieces(0, length, (rows.shape[1] + o) * x.itemsize):
        acc = full[a:b].T  # Fortran view: y^T += K^T x^T
        if bias is not None:
            full[a:b] = bias
        for i, (kt, (_, off)) in enumerate(zip(kts, taps, strict=True)):
            beta = float(i > 0 or bias is not None)
            gemm(1.0, kt, rows[a + off : b + off].T, beta=beta, c=acc, overwrite_c=1)
    res = Shifted(rows, grid, tuple(dilation)) if residual else None
    return _off_grid(full, n, grid, out), res


def shifted_input_grad(dy, kernel, x_shape, pads, dilation):
    """dx rows[r] = sum over taps k of dy rows[r - off(k)] @ kernel[k]^T (a gather: dy sits on
    the grid behind max(off) zero rows, so every dx row reads in range), computed piece by
    piece over the input's rows; the data block of the grid is dx (padding rows are never
    computed)."""
    n, *sizes, c = x_shape
    grid, lead = _grid(sizes, pads)
    taps, _ = _taps_and_length(grid, n, kernel.shape[:-2], dilation, dy.shape[1:-1])
    top = taps[-1][1]  # the largest offset: the last tap's
    dyr = _on_grid(dy, grid, lead=top, trail=lead, scratch=True)  # read by this call only
    full = np.empty((lead + n * math.prod(grid), c), dy.dtype)
    gemm, kts = _blas_gemm(dy.dtype), _tap_kernels(kernel, taps)
    for a, b in _pieces(lead, full.shape[0], (c + dy.shape[-1]) * dy.itemsize):
        acc = full[a:b].T
        for i, (kt, (_, off)) in enumerate(zip(kts, taps, strict=True)):
            src = dyr[a + top - off : b + top - off].T
            gemm(1.0, kt, src, beta=float(i > 0), c=acc, overwrite_c=1, trans_a=1)
    return _off_grid(full, n, grid, sizes)


def shifted_residual(x, pads, dilation) -> Shifted:
    """The residual `shifted_forward` keeps: x's rows on the zero-padded grid."""
    grid, lead = _grid(x.shape[1:-1], pads)
    return Shifted(_on_grid(x, grid, lead), grid, tuple(dilation))


def shifted_kernel_grad(res: Shifted, dy, kernel_shape):
    """dkernel[k] = rows[off(k) : off(k) + L]^T @ dy rows[:L], one GEMM per tap and piece of
    the L rows (the pieces' products summed in place: BLAS beta = 1)."""
    dtype = np.result_type(res.rows, dy)  # a float64 dy with float32 rows: float64, as np.dot
    rows = res.rows.astype(dtype, copy=False)
    dyr = _on_grid(np.asarray(dy, dtype), res.grid, scratch=True)  # read by this call only
    n, out = dy.shape[0], dy.shape[1:-1]
    taps, length = _taps_and_length(res.grid, n, kernel_shape[:-2], res.dilation, out)
    dk = np.empty(kernel_shape, dtype)
    gemm = _blas_gemm(dtype)
    row_bytes = (rows.shape[1] + dyr.shape[1]) * dk.itemsize
    for j, (a, b) in enumerate(_pieces(0, length, row_bytes)):
        for tap, off in taps:  # (O, C) in Fortran order is dkernel[k] (C, O) in C order
            xt = rows[a + off : b + off].T
            gemm(1.0, dyr[a:b].T, xt, beta=float(j > 0), c=dk[tap].T, overwrite_c=1, trans_b=1)
    return dk
