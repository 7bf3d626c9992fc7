"""reference.testing: finite differences with their own error bound, and the dot-product test."""

import numpy as np
import pytest

from reference import testing

R = np.random.default_rng(7)
A, B, X = R.standard_normal((3, 4)), R.standard_normal((4, 2)), R.standard_normal((2, 5))
BIG = R.normal(1000.0, 1.0, (6,))  # steps scale with |x|


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_vjp(x, dy):
    y = softmax(x)
    return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


def matmul_grads(a, b, dy):
    return [dy @ b.T, a.T @ dy]


# (id, fun, primals, grads(primals, dy) -> list, must pass). Wrong rows carry one classic bug.
VJP_ROWS = [
    ("tanh", np.tanh, [X], lambda x, dy: [dy * (1 - np.tanh(x) ** 2)], True),
    ("matmul", np.matmul, [A, B], lambda a, b, dy: matmul_grads(a, b, dy), True),
    ("softmax", softmax, [X], lambda x, dy: [softmax_vjp(x, dy)], True),
    ("large x", np.log, [BIG], lambda x, dy: [dy / x], True),
    (
        "two outputs",
        lambda x: (np.sin(x), x**2),
        [X],
        lambda x, dy: [dy[0] * np.cos(x) + dy[1] * 2 * x],
        True,
    ),  # fmt: skip
    ("unused primal", lambda a, b: a * 2, [A, B], lambda a, b, dy: [2 * dy, None], True),
    ("sign flipped", np.tanh, [X], lambda x, dy: [-dy * (1 - np.tanh(x) ** 2)], False),
    ("transposed", np.matmul, [A, B], lambda a, b, dy: [dy @ b.T, (dy.T @ a).T * 1.0001], False),
    ("softmax without the sum", softmax, [X], lambda x, dy: [softmax(x) * dy], False),
    (
        "off by 1e-6 relative",
        np.tanh,
        [X],
        lambda x, dy: [dy * (1 - np.tanh(x) ** 2) * (1 + 1e-6)],
        False,
    ),  # fmt: skip
]


def _dy(fun, primals, seed=3):
    out = fun(*primals)
    rng = np.random.default_rng(seed)
    if isinstance(out, tuple):
        return tuple(rng.standard_normal(np.shape(o)) for o in out)
    return rng.standard_normal(np.shape(out))


@pytest.mark.parametrize("fun, primals, grads, passes", [r[1:] for r in VJP_ROWS],
                         ids=[r[0] for r in VJP_ROWS])  # fmt: skip
def test_check_vjp_passes_right_gradients_and_fails_wrong_ones(fun, primals, grads, passes):
    dy = _dy(fun, primals)
    given = grads(*primals, dy)
    if passes:
        result = testing.check_vjp(fun, primals, given, dy)
        # The bound is the method's, and it is tight: far below any real bug.
        assert result.error <= result.tolerance < 1e-7 * max(1.0, abs(result.rhs))
    else:
        with pytest.raises(testing.VJPCheckError, match="differ by"):
            testing.check_vjp(fun, primals, given, dy)


@pytest.mark.parametrize("fun, primals, grads", [r[1:4] for r in VJP_ROWS if r[4]],
                         ids=[r[0] for r in VJP_ROWS if r[4]])  # fmt: skip
def test_numerical_vjp_is_within_its_error_bound_of_the_exact_gradient(fun, primals, grads):
    dy = _dy(fun, primals)
    exact = grads(*primals, dy)
    for fd, g, x in zip(testing.numerical_vjp(fun, primals, dy), exact, primals, strict=True):
        g = np.zeros(x.shape) if g is None else g
        assert np.all(np.abs(fd.value - g) <= fd.error)
        assert np.max(fd.error) < 1e-6 * max(1.0, np.max(np.abs(g)))


def test_check_grads_checks_the_tape_and_a_bad_rule_fails():
    assert testing.check_grads(np.tanh, X).error < 1e-8
    assert testing.check_grads(lambda a, b: np.tanh(a @ b), A, B).error < 1e-8
    with pytest.raises(testing.VJPCheckError):
        testing.check_vjp(np.sinh, [X], [np.sinh(X)], np.ones(X.shape))  # cosh is the derivative


def test_a_kink_inside_the_step_refuses_to_judge_instead_of_passing():
    x = np.array([1e-7, 0.5, -0.3])  # |x| has a kink within the step of the first element
    with pytest.raises(testing.FiniteDifferenceError, match="kink"):
        testing.check_vjp(np.abs, [x], [np.zeros(3)], np.ones(3))


def test_the_error_bound_grows_with_curvature_and_shrinks_with_it():
    x, v, dy = np.array([0.03]), np.array([1.0]), np.array([1.0])
    flat = testing.directional_derivative(lambda t: 2 * t, [x], [v], dy)
    curved = testing.directional_derivative(lambda t: np.exp(400 * t), [x], [v], dy)
    assert flat.value == pytest.approx(2.0, abs=flat.error) and flat.error < 1e-8
    assert curved.error / abs(curved.value) > 100 * flat.error / abs(flat.value)
    assert abs(curved.value - 400 * np.exp(12.0)) <= curved.error


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: testing.check_vjp(np.tanh, [X], [X, X], np.ones(X.shape)), "one gradient per"),
        (lambda: testing.check_vjp(np.tanh, [X], [A], np.ones(X.shape)), "has shape"),
        (lambda: testing.directional_derivative(np.tanh, [X], [A], X), "tangent shapes"),
        (lambda: testing.check_vjp(np.tanh, [X], [X], (X, X)), "cotangent dy has 2"),
    ],
    ids=["count", "shape", "tangent", "dy"],
)
def test_bad_arguments_say_what_was_received(call, match):
    with pytest.raises((ValueError, AssertionError), match=match):
        call()


def test_float32_primals_are_checked_in_float64():
    x32 = X.astype(np.float32)
    dy = np.ones(x32.shape)
    grads = [dy * (1 - np.tanh(x32.astype(np.float64)) ** 2)]
    assert testing.check_vjp(np.tanh, [x32], grads, dy).tolerance < 1e-7
