"""conv.py against its loop definition (conv_naive), its gradients against the adjoint identity
<conv(x, k), dy> = <x, conv_transpose(dy, k)> = <k, conv_kernel_grad(x, dy)>, and TF's padding
arithmetic against worked numbers. NumPy only."""

import numpy as np
import pytest

import reference
from reference.ops import conv as C

# (x shape (N, *S, C), kernel (*K, C/G, O), strides, dilation, padding, groups)
CASES = [
    ((2, 7, 3), (3, 3, 4), (1,), (1,), "valid", 1),
    ((1, 9, 2), (2, 2, 3), (3,), (1,), "same", 1),
    ((2, 6, 2), (3, 2, 2), (1,), (2,), "causal", 1),
    ((2, 5, 6, 3), (3, 3, 3, 2), (1, 1), (1, 1), "same", 1),
    ((1, 8, 8, 2), (2, 2, 2, 3), (2, 2), (1, 1), "same", 1),  # even kernel, stride 2
    ((2, 7, 5, 2), (1, 1, 2, 4), (3, 2), (1, 1), "valid", 1),  # 1x1, stride > kernel
    ((1, 9, 9, 4), (3, 3, 2, 6), (1, 1), (2, 2), "same", 2),  # dilation, groups
    ((2, 6, 5, 6), (2, 3, 2, 3), (2, 1), (1, 1), "valid", 3),
    ((1, 5, 4, 6, 2), (2, 3, 2, 2, 3), (1, 2, 2), (1, 1, 1), "same", 1),
    ((2, 4, 5, 4, 4), (3, 1, 2, 2, 4), (1, 1, 1), (1, 2, 1), "valid", 2),
]


def _setup(case, seed=0):
    xs, ks, strides, dilation, padding, groups = case
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    pads = C.conv_pads(xs[1:-1], ks[:-2], strides, dilation, padding)
    return x, k, (strides, pads, dilation, groups)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fast_forward_matches_the_loop_definition(case):
    x, k, args = _setup(case)
    np.testing.assert_allclose(
        C.conv(x, k, *args), C.conv_naive(x, k, *args), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradients_are_the_adjoints_of_the_forward(case):
    x, k, args = _setup(case, seed=1)
    dy = np.random.default_rng(2).standard_normal(C.conv(x, k, *args).shape)
    lhs = np.vdot(C.conv_naive(x, k, *args), dy)
    dx = C.conv_transpose(dy, k, x.shape, *args)
    dk = C.conv_kernel_grad(x, dy, k.shape, *args)
    assert dx.shape == x.shape and dk.shape == k.shape
    np.testing.assert_allclose(np.vdot(x, dx), lhs, rtol=1e-12)
    np.testing.assert_allclose(np.vdot(k, dk), lhs, rtol=1e-12)
    # And elementwise: perturbing one input entry moves <y, dy> by dx at that entry.
    e = np.zeros_like(x)
    idx = tuple(s // 2 for s in x.shape)
    e[idx] = 1.0
    np.testing.assert_allclose(
        np.vdot(C.conv_naive(e, k, *args), dy), dx[idx], rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize(
    "n, k, s, d, padding, pads",
    [
        (8, 3, 2, 1, "same", (0, 1)),  # out 4: (4-1)*2 + 3 - 8 = 1, the odd one bottom/right
        (7, 3, 2, 1, "same", (1, 1)),
        (8, 2, 2, 1, "same", (0, 0)),
        (5, 4, 1, 1, "same", (1, 2)),
        (5, 3, 1, 2, "same", (2, 2)),
        (6, 3, 1, 2, "causal", (4, 0)),
        (6, 3, 1, 1, "valid", (0, 0)),
        (3, 1, 4, 1, "same", (0, 0)),
    ],
)
def test_tf_padding_arithmetic(n, k, s, d, padding, pads):
    assert C.conv_pads((n,), (k,), (s,), (d,), padding) == (pads,)


def test_second_order_gradient_through_the_primitives():
    """d/dx <dx(x), v> where dx = grad_x <conv(x, k), dy>: linear maps, closed under VJP."""
    x, k, args = _setup(CASES[3], seed=3)
    dy = np.random.default_rng(4).standard_normal(C.conv(x, k, *args).shape)
    with reference.GradientTape() as outer:
        tk = outer.watch(k)
        with reference.GradientTape() as inner:
            tx = inner.watch(x)
            y = C.conv(tx, tk, *args)
        dx = inner.gradient(y, tx, output_gradients=dy)
        s = np.sum(dx * x)
    # <dx, x> = <conv(x, k), dy>, so its kernel gradient is conv_kernel_grad(x, dy).
    got = outer.gradient(s, tk)
    np.testing.assert_allclose(got, C.conv_kernel_grad(x, dy, k.shape, *args), rtol=1e-12)
