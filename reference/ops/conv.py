"""N-d convolution as GEMMs (shifted row blocks, or im2col), with its two gradients.

Every convolution layer (Conv1D/2D/3D, the transposed, depthwise and separable ones) computes
with the three functions here, in channels_last layout (layers move channels_first axes around
them, which is exact):

    conv(x, kernel)                        forward:           y = x (*) kernel
    conv_transpose(dy, kernel, x_shape)    input gradient:    dx = dy (*)^T kernel
    conv_kernel_grad(x, dy, kernel_shape)  kernel gradient:   dkernel = x (*)^T dy

A transposed convolution (Conv2DTranspose) *is* `conv_transpose`: the input gradient of the
forward convolution whose input has the transposed layer's output shape. The three maps are
linear and each one's VJP is made of the other two, so they are tape primitives closed under
differentiation (higher-order gradients come for free).

Shapes: x (N, *S, C); kernel (*K, C // groups, O) ("HWIO", TF's layout; PyTorch's is OIHW);
y (N, *Q, O) with Q_i = (S_i + pad_before_i + pad_after_i - d_i * (K_i - 1) - 1) // s_i + 1.
`pads` is a tuple of (before, after) per spatial axis, from `conv_pads`.

Three formulations, chosen per call (all exact to float rounding, tested against each other
and against `conv_naive` in fast_paths_test.py and conv_test.py):

- shifted GEMMs (stride 1, one group, float32/float64, an im2col of 4 MiB or more): the
  zero-padded input is one matrix of rows (lead + N * prod(G), C) on a grid G (`_grid`: each
  axis padded once, the padding shared between neighbouring rows and images). Output q's
  tap k reads row `row(q) + off(k)` with off(k) = sum_i k_i d_i prod(G[i+1:]), so every tap
  is one GEMM of a *contiguous* row block of that matrix with kernel[k], accumulated in place
  into an output laid out on the grid (BLAS beta = 1); the valid outputs are a view of it.
  No im2col copy: the forward reads the input once per tap, the kernel gradient is one GEMM
  per tap, and the input gradient is the same loop as the forward with dy (zero-embedded in
  the grid) and kernel[k]^T, gathering from dy rows at -off(k). Every loop runs over pieces
  of rows that stay in cache across the taps (`_pieces`). About prod(G) / prod(Q) more rows
  than outputs (1.06x for 3x3 "same" on 32x32). One BLAS call per tap and piece, though:
  with a multi-threaded BLAS on a machine whose cores are all busy, each call waits for its
  helper thread's time slice (bench_conv).
- depthwise (groups == channels, one input channel per group; conv_depthwise.py): per tap
  one element-wise multiply-add over a window view of the padded input, in blocks of images.
- im2col (everything else): GEMMs over a stride-trick window view, copied once.

`conv_naive` is the definition as loops, the executable specification of all three.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autodiff import defvjp, primitive
from .conv_depthwise import Depthwise, depthwise_forward, depthwise_input_grad, depthwise_ok
from .conv_depthwise import depthwise_kernel_grad as _depthwise_kernel_grad
from .conv_shifted import Shifted, shifted_residual
from .conv_shifted import shifted_forward as _shifted_forward
from .conv_shifted import shifted_input_grad as _shifted_input_grad
from .conv_shifted import shifted_kernel_grad as _shifted_kernel_grad
from .conv_shifted import shifted_ok as _shifted_ok

PADDINGS = ("valid", "same", "causal")


def conv_pads(sizes, kernel_size, strides, dilation, padding: str) -> tuple:
    """(before, after) zero padding per spatial axis, TF's rule.

    Computes: valid: 0; causal: (d * (k - 1), 0); same: out = ceil(n / s),
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0), before = total // 2, after = the rest
    (the odd element goes to the bottom/right, where PyTorch's padding=1 would be symmetric).
    """
    pads = []
    for n, k, s, d in zip(sizes, kernel_size, strides, dilation, strict=True):
        span = d * (k - 1) + 1
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "causal":
            pads.append((span - 1, 0))
        else:
            total = max((-(-n // s) - 1) * s + span - n, 0)
            pads.append((total // 2, total - total // 2))
    return tuple(pads)


def conv_output_sizes(sizes, kernel_size, strides, dilation, pads) -> tuple:
    """Q_i = (S_i + before_i + after_i - d_i * (K_i - 1) - 1) // s_i + 1 (may be <= 0)."""
    return tuple(
        (n + b + a - d * (k - 1) - 1) // s + 1
        for n, k, s, d, (b, a) in zip(sizes, kernel_size, strides, dilation, pads, strict=True)
    )


def _windows(xp: np.ndarray, kernel_size, strides, dilation, out) -> np.ndarray:
    """A read-only view (N, *Q, *K, C) of the padded input: window q, tap k is
    xp[n, q * s + k * d, c]. No copy."""
    sn, *ss, sc = xp.strides
    shape = (xp.shape[0], *out, *kernel_size, xp.shape[-1])
    view_strides = (
        sn,
        *(a * s for a, s in zip(ss, strides, strict=True)),
        *(a * d for a, d in zip(ss, dilation, strict=True)),
        sc,
    )
    return as_strided(xp, shape, view_strides, writeable=False)


def _pad(x: np.ndarray, pads) -> np.ndarray:
    if not any(b or a for b, a in pads):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)))


def _columns(x, kernel_size, strides, dilation, pads, groups):
    """The im2col matrix, (G, M, prod(K) * C/G), M = N * prod(Q); and Q."""
    out = conv_output_sizes(x.shape[1:-1], kernel_size, strides, dilation, pads)
    win = _windows(_pad(x, pads), kernel_size, strides, dilation, out)
    m, kp, c = x.shape[0] * math.prod(out), math.prod(kernel_size), x.shape[-1]
    if groups == 1:
        return win.reshape(1, m, kp * c), out  # the one copy of the forward pass
    cols = win.reshape(m, kp, groups, c // groups).transpose(2, 0, 1, 3)
    return cols.reshape(groups, m, kp * (c // groups)), out


def _grouped_kernel(kernel: np.ndarray, groups: int) -> np.ndarray:
    """(*K, Cg, O) -> (G, prod(K) * Cg, O / G): the GEMM operand of each group."""
    *k, cg, o = kernel.shape
    w = kernel.reshape(math.prod(k), cg, groups, o // groups)
    return w.transpose(2, 0, 1, 3).reshape(groups, math.prod(k) * cg, o // groups)


def _ungroup(y: np.ndarray, n: int, out) -> np.ndarray:
    """(G, M, O/G) -> (N, *Q, O), output channel g * O/G + o (TF's grouped layout)."""
    g, m, og = y.shape
    if g == 1:
        return y.reshape(n, *out, og)
    return y.transpose(1, 0, 2).reshape(n, *out, g * og)


def _group(dy: np.ndarray, groups: int) -> np.ndarray:
    """(N, *Q, O) -> (G, M, O/G), the inverse of `_ungroup`."""
    o = dy.shape[-1]
    d2 = dy.reshape(-1, groups, o // groups)
    return d2.transpose(1, 0, 2) if groups > 1 else d2.reshape(1, -1, o)


def conv_forward(x, kernel, strides, pads, dilation, groups=1, bias=None, residual=True):
    """`conv` plus `bias` (O,) when given, also returning the residual the kernel gradient
    reuses: the padded input's rows (shifted GEMMs) or the im2col matrix; with
    residual=False (a forward pass that no gradient will follow) the residual may be None.

    The bias is added to the new output in place (the shifted GEMMs start their accumulator
    from it): a layer's `conv(x, kernel) + bias` without a pass and an array of its own. The
    shifted GEMMs round the sum as bias + (tap sums) where TF's BiasAdd rounds (tap sums) +
    bias: the same in exact arithmetic, apart by float rounding.
    """
    if bias is not None and np.result_type(x, kernel, bias) != np.result_type(x, kernel):
        y, res = conv_forward(x, kernel, strides, pads, dilation, groups, residual=residual)
        return y + bias, res  # the sum is promoted: no in-place add
    if _shifted_ok(x, kernel, strides, groups):
        out = conv_output_sizes(x.shape[1:-1], kernel.shape[:-2], strides, dilation, pads)
        return _shifted_forward(x, kernel, pads, dilation, out, bias, residual)
    if depthwise_ok(x.shape[-1], kernel.shape[-2], groups):
        out = conv_output_sizes(x.shape[1:-1], kernel.shape[:-2], strides, dilation, pads)
        xpad = _pad(x, pads)
        y = depthwise_forward(xpad, kernel, strides, dilation, out, groups)
        if bias is not None:
            y += bias
        return y, Depthwise(xpad, tuple(strides), tuple(dilation), out)
    cols, out = _columns(x, kernel.shape[:-2], strides, dilation, pads, groups)
    y = _ungroup(_gemm(cols, _grouped_kernel(kernel, groups)), x.shape[0], out)
    if bias is not None:
        y += bias
    return y, cols


def _gemm(a, b):
    """a @ b over the leading group axis; one 2D np.dot when there is one group (OpenBLAS's
    stacked-matmul path is slower for the tall, skinny products of a convolution)."""
    if a.shape[0] == 1:
        return np.dot(a[0], b[0])[None]
    return np.matmul(a, b)


def kernel_grad_from_columns(cols, dy, kernel_shape, groups=1):
    """dkernel = cols^T @ dy per group, back in (*K, Cg, O) layout; from a `Shifted` residual,
    one GEMM per tap."""
    if isinstance(cols, Shifted):
        return _shifted_kernel_grad(cols, dy, tuple(kernel_shape))
    if isinstance(cols, Depthwise):
        return _depthwise_kernel_grad(cols, dy, tuple(kernel_shape))
    g = _gemm(cols.transpose(0, 2, 1), _group(dy, groups))  # (G, prod(K) * Cg, O/G)
    *k, cg, o = kernel_shape
    g = g.reshape(groups, math.prod(k), cg, o // groups).transpose(1, 2, 0, 3)
    return g.reshape(kernel_shape)


@primitive
def conv(x, kernel, strides, pads, dilation, groups=1):
    """N-d convolution (cross-correlation, as TF and Keras), channels_last.

    Computes: y[n, q, o] = sum_{k, c in group(o)} xpad[n, q * s + k * d, c] * kernel[k, c, o].
    VJP: dx = conv_transpose(dy, kernel); dkernel = conv_kernel_grad(x, dy).
    """
    return conv_forward(x, kernel, strides, pads, dilation, groups)[0]


@primitive
def conv_transpose(dy, kernel, x_shape, strides, pads, dilation, groups=1):
    """The input gradient of `conv` (col2im of dy @ kernel^T); also the transposed convolution.

    Computes: dx[n, i, c] = sum over (q, k) with q * s + k * d - before = i of dy[n, q, o] *
    kernel[k, c, o], o in group(c).
    VJP: d(dy) = conv(g, kernel); dkernel = conv_kernel_grad(g, dy).
    """
    if _shifted_ok(dy, kernel, strides, groups):
        return _shifted_input_grad(dy, kernel, tuple(x_shape), pads, dilation)
    if depthwise_ok(x_shape[-1], kernel.shape[-2], groups):
        return depthwise_input_grad(dy, kernel, tuple(x_shape), strides, pads, dilation)
    n, *sizes, c = x_shape
    kernel_size, cg = kernel.shape[:-2], kernel.shape[-2]
    out = dy.shape[1:-1]
    kp = math.prod(kernel_size)
    per_tap = groups == 1 and dy.size // dy.shape[-1] * kp * c * dy.itemsize >= _PER_TAP_BYTES
    if per_tap:  # each tap's block of columns made contiguous by a GEMM of its own
        dy2, taps = dy.reshape(-1, dy.shape[-1]), kernel.reshape(kp, c, -1)
        block = lambda t: np.dot(dy2, taps[t].T).reshape(n, *out, c)  # noqa: E731
    else:
        w = _grouped_kernel(kernel, groups)  # (G, prod(K) * Cg, Og)
        dcols = _gemm(_group(dy, groups), w.transpose(0, 2, 1))  # (G, M, prod(K) * Cg)
        dcols = dcols.reshape(groups, -1, kp, cg).transpose(1, 2, 0, 3).reshape(n, *out, kp, c)
        block = lambda t: dcols[..., t, :]  # noqa: E731
    padded = [s + b + a for s, (b, a) in zip(sizes, pads, strict=True)]
    dxp = np.zeros((n, *padded, c), dtype=np.result_type(dy, kernel))
    for t, tap in enumerate(np.ndindex(*kernel_size)):  # col2im: one strided add per tap
        dst = tuple(
            slice(k * d, k * d + s * (q - 1) + 1, s)
            for k, d, s, q in zip(tap, dilation, strides, out, strict=True)
        )
        dxp[(slice(None), *dst)] += block(t)
    crop = tuple(slice(b, b + s) for s, (b, _) in zip(sizes, pads, strict=True))
    return dxp[(slice(None), *crop)]


# At or above this many bytes of columns, conv_transpose's col2im takes one GEMM per tap, so
# that each strided add reads a contiguous block (from one GEMM's columns, each add read 32
# contiguous floats at a time): the input gradient of Conv2D(64, 3, strides=2, same) on
# (32, 32, 32, 32) took 13.8 ms against 16.3 ms. Below it, one GEMM: a BLAS call per tap
# costs more than it saves on small inputs (see _SHIFTED_MIN_BYTES in conv_shifted.py).
_PER_TAP_BYTES = 4 << 20


@primitive
def conv_kernel_grad(x, dy, kernel_shape, strides, pads, dilation, groups=1):
    """The kernel gradient of `conv`.

    Computes: dkernel[k, c, o] = sum_{n, q} xpad[n, q * s + k * d, c] * dy[n, q, o].
    VJP: dx = conv_transpose(dy, g); d(dy) = conv(x, g).
    """
    if _shifted_ok(x, dy, strides, groups):
        res = shifted_residual(x, pads, dilation)
        return _shifted_kernel_grad(res, dy, tuple(kernel_shape))
    if depthwise_ok(x.shape[-1], kernel_shape[-2], groups):
        out = tuple(dy.shape[1:-1])
        res = Depthwise(_pad(x, pads), tuple(strides), tuple(dilation), out)
        return _depthwise_kernel_grad(res, dy, tuple(kernel_shape))
    cols, _ = _columns(x, tuple(kernel_shape[:-2]), strides, dilation, pads, groups)
    return kernel_grad_from_columns(cols, dy, tuple(kernel_shape), groups)


def _conv_rules():
    def conv_dx(g, ans, x, kernel, strides, pads, dilation, groups=1):
        return conv_transpose(g, kernel, np.shape(x), strides, pads, dilation, groups)

    def conv_dk(g, ans, x, kernel, strides, pads, dilation, groups=1):
        return conv_kernel_grad(x, g, np.shape(kernel), strides, pads, dilation, groups)

    def tr_ddy(g, ans, dy, kernel, x_shape, strides, pads, dilation, groups=1):
        return conv(g, kernel, strides, pads, dilation, groups)

    def tr_dk(g, ans, dy, kernel, x_shape, strides, pads, dilation, groups=1):
        return conv_kernel_grad(g, dy, np.shape(kernel), strides, pads, dilation, groups)

    def kg_dx(g, ans, x, dy, kernel_shape, strides, pads, dilation, groups=1):
        return conv_transpose(dy, g, np.shape(x), strides, pads, dilation, groups)

    def kg_ddy(g, ans, x, dy, kernel_shape, strides, pads, dilation, groups=1):
        return conv(x, g, strides, pads, dilation, groups)

    defvjp(conv, conv_dx, conv_dk)
    defvjp(conv_transpose, tr_ddy, tr_dk)
    defvjp(conv_kernel_grad, kg_dx, kg_ddy)


_conv_rules()


def conv_naive(x, kernel, strides, pads, dilation, groups=1):
    """The definition, loop by loop: the executable specification of `conv` (tests only)."""
    xp = _pad(np.asarray(x), pads)
    kernel_size, cg, o_total = kernel.shape[:-2], kernel.shape[-2], kernel.shape[-1]
    og = o_total // groups
    out = conv_output_sizes(x.shape[1:-1], kernel_size, strides, dilation, pads)
    y = np.zeros((x.shape[0], *out, o_total), dtype=np.result_type(x, kernel))
    for n in range(x.shape[0]):
        for q in np.ndindex(*out):
            for o in range(o_total):
                channels = slice(o // og * cg, (o // og + 1) * cg)
                acc = 0.0
                for k in np.ndindex(*kernel_size):
                    pos = tuple(
                        qi * s + ki * d
                        for qi, ki, s, d in zip(q, k, strides, dilation, strict=True)
                    )
                    acc += np.dot(xp[(n, *pos, channels)], kernel[(*k, slice(None), o)])
                y[(n, *q, o)] = acc
    return y
