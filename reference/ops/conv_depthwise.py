"""Depthwise convolution (one input channel per group) as a loop over kernel taps.

A convolution whose groups equal its input channels (DepthwiseConv, the first half of
SeparableConv) has, per tap, one multiply per output element and channel: as GEMMs it is C
products of K = prod(kernel) by 1, which stacked matmul runs far below its speed (Conv2D
depthwise 3x3 on (32, 32, 32, 32): 80 ms through im2col, 17x TF's). Here each tap is one
element-wise multiply-add over a strided view of the padded input, the window view of tap k:
xpad[:, k_i d_i + s_i q_i, :]. conv.py chooses this path (`depthwise_ok`) and states the
math; fast_paths_test.py tests it against im2col and the loop definition.

Shapes, channels_last: x (N, *S, C), kernel (*K, 1, C * M) (the grouped layout conv.py uses:
output channel c * M + m reads input channel c), y (N, *Q, C * M).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _threads


class Depthwise:
    """The residual of a depthwise forward pass: the zero-padded input, and the geometry."""

    __slots__ = ("xpad", "strides", "dilation", "out")

    def __init__(self, xpad, strides, dilation, out):
        self.xpad, self.strides, self.dilation, self.out = xpad, strides, dilation, out


def depthwise_ok(channels: int, kernel_channels: int, groups: int) -> bool:
    """One input channel per group: groups == channels > 1, the kernel's (*K, 1, O) layout."""
    return groups > 1 and groups == channels and kernel_channels == 1


def _tap(a, tap, strides, dilation, out):
    """The window view of one tap: a[:, k_i d_i + s_i q_i for q_i < Q_i, :] (no copy)."""
    index = tuple(
        slice(k * d, k * d + s * (q - 1) + 1, s)
        for k, d, s, q in zip(tap, dilation, strides, out, strict=True)
    )
    return a[(slice(None), *index)]


def _per_tap(kernel, channels: int):
    """kernel (*K, 1, C * M) as (taps, M, C): tap t's weights for multiplier m, channel c (each
    (t, m) row a contiguous per-channel vector); and K."""
    *k, _, cm = kernel.shape
    w = kernel.reshape(math.prod(k), channels, cm // channels).transpose(0, 2, 1)
    return np.ascontiguousarray(w), tuple(k)


# Every loop below works on (N, *Q, C) arrays, one depth multiplier m at a time (strided views
# of the (N, *Q, C, M) layout when M > 1): a trailing axis of length M would be NumPy's
# innermost loop. The batch is cut into blocks of about _BLOCK_BYTES (padded input and output
# of its images) that run all their taps while they are in cache, on a few threads (NumPy
# releases the GIL in its loops; each block writes only its own images). A 3x3 depthwise
# forward on (32, 32, 32, 32) float32, 2-core AMD EPYC: 18.1 ms in one block, 10.7 ms in
# 4-image blocks on one thread, 6.5-7.1 ms on two (TF: 4.3-6.2 ms).
_BLOCK_BYTES = 1 << 20


def _images_per_block(xpad, out, channels: int, m: int, itemsize: int) -> int:
    image = (math.prod(xpad.shape[1:]) + math.prod(out) * channels * m) * itemsize
    return max(1, _BLOCK_BYTES // max(1, image))


def depthwise_forward(xpad, kernel, strides, dilation, out, channels: int):
    """y[n, q, c M + m] = sum over taps k of xpad[n, q s + k d, c] * kernel[k, 0, c M + m], the
    taps added in order into one accumulator."""
    w, kernel_size = _per_tap(kernel, channels)
    n, m = xpad.shape[0], w.shape[1]
    y = np.empty((n, *out, channels, m), np.result_type(xpad, kernel))

    def block(a: int, b: int) -> None:
        yb, term = y[a:b], np.empty((b - a, *out, channels), y.dtype)
        for t, tap in enumerate(np.ndindex(*kernel_size)):
            win = _tap(xpad[a:b], tap, strides, dilation, out)  # (B, *Q, C)
            for j in range(m):
                np.multiply(win, w[t, j], out=yb[..., j] if t == 0 else term)
                if t:
                    yb[..., j] += term

    _threads.map_blocks(block, n, _images_per_block(xpad, out, channels, m, y.itemsize))
    return y.reshape(n, *out, channels * m)


def depthwise_input_grad(dy, kernel, x_shape, strides, pads, dilation):
    """dxpad[n, q s + k d, c] += sum_m dy[n, q, c M + m] * kernel[k, 0, c M + m] for every tap,
    then the padding cropped off."""
    n, *sizes, c = x_shape
    w, kernel_size = _per_tap(kernel, c)
    m, out = w.shape[1], dy.shape[1:-1]
    dtype = np.result_type(dy, kernel)
    padded = [s + b + a for s, (b, a) in zip(sizes, pads, strict=True)]
    dxpad = np.zeros((n, *padded, c), dtype)
    dy = dy.reshape(n, *out, c, m)

    def block(a: int, b: int) -> None:
        term = np.empty((b - a, *out, c), dtype)
        for t, tap in enumerate(np.ndindex(*kernel_size)):
            target = _tap(dxpad[a:b], tap, strides, dilation, out)
            for j in range(m):
                np.multiply(dy[a:b, ..., j], w[t, j], out=term)
                target += term

    _threads.map_blocks(block, n, _images_per_block(dxpad, out, c, m, dxpad.itemsize))
    crop = tuple(slice(b, b + s) for s, (b, _) in zip(sizes, pads, strict=True))
    return dxpad[(slice(None), *crop)]


def depthwise_kernel_grad(res: Depthwise, dy, kernel_shape):
    """dkernel[k, 0, c M + m] = sum over n, q of xpad[n, q s + k d, c] * dy[n, q, c M + m]: per
    block of images a sum over its rows, then the blocks' sums added in block order (the same
    order whatever the threads)."""
    *kernel_size, _, cm = kernel_shape
    xpad, c = res.xpad, res.xpad.shape[-1]
    m, n = cm // c, dy.shape[0]
    dtype = np.result_type(xpad, dy)
    dy = np.asarray(dy).reshape(n, *res.out, c, m)
    per = _images_per_block(xpad, res.out, c, m, np.dtype(dtype).itemsize)
    if n == 0:  # an empty batch: the sum over no samples
        return np.zeros(kernel_shape, dtype)
    partial = np.empty((-(-n // per), math.prod(kernel_size), c, m), dtype)

    def block(a: int, b: int) -> None:
        term = np.empty((b - a, *res.out, c), dtype)
        for t, tap in enumerate(np.ndindex(*kernel_size)):
            win = _tap(xpad[a:b], tap, res.strides, res.dilation, res.out)
            for j in range(m):
                np.multiply(win, dy[a:b, ..., j], out=term)
                # rows of (last axis x channels) first: a 32-wide axis-0 sum is 2x slower
                rows = term.reshape(-1, res.out[-1] * c).sum(axis=0)
                partial[a // per, t, :, j] = rows.reshape(-1, c).sum(axis=0)

    _threads.map_blocks(block, n, per)
    dk = partial[0]
    for p in partial[1:]:
        dk = dk + p
    return dk.reshape(kernel_shape)
