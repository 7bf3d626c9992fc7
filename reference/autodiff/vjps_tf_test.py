"""The VJP table against TensorFlow 2.21, for every function TF has: the same inputs, the same
random upstream gradient, tf.GradientTape against reference.GradientTape, in float64.

Decompositions are compared through sign-invariant outputs (w and v**2 for eigh, ...): TF and
LAPACK may pick opposite signs for an eigenvector, and both are right."""

import os

import numpy as np
import pytest
import scipy.special as sp

# TF's tightest numbers (docs/keras-facts.md#fact-8-1)
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
tf = pytest.importorskip("tensorflow")

from reference import GradientTape, nest  # noqa: E402

R = np.random.default_rng(7)


def normal(*shape):
    return R.standard_normal(shape)


def spd(n):
    m = normal(n, n)
    return m @ m.T + n * np.eye(n)


MOD_A, MOD_B = np.array([-3.3, -1.2, 0.7, 2.9, 5.6]), np.array([2.1, -1.7, 0.4, -2.2, 1.9])
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])
ZEROS = np.array([[1.5, 0.0, 2.0, -3.0], [0.5, 2.0, 0.0, 0.0]])


def sym(m):
    return np.matmul(m, np.swapaxes(m, -1, -2))


def tf_sym(m):
    return tf.matmul(m, m, transpose_b=True)


# (id, NumPy function, TF function, primals)
CASES = [
    ("arctan2", np.arctan2, tf.math.atan2, [normal(3, 4), normal(4)]),
    ("remainder", np.remainder, tf.math.floormod, [MOD_A, MOD_B]),
    (
        "logaddexp",
        np.logaddexp,
        lambda a, b: tf.math.reduce_logsumexp(tf.stack([a, b]), 0),
        [normal(4), normal(4)],
    ),  # fmt: skip
    ("erf", sp.erf, tf.math.erf, [normal(5)]),
    ("erfc", sp.erfc, tf.math.erfc, [normal(5)]),
    ("expit", sp.expit, tf.math.sigmoid, [normal(5)]),
    ("log_expit", sp.log_expit, tf.math.log_sigmoid, [normal(5)]),
    ("gammaln", sp.gammaln, tf.math.lgamma, [R.uniform(0.5, 4.0, 5)]),
    ("digamma", sp.digamma, tf.math.digamma, [R.uniform(0.5, 4.0, 5)]),
    (
        "zeta",
        lambda q: sp.zeta(3.0, q),
        lambda q: tf.math.zeta(tf.constant(3.0, q.dtype), q),
        [R.uniform(0.5, 4.0, 5)],
    ),  # fmt: skip
    ("erfinv", sp.erfinv, tf.math.erfinv, [R.uniform(-0.9, 0.9, 5)]),
    ("ndtri", sp.ndtri, tf.math.ndtri, [R.uniform(0.05, 0.95, 5)]),
    ("xlogy", sp.xlogy, tf.math.xlogy, [np.array([0.0, 1.5, -2.0]), np.array([0.5, 2.0, 3.0])]),
    (
        "xlog1py",
        sp.xlog1py,
        tf.math.xlog1py,
        [np.array([0.0, 1.5, -2.0]), np.array([0.5, 2.0, 3.0])],
    ),
    ("abs", np.abs, tf.abs, [np.array([-2.0, 0.0, 1.5])]),
    ("maximum ties", np.maximum, tf.maximum, [TIES, TIES[::-1] * 0 + 2.0]),
    ("max ties", lambda x: np.max(x, axis=1), lambda x: tf.reduce_max(x, axis=1), [TIES]),
    ("min ties all", np.min, tf.reduce_min, [TIES]),
    ("prod zeros", lambda x: np.prod(x, axis=1), lambda x: tf.reduce_prod(x, axis=1), [ZEROS]),
    ("prod", np.prod, tf.reduce_prod, [normal(2, 3)]),
    (
        "cumprod",
        lambda x: np.cumprod(x, axis=1),
        lambda x: tf.math.cumprod(x, axis=1),
        [normal(2, 4)],
    ),  # fmt: skip
    ("cumsum", lambda x: np.cumsum(x, axis=0), lambda x: tf.cumsum(x, axis=0), [normal(3, 2)]),
    (
        "repeat",
        lambda x: np.repeat(x, [1, 3], axis=0),
        lambda x: tf.repeat(x, [1, 3], axis=0),
        [normal(2, 3)],
    ),  # fmt: skip
    ("tile", lambda x: np.tile(x, (2, 3)), lambda x: tf.tile(x, (2, 3)), [normal(2, 3)]),
    (
        "pad constant",
        lambda x: np.pad(x, ((1, 2), (3, 0)), constant_values=2.0),
        lambda x: tf.pad(x, ((1, 2), (3, 0)), constant_values=2.0),
        [normal(3, 4)],
    ),  # fmt: skip
    (
        "pad reflect",
        lambda x: np.pad(x, ((1, 2), (3, 2)), mode="reflect"),
        lambda x: tf.pad(x, ((1, 2), (3, 2)), mode="REFLECT"),
        [normal(3, 4)],
    ),  # fmt: skip
    (
        "pad symmetric",
        lambda x: np.pad(x, ((3, 2), (1, 4)), mode="symmetric"),
        lambda x: tf.pad(x, ((3, 2), (1, 4)), mode="SYMMETRIC"),
        [normal(3, 4)],
    ),  # fmt: skip
    (
        "roll",
        lambda x: np.roll(x, (1, -2), axis=(0, 1)),
        lambda x: tf.roll(x, (1, -2), (0, 1)),
        [normal(3, 4)],
    ),  # fmt: skip
    ("flip", lambda x: np.flip(x, 1), lambda x: tf.reverse(x, [1]), [normal(3, 4)]),
    (
        "rot90",
        lambda x: np.rot90(x, 1, axes=(0, 1)),
        lambda x: tf.image.rot90(x, 1),
        [normal(3, 4, 2)],
    ),  # fmt: skip
    ("tril", lambda x: np.tril(x, 1), lambda x: tf.linalg.band_part(x, -1, 1), [normal(3, 4)]),
    ("triu", np.triu, lambda x: tf.linalg.band_part(x, 0, -1), [normal(2, 3, 3)]),
    ("trace", lambda x: np.trace(x, axis1=1, axis2=2), tf.linalg.trace, [normal(2, 3, 3)]),
    ("diag", np.diag, tf.linalg.diag, [normal(4)]),
    (
        "diagonal",
        lambda x: np.diagonal(x, axis1=-2, axis2=-1),
        tf.linalg.diag_part,
        [normal(2, 3, 4)],
    ),  # fmt: skip
    (
        "hstack",
        lambda a, b: np.hstack([a, b]),
        lambda a, b: tf.concat([a, b], 1),
        [normal(2, 3), normal(2, 2)],
    ),  # fmt: skip
    ("outer", np.outer, lambda a, b: tf.tensordot(a, b, axes=0), [normal(3), normal(4)]),
    ("cross", np.cross, tf.linalg.cross, [normal(4, 3), normal(4, 3)]),
    ("sort", lambda x: np.sort(x, axis=-1), tf.sort, [normal(3, 5)]),
    ("sort ties", lambda x: np.sort(x, axis=0), lambda x: tf.sort(x, axis=0), [TIES.T]),
    ("meshgrid", np.meshgrid, tf.meshgrid, [normal(3), normal(2)]),
    ("unstack", lambda x: np.unstack(x, axis=1), lambda x: tf.unstack(x, axis=1), [normal(2, 3)]),
    (
        "split",
        lambda x: np.split(x, [1, 3], axis=1),
        lambda x: tf.split(x, [1, 2, 1], axis=1),
        [normal(2, 4)],
    ),  # fmt: skip
    ("divmod", lambda a, b: divmod(a, b)[1], lambda a, b: tf.math.floormod(a, b), [MOD_A, MOD_B]),
    ("inner", np.inner, lambda a, b: tf.tensordot(a, b, [[1], [1]]), [normal(2, 3), normal(4, 3)]),
    (
        "var",
        lambda x: np.var(x, axis=0),
        lambda x: tf.math.reduce_variance(x, axis=0),
        [normal(4, 3)],
    ),  # fmt: skip
    ("std", np.std, tf.math.reduce_std, [normal(4, 3)]),
    ("hypot", np.hypot, lambda a, b: tf.sqrt(a * a + b * b), [normal(4), normal(4)]),
    ("sinh", np.sinh, tf.sinh, [normal(4)]),
    ("arccosh", np.arccosh, tf.math.acosh, [normal(4) ** 2 + 1.1]),
    (
        "take",
        lambda x: np.take(x, [2, 0, 2], axis=1),
        lambda x: tf.gather(x, [2, 0, 2], axis=1),
        [normal(2, 3)],
    ),  # fmt: skip
    (
        "take flat",
        lambda x: np.take(x, [4, 4, 1]),
        lambda x: tf.gather(tf.reshape(x, [-1]), [4, 4, 1]),
        [normal(2, 3)],
    ),  # fmt: skip
    (
        "select",
        lambda x: np.select([x > 0.5, x < -0.5], [x * 2, x**2], np.sin(x)),
        lambda x: tf.where(x > 0.5, x * 2, tf.where(x < -0.5, x**2, tf.sin(x))),
        [normal(3, 4)],
    ),  # fmt: skip
    (
        "linspace",
        lambda a, b: np.linspace(a, b, 5),
        lambda a, b: tf.linspace(a, b, 5),
        [normal(2), normal(2)],
    ),  # fmt: skip
    ("matmul vector-vector", np.matmul, lambda a, b: tf.tensordot(a, b, 1), [normal(4), normal(4)]),
    ("norm", np.linalg.norm, tf.norm, [normal(3, 4)]),
    (
        "norm inf",
        lambda x: np.linalg.norm(x, np.inf, axis=1),
        lambda x: tf.norm(x, np.inf, axis=1),
        [TIES],
    ),  # fmt: skip
    (
        "norm 1",
        lambda x: np.linalg.norm(x, 1, axis=0),
        lambda x: tf.norm(x, 1, axis=0),
        [normal(3, 4)],
    ),  # fmt: skip
    ("solve", np.linalg.solve, tf.linalg.solve, [normal(2, 3, 3), normal(2, 3, 2)]),
    ("inv", np.linalg.inv, tf.linalg.inv, [normal(3, 3)]),
    ("det", np.linalg.det, tf.linalg.det, [normal(2, 3, 3)]),
    (
        "slogdet",
        lambda a: np.linalg.slogdet(a)[1],
        lambda a: tf.linalg.slogdet(a)[1],
        [normal(3, 3)],
    ),  # fmt: skip
    # TF's CholeskyGrad is the symmetric convention, NumPy's rule the lower triangle (the one
    # cholesky reads): they agree through a symmetric parametrisation, A = M M^T + 3 I.
    (
        "cholesky",
        lambda m: np.linalg.cholesky(sym(m) + 3 * np.eye(3)),
        lambda m: tf.linalg.cholesky(tf_sym(m) + 3 * tf.eye(3, dtype=m.dtype)),
        [normal(3, 3)],
    ),  # fmt: skip
    (
        "eigh",
        lambda a: (lambda w, v: (w, v**2))(*np.linalg.eigh(a)),
        lambda a: (lambda w, v: (w, v**2))(*tf.linalg.eigh(a)),
        [normal(2, 4, 4)],
    ),  # fmt: skip
    (
        "svd",
        lambda a: (lambda u, s, vh: (s, u**2, vh**2))(*np.linalg.svd(a, full_matrices=False)),
        lambda a: (lambda s, u, v: (s, u**2, tf.transpose(v) ** 2))(*tf.linalg.svd(a)),
        [normal(5, 3)],
    ),  # fmt: skip
    (
        "svd values",
        lambda a: np.linalg.svd(a, compute_uv=False),
        lambda a: tf.linalg.svd(a, compute_uv=False),
        [normal(3, 5)],
    ),  # fmt: skip
    (
        "qr",
        lambda a: (lambda q, r: (q**2, r**2))(*np.linalg.qr(a)),
        lambda a: (lambda q, r: (q**2, r**2))(*tf.linalg.qr(a)),
        [normal(5, 3)],
    ),  # fmt: skip
    ("pinv", np.linalg.pinv, tf.linalg.pinv, [normal(4, 3)]),
]


def _tf_gradients(fun, primals, dys):
    xs = [tf.constant(x) for x in primals]
    with tf.GradientTape() as tape:
        tape.watch(xs)
        outs = nest.flatten(fun(*xs))
    grads = tape.gradient(outs, xs, output_gradients=[tf.constant(d) for d in dys])
    return [tf.convert_to_tensor(g).numpy() for g in grads]  # IndexedSlices (tf.gather) too


@pytest.mark.parametrize(
    "np_fun, tf_fun, primals", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_vjp_matches_tensorflow(np_fun, tf_fun, primals):
    outs = nest.flatten(np_fun(*primals))
    tf_outs = [np.asarray(o) for o in nest.flatten(tf_fun(*[tf.constant(x) for x in primals]))]
    for a, b in zip(outs, tf_outs, strict=True):  # the same function, first
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    dys = [np.cos(np.arange(np.size(o)) * 1.7 + 0.3).reshape(np.shape(o)) for o in outs]
    with GradientTape() as tape:
        watched = [tape.watch(x) for x in primals]
        taped = nest.flatten(np_fun(*watched))
    ours = tape.gradient(taped, watched, output_gradients=dys)
    for g, expected in zip(ours, _tf_gradients(tf_fun, primals, dys), strict=True):
        np.testing.assert_allclose(g, expected, rtol=1e-9, atol=1e-12)


def test_cumprod_at_zeros_is_exact_where_tensorflow_gives_zero():
    """TF's CumprodGrad divides by x (div_no_nan): 0 for every x_i = 0, which is wrong. The
    reference's rule is exact: d/dx_1 of [x0, x0 x1, x0 x1 x2] at x = [2, 0, 3] is [0, 2, 6]."""
    x = np.array([2.0, 0.0, 3.0])
    with GradientTape() as tape:
        tx = tape.watch(x)
        y = np.cumprod(tx)
    np.testing.assert_array_equal(tape.gradient(y, tx), [1.0 + 0.0 + 0.0, 2.0 + 6.0, 0.0])
    tx = tf.constant(x)
    with tf.GradientTape() as ttape:
        ttape.watch(tx)
        ty = tf.math.cumprod(tx)
    assert ttape.gradient(ty, tx).numpy()[1] == 0.0  # TF: 0, the math: 8


# TF's SqrtGrad and ReciprocalGrad return 0 where the upstream gradient is 0, even where the
# local derivative is infinite (cwise_ops_gradients.h), so np.where(x > 0, np.sqrt(x), 0) has a
# finite gradient at 0. The other rules keep 0 * inf = NaN, as TF's do (log, divide).
ZERO_DY_CASES = [
    ("sqrt", np.sqrt, tf.sqrt),
    ("reciprocal", np.reciprocal, tf.math.reciprocal),
    ("log", np.log, tf.math.log),
    ("divide", lambda x: 1.0 / x, lambda x: 1.0 / x),
]


@pytest.mark.parametrize("np_fun, tf_fun", [c[1:] for c in ZERO_DY_CASES],
                         ids=[c[0] for c in ZERO_DY_CASES])  # fmt: skip
def test_zero_upstream_gradient_at_a_singularity_matches_tensorflow(np_fun, tf_fun):
    x, dy = np.array([0.0, 4.0, 0.0]), np.array([0.0, 1.0, 2.0])
    with GradientTape() as tape, np.errstate(divide="ignore", invalid="ignore"):
        tx = tape.watch(x)
        ours = tape.gradient(np_fun(tx), tx, output_gradients=dy)
    np.testing.assert_array_equal(ours, _tf_gradients(tf_fun, [x], [dy])[0])


def _tf_second(fun, primals, dys, dxs):
    xs = [tf.constant(x) for x in primals]
    with tf.GradientTape() as outer:
        outer.watch(xs)
        with tf.GradientTape() as inner:
            inner.watch(xs)
            outs = nest.flatten(fun(*xs))
        gs = inner.gradient(outs, xs, output_gradients=[tf.constant(d) for d in dys])
        total = tf.add_n(
            [tf.reduce_sum(tf.convert_to_tensor(g) * d) for g, d in zip(gs, dxs, strict=True)]
        )
    return [
        None if g is None else tf.convert_to_tensor(g).numpy() for g in outer.gradient(total, xs)
    ]


def _ours_second(fun, primals, dys, dxs):
    with GradientTape() as outer:
        xs = [outer.watch(x) for x in primals]
        with GradientTape() as inner:
            ws = [inner.watch(x) for x in xs]
            outs = nest.flatten(fun(*ws))
        gs = inner.gradient(outs, ws, output_gradients=dys)
        total = sum(np.sum(g * d) for g, d in zip(gs, dxs, strict=True))
    return outer.gradient(total, xs)


# TF has no second derivative of these (LookupError or None), or a wrong one: the reference's
# are checked against finite differences in vjps_test.py.
NO_TF_SECOND_ORDER = {
    **dict.fromkeys(["take flat", "pinv", "svd", "qr", "remainder", "divmod", "cumprod"],
                    "TF has no second derivative here"),
    "prod zeros": "TF's is wrong at zeros: ProdGrad's cumprods differentiate through "
    "CumprodGrad, which gives 0 at every zero (see the cumprod test above)",
}  # fmt: skip


@pytest.mark.parametrize(
    "np_fun, tf_fun, primals", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_second_order_matches_tensorflow(request, np_fun, tf_fun, primals):
    if request.node.callspec.id in NO_TF_SECOND_ORDER:
        pytest.skip(NO_TF_SECOND_ORDER[request.node.callspec.id])
    outs = nest.flatten(np_fun(*primals))
    dys = [np.cos(np.arange(np.size(o)) * 1.7 + 0.3).reshape(np.shape(o)) for o in outs]
    dxs = [np.sin(np.arange(np.size(x)) * 0.9 + 0.2).reshape(np.shape(x)) for x in primals]
    theirs = _tf_second(tf_fun, primals, dys, dxs)
    ours = _ours_second(np_fun, primals, dys, dxs)
    for g, expected in zip(ours, theirs, strict=True):
        # No dependence: TF says None for a linear function, and zeros where the first gradient
        # went through sign (abs, norms); the tape says None for both (sign is not recorded).
        if expected is None or g is None:
            assert not np.any(expected if g is None else g), (g, expected)
        else:
            np.testing.assert_allclose(g, expected, rtol=1e-8, atol=1e-10)
