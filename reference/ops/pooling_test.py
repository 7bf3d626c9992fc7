"""pooling.py against its loop definition, TF's max-pool tie rule on tied inputs (the numbers
are TF's, keras-notes section 7), and the adjoint identities of the gradients. NumPy only."""

import numpy as np
import pytest

import reference
from reference.ops import pooling as P
from reference.ops.conv import conv_pads

# (x shape, pool size, strides, padding)
CASES = [
    ((2, 7, 3), (2,), (2,), "valid"),
    ((1, 7, 2), (3,), (2,), "same"),
    ((2, 5, 6, 2), (2, 2), (2, 2), "same"),
    ((1, 7, 7, 3), (3, 3), (2, 2), "same"),
    ((2, 6, 5, 1), (2, 3), (1, 2), "valid"),
    ((1, 5, 5, 2), (2, 2), (3, 3), "same"),  # stride > pool
    ((1, 4, 5, 3, 2), (2, 2, 2), (2, 2, 2), "same"),
    ((2, 4, 4, 4, 1), (3, 2, 1), (1, 2, 1), "valid"),
]


def _args(case):
    shape, k, s, padding = case
    return k, s, conv_pads(shape[1:-1], k, s, (1,) * len(k), padding)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_matches_the_loop_definition(case, kind):
    x = np.random.default_rng(0).standard_normal(case[0])
    fast = (P.max_pool if kind == "max" else P.avg_pool)(x, *_args(case))
    np.testing.assert_allclose(fast, P.pool_naive(x, *_args(case), kind), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradients_are_adjoints(case):
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(case[0]), rng.standard_normal(case[0])
    dy = rng.standard_normal(P.max_pool(x, *_args(case)).shape)
    # avg_pool is linear: <avg_pool(v), dy> = <v, avg_pool_grad(dy)>.
    lhs = np.vdot(P.pool_naive(v, *_args(case), "avg"), dy)
    np.testing.assert_allclose(np.vdot(v, P.avg_pool_grad(dy, x.shape, *_args(case))), lhs)
    # max_pool_grad routes; max_pool_select reads back along the same routes.
    dx = P.max_pool_grad(x, dy, *_args(case))
    np.testing.assert_allclose(np.vdot(dx, v), np.vdot(dy, P.max_pool_select(x, v, *_args(case))))
    np.testing.assert_allclose(P.max_pool_select(x, x, *_args(case)), P.max_pool(x, *_args(case)))


TIES = [
    # (x as (rows, cols) or (steps,), pool, strides, padding, TF's dx for dy = 1)
    (np.ones((2, 2)), (2, 2), (2, 2), "valid", [[1, 0], [0, 0]]),
    (np.zeros((2, 2)), (2, 2), (2, 2), "valid", [[1, 0], [0, 0]]),
    (np.array([[0.0, 1], [1, 0]]), (2, 2), (2, 2), "valid", [[0, 1], [0, 0]]),
    (np.array([3.0, 3, 3]), (2,), (1,), "valid", [1, 1, 0]),
    (np.array([1.0, 2, 2, 1]), (3,), (1,), "valid", [0, 2, 0, 0]),
    (np.array([5.0, 5, 5, 5, 5]), (2,), (2,), "same", [1, 0, 1, 0, 1]),
]


@pytest.mark.parametrize("x, k, s, padding, expected", TIES, ids=lambda v: str(v)[:30])
def test_max_pool_ties_follow_tf(x, k, s, padding, expected):
    x = x[None, ..., None]
    pads = conv_pads(x.shape[1:-1], k, s, (1,) * len(k), padding)
    dy = np.ones(P.max_pool(x, k, s, pads).shape)
    np.testing.assert_array_equal(P.max_pool_grad(x, dy, k, s, pads)[0, ..., 0], expected)


def test_same_average_divides_by_the_real_elements():
    x = np.ones((1, 5, 1))  # every window mean is 1, however many pads it covers
    pads = conv_pads((5,), (4,), (2,), (1,), "same")
    np.testing.assert_array_equal(P.avg_pool(x, (4,), (2,), pads), np.ones((1, 3, 1)))


def test_second_order_through_avg_pool():
    case = CASES[3]
    x = np.random.default_rng(3).standard_normal(case[0])
    dy = np.random.default_rng(4).standard_normal(P.avg_pool(x, *_args(case)).shape)
    with reference.GradientTape() as outer:
        tdy = outer.watch(dy)
        with reference.GradientTape() as inner:
            tx = inner.watch(x)
            y = P.avg_pool(tx, *_args(case))
        dx = inner.gradient(y, tx, output_gradients=tdy)
        s = np.sum(dx * x)
    np.testing.assert_allclose(outer.gradient(s, tdy), P.avg_pool(x, *_args(case)), rtol=1e-12)


def test_3d_ties_give_every_maximum_the_gradient_as_tf_maxpool3dgrad():
    x = np.full((1, 1, 1, 3, 1), 3.0)  # TF: MaxPool3D(pool (1, 1, 2), stride 1) -> [1, 2, 1]
    k, s, pads = (1, 1, 2), (1, 1, 1), ((0, 0),) * 3
    dy = np.ones((1, 1, 1, 2, 1))
    np.testing.assert_array_equal(P.max_pool_grad(x, dy, k, s, pads, "all").ravel(), [1, 2, 1])
    v = np.random.default_rng(5).standard_normal(x.shape)
    lhs = np.vdot(P.max_pool_grad(x, dy, k, s, pads, "all"), v)
    np.testing.assert_allclose(lhs, np.vdot(dy, P.max_pool_select(x, v, k, s, pads, "all")))
