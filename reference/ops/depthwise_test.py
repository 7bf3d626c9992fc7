"""The depthwise tap loop (ops/conv_depthwise.py) against im2col and the loop definition.

Every case: forward, input gradient, kernel gradient (from the residual and from
conv_kernel_grad) equal the grouped im2col path (the same functions with the depthwise path
switched off) and `conv_naive`, in float64 and float32. NumPy only.
"""

import numpy as np
import pytest

from reference.ops import conv as C

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
]


def _case(case, dtype, seed=0):
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
    x, k, args = _case(case, dtype)
    y_naive = C.conv_naive(x.astype("float64"), k.astype("float64"), *args)
    dy = np.random.default_rng(1).standard_normal(y_naive.shape).astype(dtype)
    assert isinstance(C.conv_forward(x, k, *args)[1], C.Depthwise)
    fast = _all_four(x, k, dy, args)
    monkeypatch.setattr(C, "depthwise_ok", lambda *a: False)
    assert not isinstance(C.conv_forward(x, k, *args)[1], C.Depthwise)
    slow = _all_four(x, k, dy, args)
    scale = max(1.0, float(np.abs(y_naive).max()))
    np.testing.assert_allclose(fast[0], y_naive, rtol=rtol, atol=rtol * scale)
    for got, want in zip(fast, slow, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())


def test_depthwise_bias_and_mixed_dtypes():
    """The bias is added to the new output; a float64 upstream gradient with a float32 input
    gives float64 gradients, as np.dot would."""
    x, k, args = _case(DEPTHWISE[1], "float32")
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
