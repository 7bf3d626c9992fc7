"""Every VJP rule against central finite differences in float64 (autograd's check_vjp)."""

import numpy as np
import pytest
import scipy.special as sp

from reference.autodiff import tracked as tape_module
from reference.autodiff import vjp


def check_vjp(fun, *primals, seed=0, eps=1e-6, rtol=1e-6):
    """<dy, J v> (central differences) must equal <J^T dy, v> (the VJP) for random dy, v."""
    rng = np.random.default_rng(seed)
    out, vjp_fn = vjp(fun, *primals)
    dy = rng.standard_normal(np.shape(out))
    grads = vjp_fn(dy)
    for i, (x, gx) in enumerate(zip(primals, grads, strict=True)):
        assert gx.shape == np.shape(x), f"gradient {i} has shape {gx.shape}, input {np.shape(x)}"
        v = rng.standard_normal(np.shape(x))

        def at(t, i=i, v=v):
            args = list(primals)
            args[i] = primals[i] + t * v
            return np.asarray(fun(*args))

        jv = (at(eps) - at(-eps)) / (2 * eps)
        lhs, rhs = float(np.sum(dy * jv)), float(np.sum(gx * v))
        assert abs(lhs - rhs) <= rtol * max(1.0, abs(lhs)), (i, lhs, rhs)


R = np.random.default_rng(42)


def normal(*shape):
    return R.standard_normal(shape)


def positive(*shape):
    return R.uniform(0.5, 2.0, shape)


def unit(*shape):
    return R.uniform(-0.9, 0.9, shape)


W213, W342 = normal(2, 1, 3), normal(3, 4, 2)  # fixed weights that make outputs asymmetric

# (id, function of the primals, primals). Broadcasting shapes are deliberate.
CASES = [
    ("add", np.add, [normal(3, 4), normal(4)]),
    ("subtract", np.subtract, [normal(3, 1), normal(1, 4)]),
    ("multiply", np.multiply, [normal(2, 3, 4), normal(3, 1)]),
    ("divide", np.divide, [normal(3, 4), positive(4)]),
    ("negative", np.negative, [normal(3)]),
    ("positive", np.positive, [normal(3)]),
    ("power", np.power, [positive(3, 4), normal(4)]),
    ("float_power", np.float_power, [positive(3), normal(3)]),
    ("square", np.square, [normal(5)]),
    ("sqrt", np.sqrt, [positive(5)]),
    ("cbrt", np.cbrt, [positive(5)]),
    ("reciprocal", np.reciprocal, [positive(5)]),
    ("exp", np.exp, [normal(5)]),
    ("exp2", np.exp2, [normal(5)]),
    ("expm1", np.expm1, [normal(5)]),
    ("log", np.log, [positive(5)]),
    ("log2", np.log2, [positive(5)]),
    ("log10", np.log10, [positive(5)]),
    ("log1p", np.log1p, [positive(5)]),
    ("sin", np.sin, [normal(5)]),
    ("cos", np.cos, [normal(5)]),
    ("tan", np.tan, [unit(5)]),
    ("arcsin", np.arcsin, [unit(5)]),
    ("arccos", np.arccos, [unit(5)]),
    ("arctan", np.arctan, [normal(5)]),
    ("sinh", np.sinh, [normal(5)]),
    ("cosh", np.cosh, [normal(5)]),
    ("tanh", np.tanh, [normal(5)]),
    ("arcsinh", np.arcsinh, [normal(5)]),
    ("arctanh", np.arctanh, [unit(5)]),
    ("absolute", np.abs, [normal(5)]),
    ("maximum", np.maximum, [normal(3, 4), normal(4)]),
    ("minimum", np.minimum, [normal(3, 4), normal(3, 1)]),
    ("logaddexp", np.logaddexp, [normal(4), normal(3, 4)]),
    ("erf", sp.erf, [normal(5)]),
    ("erfc", sp.erfc, [normal(5)]),
    ("expit", sp.expit, [normal(5)]),
    ("log_expit", sp.log_expit, [normal(5)]),
    ("matmul 2x2", np.matmul, [normal(3, 4), normal(4, 5)]),
    ("matmul batched broadcast", np.matmul, [normal(2, 3, 4), normal(4, 5)]),
    ("matmul vector-matrix", np.matmul, [normal(4), normal(2, 4, 5)]),
    ("matmul matrix-vector", np.matmul, [normal(3, 4), normal(4)]),
    ("matmul operator", lambda a, b: a @ b, [normal(3, 4), normal(4, 2)]),
    ("sum all", np.sum, [normal(3, 4)]),
    ("sum axis", lambda x: np.sum(x, axis=(0, 2)), [normal(2, 3, 4)]),
    ("sum keepdims", lambda x: np.sum(x, axis=1, keepdims=True), [normal(2, 3)]),
    ("mean axis", lambda x: np.mean(x, axis=-1), [normal(2, 3)]),
    ("mean all keepdims", lambda x: np.mean(x, keepdims=True), [normal(2, 3)]),
    ("max axis", lambda x: np.max(x, axis=0), [normal(4, 3)]),
    ("amax", lambda x: np.amax(x, axis=1, keepdims=True), [normal(4, 3)]),
    ("min", np.min, [normal(4, 3)]),
    ("amin", lambda x: np.amin(x, axis=0), [normal(4, 3)]),
    ("cumsum axis", lambda x: np.cumsum(x, axis=1), [normal(3, 4)]),
    ("cumsum flat", np.cumsum, [normal(3, 4)]),
    ("var", lambda x: np.var(x, axis=0, ddof=1), [normal(5, 3)]),
    ("std", lambda x: np.std(x, axis=1, keepdims=True), [normal(5, 3)]),
    ("reshape", lambda x: np.reshape(x, (6, 2)) * np.arange(12.0).reshape(6, 2), [normal(3, 4)]),
    ("ravel", lambda x: np.ravel(x) * np.arange(12.0), [normal(3, 4)]),
    ("squeeze", lambda x: np.squeeze(x) ** 2, [normal(3, 1)]),
    ("expand_dims", lambda x: np.expand_dims(x, 0) * W213, [normal(1, 3)]),
    ("atleast_1d", lambda x: np.atleast_1d(x) * 3.0, [np.array(1.5)]),
    ("atleast_2d", lambda x: np.atleast_2d(x) ** 2, [normal(3)]),
    ("copy", lambda x: np.copy(x) ** 2, [normal(3)]),
    ("broadcast_to", lambda x: np.broadcast_to(x, (2, 3, 4)) ** 2, [normal(3, 1)]),
    (
        "transpose",
        lambda x: np.transpose(x, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3),
        [normal(2, 3, 4)],
    ),  # fmt: skip
    ("transpose default", lambda x: x.T**2, [normal(2, 3)]),
    ("swapaxes", lambda x: np.swapaxes(x, 0, 2) ** 3, [normal(2, 3, 4)]),
    ("moveaxis", lambda x: np.moveaxis(x, 0, -1) * W342, [normal(2, 3, 4)]),
    ("flip", lambda x: np.flip(x, 1) * np.arange(4.0), [normal(3, 4)]),
    ("where", lambda x, y: np.where(x > 0, x, y), [normal(3, 4), normal(4)]),
    ("clip x", lambda x: np.clip(x, -0.5, 0.7), [normal(20)]),
    (
        "clip bounds",
        lambda x, lo, hi: np.clip(x, lo, hi),
        [normal(20), -positive(20), positive(20)],
    ),
    ("concatenate", lambda a, b: np.concatenate([a, b], axis=1) ** 2, [normal(2, 3), normal(2, 2)]),
    (
        "concatenate flat",
        lambda a, b: np.concatenate((a, b), axis=None) ** 2,
        [normal(2, 3), normal(4)],
    ),  # fmt: skip
    ("stack", lambda a, b: np.stack([a, b], axis=-1) ** 2, [normal(2, 3), normal(2, 3)]),
    ("sort", lambda x: np.sort(x, axis=0) * np.arange(4.0)[:, None], [normal(4, 3)]),
    (
        "take_along_axis",
        lambda x: np.take_along_axis(x, np.array([[0, 0], [2, 1]]), axis=1) ** 2,
        [normal(2, 3)],
    ),  # fmt: skip
    ("take", lambda x: np.take(x, [0, 2, 2], axis=1) ** 2, [normal(2, 3)]),
    ("take flat", lambda x: np.take(x, [5, 0, 5]) ** 2, [normal(2, 3)]),
    ("getitem basic", lambda x: x[1:, ::2] ** 2, [normal(3, 4)]),
    ("getitem int", lambda x: x[1] ** 2, [normal(3, 4)]),
    ("getitem fancy repeat", lambda x: x[[0, 0, 2]] ** 2, [normal(3, 4)]),
    ("getitem bool", lambda x: x[np.array([True, False, True])] ** 2, [normal(3, 4)]),
    ("astype", lambda x: x.astype(np.float64) ** 2, [normal(3)]),
    ("einsum matmul", lambda a, b: np.einsum("ij,jk->ik", a, b), [normal(3, 4), normal(4, 5)]),
    ("einsum implicit", lambda a, b: np.einsum("ij,jk", a, b), [normal(3, 4), normal(4, 2)]),
    (
        "einsum ellipsis",
        lambda a, b: np.einsum("...ij,jk->...ik", a, b),
        [normal(2, 3, 4), normal(4, 5)],
    ),  # fmt: skip
    ("einsum sum-only index", lambda a, b: np.einsum("ij,k->i", a, b), [normal(3, 4), normal(2)]),
    ("einsum outer", lambda a, b: np.einsum("i,j->ij", a, b), [normal(3), normal(4)]),
    (
        "tensordot",
        lambda a, b: np.tensordot(a, b, axes=([1, 2], [0, 1])),
        [normal(2, 3, 4), normal(3, 4, 5)],
    ),  # fmt: skip
    ("tensordot int", lambda a, b: np.tensordot(a, b, axes=1), [normal(2, 3), normal(3, 4)]),
    ("dot 2d", np.dot, [normal(2, 3), normal(3, 4)]),
    ("dot nd", np.dot, [normal(2, 2, 3), normal(4, 3, 2)]),
    ("dot vector", np.dot, [normal(3), normal(3)]),
    ("split", lambda x: np.split(x, 2, axis=1)[1] * np.split(x, 2, axis=1)[0], [normal(3, 4)]),
    ("split indices", lambda x: np.split(x, [1, 3])[2] ** 2, [normal(5)]),
]


@pytest.mark.parametrize("fun, primals", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_vjp_matches_finite_differences(fun, primals):
    check_vjp(fun, *primals)


def test_every_rule_and_composite_has_a_finite_difference_case():
    """No rule in the table escapes the finite-difference check above."""
    names = {c[0].split()[0] for c in CASES}
    registered = set(tape_module.VJP_RULES) | set(tape_module.COMPOSITES)
    aliases = {"_getitem": "getitem", "_astype": "astype", "true_divide": "divide"}
    missing = [f.__name__ for f in registered if aliases.get(f.__name__, f.__name__) not in names]
    assert not missing, f"rules without a finite-difference case: {sorted(missing)}"


# TF's conventions where the derivative does not exist (keras-notes section 7).
KINKS = [
    ("abs at 0", np.abs, [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
    ("maximum tie to first", lambda x: np.maximum(x, 1.0), [0.0, 1.0, 2.0], [0.0, 1.0, 1.0]),
    ("minimum tie to first", lambda x: np.minimum(x, 1.0), [0.0, 1.0, 2.0], [1.0, 1.0, 0.0]),
    ("clip inclusive", lambda x: np.clip(x, -1.0, 3.0), [-3, -1, 0, 1, 3, 6], [0, 1, 1, 1, 1, 0]),
    ("max splits ties", np.max, [0.0, 3.0, 3.0, 1.0], [0.0, 0.5, 0.5, 0.0]),
    (
        "where routes by condition",
        lambda x: np.where(x > 0, x, 0.0),
        [-1.0, 0.0, 2.0],
        [0.0, 0.0, 1.0],
    ),  # fmt: skip
    ("sqrt at 0 is inf", np.sqrt, [0.0, 4.0], [np.inf, 0.25]),
]


@pytest.mark.parametrize("fun, x, expected", [k[1:] for k in KINKS], ids=[k[0] for k in KINKS])
def test_gradients_at_kinks_follow_tensorflow(fun, x, expected):
    _, vjp_fn = vjp(fun, np.asarray(x, dtype=float))
    with np.errstate(divide="ignore"):  # sqrt'(0) is inf, as in TF
        (g,) = vjp_fn(np.ones_like(np.asarray(fun(np.asarray(x, dtype=float)))))
    np.testing.assert_array_equal(g, np.asarray(expected, dtype=float))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_gradient_keeps_the_input_dtype(dtype):
    x = np.linspace(-1, 1, 6, dtype=dtype).reshape(2, 3)
    _, vjp_fn = vjp(lambda t: np.tanh(t) * 2.0 + np.sum(t**2), x)
    (g,) = vjp_fn(np.ones((2, 3), dtype=dtype))
    assert g.dtype == dtype
