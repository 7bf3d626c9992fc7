"""The fast formulations of conv.py and pooling.py against the slow ones they replace.

Shifted GEMMs (stride 1, one group) and the depthwise tap loop (groups == channels) against
im2col (the same functions with the fast path switched off) and against the loop definition;
conv_transpose's per-tap col2im against its one GEMM; the tap-view max pooling against a window
gather with np.argmax (ties, NaN, -0.0), and its gradient bit for bit. NumPy only.
"""

import numpy as np
import pytest

from reference.ops import conv as C
from reference.ops import conv_shifted
from reference.ops import pooling as P

# (x shape (N, *S, C), kernel (*K, C, O), dilation, padding): stride 1, one group
SHIFTED = [
    ((2, 9, 3), (3, 3, 4), (1,), "same"),
    ((1, 8, 2), (2, 2, 3), (2,), "causal"),
    ((3, 7, 6, 4), (3, 3, 4, 5), (1, 1), "same"),
    ((1, 6, 5, 2), (2, 2, 2, 3), (1, 1), "same"),  # even kernel: padding 0 before, 1 after
    ((2, 9, 8, 3), (3, 2, 3, 2), (2, 3), "valid"),
    ((1, 4, 4, 5), (1, 1, 5, 6), (1, 1), "valid"),  # 1x1: one tap, offset 0
    ((2, 4, 5, 3, 2), (2, 3, 2, 2, 3), (1, 1, 2), "same"),
    ((3, 3, 3, 2), (3, 3, 2, 2), (1, 1), "valid"),  # one output per image: gaps between taps
    ((2, 5, 6, 2), (3, 3, 2, 3), (2, 2), "same"),  # padding 2 a side, shared between rows
    ((2, 7, 2), (4, 2, 3), (2,), "causal"),  # padding 6 before, none after
]


def _case(case, dtype, seed=0):
    xs, ks, dilation, padding = case
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ks).astype(dtype)
    strides = (1,) * len(dilation)
    pads = C.conv_pads(xs[1:-1], ks[:-2], strides, dilation, padding)
    return x, k, (strides, pads, dilation, 1)


def _all_three(x, k, dy, args):
    y, res = C.conv_forward(x, k, *args)
    dk = C.kernel_grad_from_columns(res, dy, k.shape)
    return y, C.conv_transpose(dy, k, x.shape, *args), dk, C.conv_kernel_grad(x, dy, k.shape, *args)


@pytest.mark.parametrize("piece_bytes", [None, 1, 200], ids=["one-piece", "row-pieces", "pieces"])
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("case", SHIFTED, ids=str)
def test_shifted_gemms_equal_im2col_and_the_definition(case, dtype, rtol, piece_bytes, monkeypatch):
    """Also cut into pieces (one row each, or a few rows: pieces then split images and taps
    read across piece edges), which the default size never does at these shapes."""
    monkeypatch.setattr(conv_shifted, "_SHIFTED_MIN_BYTES", 0)  # small shapes: shifted GEMMs
    if piece_bytes is not None:
        monkeypatch.setattr(conv_shifted, "_PIECE_BYTES", piece_bytes)
    x, k, args = _case(case, dtype)
    assert C._shifted_ok(x, k, args[0], 1)
    y_naive = C.conv_naive(x.astype("float64"), k.astype("float64"), *args)
    dy = np.random.default_rng(1).standard_normal(y_naive.shape).astype(dtype)
    fast = _all_three(x, k, dy, args)
    assert isinstance(C.conv_forward(x, k, *args)[1], C.Shifted)
    monkeypatch.setattr(C, "_shifted_ok", lambda *a: False)
    slow = _all_three(x, k, dy, args)
    # float32: both sum 9-72 products in float32, in other orders
    _assert_fast_equals_slow(fast, slow, y_naive, rtol)


def _assert_fast_equals_slow(fast, slow, y_naive, rtol):
    """The fast forward against the definition, and every fast result against the slow path's
    (same dtype and shape; an empty result compares as empty)."""
    scale = max(1.0, float(np.abs(y_naive).max(initial=0.0)))
    np.testing.assert_allclose(fast[0], y_naive, rtol=rtol, atol=rtol * scale)
    for got, want in zip(fast, slow, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        atol = rtol * np.abs(want).max(initial=0.0)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_shifted_gemms_take_non_contiguous_inputs_and_mixed_gradient_dtypes(monkeypatch):
    monkeypatch.setattr(conv_shifted, "_SHIFTED_MIN_BYTES", 0)
    x, k, args = _case(SHIFTED[2], "float32")
    assert isinstance(C.conv_forward(x, k, *args)[1], C.Shifted)
    xf = np.asfortranarray(x)  # another memory order, same values
    np.testing.assert_array_equal(C.conv(xf, k, *args), C.conv(x, k, *args))
    y, res = C.conv_forward(x, k, *args)
    dy = np.random.default_rng(3).standard_normal(y.shape)  # float64 upstream gradient
    dk = C.kernel_grad_from_columns(res, dy, k.shape)
    assert dk.dtype == np.float64  # as np.dot(float32, float64)
    want = C.kernel_grad_from_columns(res, dy.astype("float32"), k.shape)
    np.testing.assert_allclose(dk, want, rtol=2e-5, atol=2e-5 * np.abs(want).max())


def test_scratch_rows_never_leak_between_calls_layouts_or_threads(monkeypatch):
    """A forward pass without a residual pads its input into a reused per-thread buffer: the
    outputs handed out earlier never change, each of more layouts than the buffers kept keeps
    its zero padding (checked against the loop definition, twice round), and concurrent
    threads never share a buffer."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(conv_shifted, "_SHIFTED_MIN_BYTES", 0)
    cases = [_case(c, "float64", seed=i) for i, c in enumerate(SHIFTED)]
    assert len(cases) > conv_shifted._SCRATCH_KEPT
    want = [C.conv_naive(x, k, *args) for x, k, args in cases]
    for _ in range(2):
        got = []
        for (x, k, args), w in zip(cases, want, strict=True):
            y, res = C.conv_forward(x, k, *args, residual=False)
            assert res is None
            np.testing.assert_allclose(y, w, rtol=1e-12, atol=1e-12)
            got.append(y)
    kept = [g.copy() for g in got]
    for i, (x, k, args) in enumerate(reversed(cases)):  # the same layouts, other values
        C.conv_forward(x + i + 1.0, k, *args, residual=False)
    for g, k_ in zip(got, kept, strict=True):
        np.testing.assert_array_equal(g, k_)

    # one layout, other values per task, big enough that GEMMs overlap across threads
    x, k, args = _case(((4, 48, 48, 16), (3, 3, 16, 16), (1, 1), "same"), "float64")
    inputs = [x * (i + 1) for i in range(8)]
    want = [C.conv_forward(a, k, *args)[0] for a in inputs]  # the residual path: fresh rows

    def run(i):
        return i % 8, C.conv_forward(inputs[i % 8], k, *args, residual=False)[0]

    with ThreadPoolExecutor(4) as pool:
        for j, y in pool.map(run, range(64)):
            np.testing.assert_array_equal(y, want[j])


@pytest.mark.parametrize(
    "x_shape, kernel, strides, groups, dtype, shifted",
    [
        ((32, 32, 32, 32), (3, 3, 32, 32), (1, 1), 1, "float32", True),  # 36 MiB of im2col
        ((1, 32, 32, 32), (3, 3, 32, 32), (1, 1), 1, "float32", False),  # 1.1 MiB: one GEMM
        ((32, 32, 32, 32), (3, 3, 32, 32), (2, 2), 1, "float32", False),  # strided
        ((32, 32, 32, 32), (3, 3, 16, 32), (1, 1), 2, "float32", False),  # grouped
        ((32, 32, 32, 32), (3, 3, 32, 32), (1, 1), 1, "float16", False),  # no BLAS type
    ],
)
def test_the_formulation_is_chosen_by_shape_and_type(x_shape, kernel, strides, groups, dtype,
                                                     shifted):  # fmt: skip
    x, k = np.zeros(x_shape, dtype), np.zeros(kernel, dtype)
    assert C._shifted_ok(x, k, strides, groups) is shifted


# (x shape, pool size, strides, padding)
POOLS = [
    ((2, 6, 6, 3), (2, 2), (2, 2), "valid"),  # disjoint windows
    ((1, 7, 5, 2), (2, 2), (2, 2), "valid"),  # a remainder row and column, dropped
    ((1, 7, 7, 2), (3, 3), (2, 2), "same"),  # overlapping, padded
    ((2, 6, 5, 1), (3, 3), (1, 1), "same"),
    ((2, 9, 2), (3,), (3,), "valid"),
    ((1, 4, 5, 4, 2), (2, 2, 2), (2, 1, 2), "same"),
]


def _gather_argmax(x, pool, strides, pads):
    """The slow way: gather every window, np.argmax (first maximum, first NaN)."""
    win, _ = P._window_view(x, pool, strides, pads, -np.inf)
    nd = len(pool)
    flat = win.reshape(*win.shape[: 1 + nd], -1, x.shape[-1])
    return flat.max(axis=-2), np.argmax(flat, axis=-2)


def _tied(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, shape).astype("float32")  # most windows have ties
    x[(0,) * (len(shape) - 1)] = -0.0
    x.flat[1::7] = np.nan  # some windows hold a NaN: it wins, as in np.max
    return x


@pytest.mark.parametrize("case", POOLS, ids=str)
def test_tap_view_pooling_equals_a_window_gather(case):
    shape, pool, strides, padding = case
    pads = C.conv_pads(shape[1:-1], pool, strides, (1,) * len(pool), padding)
    for x in (_tied(shape, 0), np.abs(_tied(shape, 1))):
        y, arg = P.max_pool_with_argmax(x, pool, strides, pads)
        y_want, arg_want = _gather_argmax(x, pool, strides, pads)
        np.testing.assert_array_equal(y, y_want)
        np.testing.assert_array_equal(arg, arg_want)
        np.testing.assert_array_equal(P.max_pool(x, pool, strides, pads), y_want)
        # the gradient: each window's dy at its argmax, summed where windows overlap
        dy = np.random.default_rng(2).integers(-3, 4, y.shape).astype("float32")
        dy.flat[::5] = -0.0
        want = np.zeros_like(x)
        sizes = shape[1:-1]
        padded = np.zeros(
            (shape[0], *(n + b + a for n, (b, a) in zip(sizes, pads, strict=True)), shape[-1])
        )
        for q in np.ndindex(*y.shape[1:-1]):
            for n in range(shape[0]):
                for c in range(shape[-1]):
                    tap = np.unravel_index(arg_want[(n, *q, c)], pool)
                    pos = tuple(qi * s + t for qi, s, t in zip(q, strides, tap, strict=True))
                    padded[(n, *pos, c)] += dy[(n, *q, c)]
        want = padded[
            (slice(None), *(slice(b, b + n) for n, (b, _) in zip(sizes, pads, strict=True)))
        ]
        got = P.max_pool_grad(x, dy, pool, strides, pads)
        np.testing.assert_array_equal(got, want.astype("float32"))
        v = np.random.default_rng(4).standard_normal(x.shape).astype("float32")
        sel = P.max_pool_select(x, v, pool, strides, pads)
        lhs, rhs = (np.vdot(*(t.astype("float64") for t in p)) for p in ((sel, dy), (v, got)))
        np.testing.assert_allclose(lhs, rhs, rtol=1e-12)  # adjoints: same pairs, other order


def test_masked_selection_keeps_special_values_bit_for_bit():
    v = np.array([np.nan, -np.inf, -0.0, 1.5, np.inf, -2.0], np.float32)
    mask = np.array([True, True, True, False, False, False])
    out = P._masked(v, mask)
    np.testing.assert_array_equal(out.view(np.uint32)[:3], v.view(np.uint32)[:3])
    np.testing.assert_array_equal(out.view(np.uint32)[3:], 0)  # +0.0: no NaN from inf * 0


# (x shape, kernel shape, strides, dilation, padding): the im2col input gradient's cases
COL2IM = [
    ((2, 9, 8, 3), (3, 3, 3, 4), (2, 2), (1, 1), "same"),
    ((1, 7, 7, 2), (2, 3, 2, 3), (3, 2), (1, 2), "valid"),
    ((2, 11, 4), (5, 4, 2), (2,), (1,), "causal"),
    ((1, 5, 6, 4, 2), (2, 2, 3, 2, 3), (2, 1, 2), (1, 1, 1), "same"),
]


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("case", COL2IM, ids=str)
def test_col2im_with_a_gemm_per_tap_equals_one_gemm(case, dtype, rtol, monkeypatch):
    """conv_transpose's per-tap GEMMs (large inputs) against its one GEMM (small ones)."""
    xs, ks, strides, dilation, padding = case
    rng = np.random.default_rng(4)
    k = rng.standard_normal(ks).astype(dtype)
    pads = C.conv_pads(xs[1:-1], ks[:-2], strides, dilation, padding)
    out = C.conv_output_sizes(xs[1:-1], ks[:-2], strides, dilation, pads)
    dy = rng.standard_normal((xs[0], *out, ks[-1])).astype(dtype)
    got = {}
    for name, limit in (("per_tap", 0), ("one", 1 << 62)):
        monkeypatch.setattr(C, "_PER_TAP_BYTES", limit)
        got[name] = C.conv_transpose(dy, k, xs, strides, pads, dilation)
    want = got["one"]
    assert got["per_tap"].dtype == want.dtype and got["per_tap"].shape == want.shape == xs
    np.testing.assert_allclose(got["per_tap"], want, rtol=rtol, atol=rtol * np.abs(want).max())


# (x shape (N, *S, C), kernel_size, depth multiplier, strides, dilation, padding)
DEPTHWISE = [
    ((2, 7, 7, 3), (3, 3), 1, (1, 1), (1, 1), "same"),
    ((2, 8, 9, 4), (3, 3), 2, (2, 2), (1, 1), "same"),  # stride 2: padding after only
    ((1, 9, 8, 2), (3, 2), 3, (1, 2), (2, 1), "valid"),
    ((3, 6, 6, 5), (2, 2), 1, (2, 2), (1, 1), "same"),  # even kernel
    ((2, 5, 5, 3), (1, 1), 1, (1, 1), (1, 1), "valid"),  # one tap
    ((2, 4, 4, 2), (3, 3), 1, (3, 3), (1, 1), "valid"),  # stride > kernel span: gaps
    ((2, 11, 3), (4,), 2, (1,), (2,), "causal"),
    ((1, 9, 4), (3,), 1, (2,), (1,), "same"),
    ((2, 4, 5, 4, 2), (2, 3, 2), 1, (1, 2, 1), (1, 1, 2), "same"),
    # an empty batch: a zero kernel gradient, as im2col and the definition (TF 2.21's
    # DepthwiseConv2dNativeBackpropFilter returns uninitialized memory here: 1e31-1e37)
    ((0, 5, 5, 3), (3, 3), 2, (1, 1), (1, 1), "same"),
]


def _depthwise_case(case, dtype, seed=0):
    xs, ks, m, strides, dilation, padding = case
    rng = np.random.default_rng(seed)
    c = xs[-1]
    x = rng.standard_normal(xs).astype(dtype)
    k = rng.standard_normal((*ks, 1, c * m)).astype(dtype)  # the grouped layout, groups = C
    pads = C.conv_pads(xs[1:-1], ks, strides, dilation, padding)
    return x, k, (strides, pads, dilation, c)


def _all_four(x, k, dy, args):
    y, res = C.conv_forward(x, k, *args)
    return (
        y,
        C.conv_transpose(dy, k, x.shape, *args),
        C.kernel_grad_from_columns(res, dy, k.shape, args[-1]),
        C.conv_kernel_grad(x, dy, k.shape, *args),
    )


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("case", DEPTHWISE, ids=str)
def test_depthwise_taps_equal_im2col_and_the_definition(case, dtype, rtol, monkeypatch):
    x, k, args = _depthwise_case(case, dtype)
    y_naive = C.conv_naive(x.astype("float64"), k.astype("float64"), *args)
    dy = np.random.default_rng(1).standard_normal(y_naive.shape).astype(dtype)
    assert isinstance(C.conv_forward(x, k, *args)[1], C.Depthwise)
    fast = _all_four(x, k, dy, args)
    monkeypatch.setattr(C, "depthwise_ok", lambda *a: False)
    assert not isinstance(C.conv_forward(x, k, *args)[1], C.Depthwise)
    slow = _all_four(x, k, dy, args)
    _assert_fast_equals_slow(fast, slow, y_naive, rtol)


def test_depthwise_bias_and_mixed_dtypes():
    """The bias is added to the new output; a float64 upstream gradient with a float32 input
    gives float64 gradients, as np.dot would."""
    x, k, args = _depthwise_case(DEPTHWISE[1], "float32")
    bias = np.linspace(-1, 1, k.shape[-1]).astype("float32")
    y, res = C.conv_forward(x, k, *args, bias=bias)
    np.testing.assert_allclose(y, C.conv_forward(x, k, *args)[0] + bias, rtol=1e-6, atol=1e-6)
    dy = np.random.default_rng(3).standard_normal(y.shape)
    assert C.kernel_grad_from_columns(res, dy, k.shape, args[-1]).dtype == np.float64
    assert C.conv_transpose(dy, k, x.shape, *args).dtype == np.float64


@pytest.mark.parametrize(
    "channels, kernel_channels, groups, expected",
    [(4, 1, 4, True), (4, 2, 2, False), (1, 1, 1, False), (6, 1, 3, False)],
)
def test_the_depthwise_path_is_for_one_channel_per_group(channels, kernel_channels, groups,
                                                         expected):  # fmt: skip
    assert C.depthwise_ok(channels, kernel_channels, groups) is expected
