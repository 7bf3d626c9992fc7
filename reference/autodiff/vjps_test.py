"""Every VJP rule and composite against central finite differences in float64 (autograd's
check_vjp, via reference.testing), to first and second order, plus the conventions at kinks and
the errors of what has no gradient. NumPy only; the TensorFlow comparison is vjps_tf_test.py."""

import numpy as np
import pytest
import scipy.special as sp

from reference import GradientTape, nest
from reference.autodiff import MissingVJPError, rule_for, vjp
from reference.autodiff import tracked as tape_module
from reference.autodiff.vjps import full_name
from reference.testing import check_grads

R = np.random.default_rng(42)


def normal(*shape):
    return R.standard_normal(shape)


def positive(*shape):
    return R.uniform(0.5, 2.0, shape)


def unit(*shape):
    return R.uniform(-0.9, 0.9, shape)


def spd(n):
    m = normal(n, n)
    return m @ m.T + n * np.eye(n)


W213, W342 = normal(2, 1, 3), normal(3, 4, 2)  # fixed weights that make outputs asymmetric
ZEROS = np.array([[1.5, 0.0, 2.0, -3.0], [0.5, 2.0, 0.0, 0.0]])  # products through zeros
NANS = np.array([1.0, np.nan, -2.0, 0.5])
MOD_A, MOD_B = np.array([-3.3, -1.2, 0.7, 2.9, 5.6]), np.array([2.1, -1.7, 0.4, -2.2, 1.9])
TRI = {"upper": True}
REAL_EIG = np.array([[2.0, 0.3, -0.5], [0.1, -1.0, 0.4], [0.7, 0.2, 0.5]])  # real eigenvalues
ROTATE = np.array([[1.0, -1.0], [1.0, 1.0]])  # makes the ERRORS matrix's eigenvalues complex
NAN_AT = np.array([[False, True], [False, False]])

# (id, function of the primals, primals). The id's first word names the NumPy function (the
# coverage test below relies on it). Broadcasting shapes are deliberate. Functions that return
# a tuple are checked through every output (namedtuples are returned as plain tuples).
ELEMENTWISE = [
    ("add", np.add, [normal(3, 4), normal(4)]),
    ("subtract", np.subtract, [normal(3, 1), normal(1, 4)]),
    ("multiply", np.multiply, [normal(2, 3, 4), normal(3, 1)]),
    ("divide", np.divide, [normal(3, 4), positive(4)]),
    ("negative", np.negative, [normal(3)]),
    ("sign (zero, connected: TF's SignGrad)", lambda x: np.sign(x) * x, [normal(3)]),
    ("positive", np.positive, [normal(3)]),
    ("power", np.power, [positive(3, 4), normal(4)]),
    ("float_power", np.float_power, [positive(3), normal(3)]),
    ("square", np.square, [normal(5)]),
    ("sqrt", np.sqrt, [positive(5)]),
    ("cbrt", np.cbrt, [positive(5)]),
    ("reciprocal", np.reciprocal, [positive(5)]),
    ("remainder", np.remainder, [MOD_A, MOD_B]),
    ("remainder as mod", lambda a, b: np.mod(a, b), [MOD_A, MOD_B]),
    ("fmod", np.fmod, [MOD_A, MOD_B]),
    ("divmod", lambda a, b: divmod(a, b)[1], [MOD_A, MOD_B]),
    ("ldexp", lambda x: np.ldexp(x, np.array([1, -2, 3])), [normal(3)]),
    ("exp", np.exp, [normal(5)]),
    ("exp2", np.exp2, [normal(5)]),
    ("expm1", np.expm1, [normal(5)]),
    ("log", np.log, [positive(5)]),
    ("log2", np.log2, [positive(5)]),
    ("log10", np.log10, [positive(5)]),
    ("log1p", np.log1p, [positive(5)]),
    ("logaddexp", np.logaddexp, [normal(4), normal(3, 4)]),
    ("logaddexp2", np.logaddexp2, [normal(4), normal(3, 4)]),
    ("sin", np.sin, [normal(5)]),
    ("cos", np.cos, [normal(5)]),
    ("tan", np.tan, [unit(5)]),
    ("arcsin", np.arcsin, [unit(5)]),
    ("arccos", np.arccos, [unit(5)]),
    ("arctan", np.arctan, [normal(5)]),
    ("arctan2", np.arctan2, [normal(3, 4), normal(4)]),
    ("hypot", np.hypot, [normal(3, 4), normal(3, 1)]),
    ("sinh", np.sinh, [normal(5)]),
    ("cosh", np.cosh, [normal(5)]),
    ("tanh", np.tanh, [normal(5)]),
    ("arcsinh", np.arcsinh, [normal(5)]),
    ("arccosh", np.arccosh, [positive(5) + 1.0]),
    ("arctanh", np.arctanh, [unit(5)]),
    ("sinc", np.sinc, [np.array([-1.3, -0.2, 0.0, 0.004, 0.4, 2.6])]),
    ("deg2rad", np.deg2rad, [normal(3)]),
    ("radians", np.radians, [normal(3)]),
    ("rad2deg", np.rad2deg, [normal(3)]),
    ("degrees", np.degrees, [normal(3)]),
    ("absolute", np.abs, [normal(5)]),
    ("fabs", np.fabs, [normal(5)]),
    ("copysign", np.copysign, [normal(6), normal(6)]),
    ("maximum", np.maximum, [normal(3, 4), normal(4)]),
    ("minimum", np.minimum, [normal(3, 4), normal(3, 1)]),
    ("fmax", np.fmax, [normal(4), NANS]),
    ("fmin", np.fmin, [NANS, normal(3, 4)]),
    ("nan_to_num", lambda x: np.nan_to_num(np.where(NAN_AT[0], np.nan, x) * 2.0), [normal(2)]),
    ("modf", lambda x: tuple(np.modf(x)), [np.array([-2.7, -0.4, 0.3, 1.6])]),
    ("frexp", lambda x: np.frexp(x)[0], [np.array([-2.7, -0.4, 0.3, 1.6, 40.0])]),
    ("erf", sp.erf, [normal(5)]),
    ("erfc", sp.erfc, [normal(5)]),
    ("expit", sp.expit, [normal(5)]),
    ("log_expit", sp.log_expit, [normal(5)]),
    ("gammaln", sp.gammaln, [positive(5) * 3]),
    ("digamma", sp.digamma, [positive(5) * 3]),
    ("zeta", lambda q: sp.zeta(3.0, q), [positive(5)]),
    ("gamma", sp.gamma, [positive(5) * 2]),
    ("erfinv", sp.erfinv, [unit(5)]),
    ("erfcinv", sp.erfcinv, [unit(5) + 1.0]),
    ("erfcx", sp.erfcx, [normal(5)]),
    ("ndtr", sp.ndtr, [normal(5)]),
    ("ndtri", sp.ndtri, [R.uniform(0.05, 0.95, 5)]),
    ("log_ndtr", sp.log_ndtr, [normal(5) * 3]),
    ("logit", sp.logit, [R.uniform(0.05, 0.95, 5)]),
    ("entr", sp.entr, [positive(5)]),
    ("xlogy", sp.xlogy, [normal(5), positive(5)]),
    ("xlog1py", sp.xlog1py, [normal(5), positive(5)]),
    ("conjugate", lambda x: np.conj(x) * W213[0, 0], [normal(3)]),
    ("real", lambda x: np.real(x) ** 2, [normal(3)]),
    ("imag", lambda x: np.imag(x) + x, [normal(3)]),
]

REDUCTIONS = [
    ("sum all", np.sum, [normal(3, 4)]),
    ("sum axis", lambda x: np.sum(x, axis=(0, 2)), [normal(2, 3, 4)]),
    ("sum keepdims", lambda x: np.sum(x, axis=1, keepdims=True), [normal(2, 3)]),
    ("sum where", lambda x: np.sum(x, axis=1, where=np.array([1, 0, 1], bool)), [normal(2, 3)]),
    ("mean axis", lambda x: np.mean(x, axis=-1), [normal(2, 3)]),
    ("mean all keepdims", lambda x: np.mean(x, keepdims=True), [normal(2, 3)]),
    ("mean where", lambda x: np.mean(x, axis=0, where=x.T.T > -9), [normal(4, 3)]),
    ("max axis", lambda x: np.max(x, axis=0), [normal(4, 3)]),
    ("amax", lambda x: np.amax(x, axis=1, keepdims=True), [normal(4, 3)]),
    ("min", np.min, [normal(4, 3)]),
    ("amin", lambda x: np.amin(x, axis=0), [normal(4, 3)]),
    (
        "max where initial",
        lambda x: np.max(x, axis=0, where=np.tri(4, 3, dtype=bool), initial=-5.0),
        [normal(4, 3)],
    ),  # fmt: skip
    ("min initial", lambda x: np.min(x, axis=1, initial=0.1), [normal(4, 3)]),
    ("prod", np.prod, [normal(2, 3)]),
    ("prod zeros", lambda x: np.prod(x, axis=1), [ZEROS]),
    ("prod axes keepdims", lambda x: np.prod(x, axis=(0, 2), keepdims=True), [normal(2, 3, 2)]),
    (
        "prod where initial",
        lambda x: np.prod(x, axis=0, where=np.tri(2, 4, 1, dtype=bool), initial=1.5),
        [ZEROS],
    ),  # fmt: skip
    ("cumsum axis", lambda x: np.cumsum(x, axis=1), [normal(3, 4)]),
    ("cumsum flat", np.cumsum, [normal(3, 4)]),
    ("cumprod axis", lambda x: np.cumprod(x, axis=1), [ZEROS]),
    ("cumprod flat", np.cumprod, [normal(2, 3)]),
    ("var", lambda x: np.var(x, axis=0, ddof=1), [normal(5, 3)]),
    ("std", lambda x: np.std(x, axis=1, keepdims=True), [normal(5, 3)]),
    ("median", lambda x: np.median(x, axis=1), [normal(3, 4)]),
    ("median odd all", np.median, [normal(3, 3)]),
    (
        "average",
        lambda a: np.average(a, axis=1, weights=np.arange(1.0, 5.0), returned=True),
        [normal(3, 4)],
    ),  # fmt: skip
    ("average all", np.average, [normal(3, 4)]),
    ("ptp", lambda a: np.ptp(a, axis=0), [normal(3, 4)]),
    ("nansum", lambda a: np.nansum(np.where(NAN_AT, np.nan, a), axis=0), [normal(2, 2)]),
    ("nanmean", lambda a: np.nanmean(np.where(NAN_AT, np.nan, a)), [normal(2, 2)]),
    ("nanmax", lambda a: np.nanmax(np.where(NAN_AT, np.nan, a), axis=1), [normal(2, 2)]),
    ("nanmin", lambda a: np.nanmin(np.where(NAN_AT, np.nan, a), axis=1), [normal(2, 2)]),
]

SHAPE = [
    ("reshape", lambda x: np.reshape(x, (6, 2)) * np.arange(12.0).reshape(6, 2), [normal(3, 4)]),
    ("reshape order F", lambda x: np.reshape(x, (2, 6), order="F") * W213[0, 0, 0], [normal(3, 4)]),
    ("ravel", lambda x: np.ravel(x) * np.arange(12.0), [normal(3, 4)]),
    ("ravel order F", lambda x: np.ravel(x, order="F") * np.arange(12.0), [normal(3, 4)]),
    ("squeeze", lambda x: np.squeeze(x) ** 2, [normal(3, 1)]),
    ("expand_dims", lambda x: np.expand_dims(x, 0) * W213, [normal(1, 3)]),
    ("atleast_1d", lambda x: np.atleast_1d(x) * 3.0, [np.array(1.5)]),
    ("atleast_2d", lambda x: np.atleast_2d(x) ** 2, [normal(3)]),
    ("atleast_3d", lambda x, y: np.atleast_3d(x, y), [normal(3), normal(2, 3)]),
    ("copy", lambda x: np.copy(x) ** 2, [normal(3)]),
    ("broadcast_to", lambda x: np.broadcast_to(x, (2, 3, 4)) ** 2, [normal(3, 1)]),
    ("broadcast_arrays", lambda x, y: np.broadcast_arrays(x, y), [normal(3, 1), normal(4)]),
    ("meshgrid", lambda x, y: np.meshgrid(x, y), [normal(3), normal(4)]),
    (
        "meshgrid ij sparse",
        lambda x, y: np.meshgrid(x, y, indexing="ij", sparse=True),
        [normal(3), normal(4)],
    ),  # fmt: skip
    (
        "transpose",
        lambda x: np.transpose(x, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3),
        [normal(2, 3, 4)],
    ),  # fmt: skip
    ("transpose default", lambda x: x.T**2, [normal(2, 3)]),
    (
        "transpose negative axes",
        lambda x: np.transpose(x, (-1, 0, 1)) * W342.transpose(2, 0, 1)[:, :2, :],
        [normal(2, 4, 2)],
    ),  # fmt: skip
    ("swapaxes", lambda x: np.swapaxes(x, 0, 2) ** 3, [normal(2, 3, 4)]),
    (
        "swapaxes keywords",
        lambda x: np.swapaxes(x, axis1=0, axis2=1) * W342[..., 0],
        [normal(4, 3)],
    ),
    ("moveaxis", lambda x: np.moveaxis(x, 0, -1) * W342, [normal(2, 3, 4)]),
    (
        "moveaxis keywords",
        lambda x: np.moveaxis(x, source=0, destination=-1) * W342,
        [normal(2, 3, 4)],
    ),  # fmt: skip
    ("flip", lambda x: np.flip(x, 1) * np.arange(4.0), [normal(3, 4)]),
    ("fliplr", lambda x: np.fliplr(x) * np.arange(4.0), [normal(3, 4)]),
    ("flipud", lambda x: np.flipud(x) * np.arange(3.0)[:, None], [normal(3, 4)]),
    ("rot90", lambda x: np.rot90(x) * np.arange(3.0), [normal(3, 4)]),
    (
        "rot90 k",
        lambda x: (np.rot90(x, 2), np.rot90(x, -1, axes=(1, 0)), np.rot90(x, 4)),
        [normal(3, 4)],
    ),  # fmt: skip
    ("roll", lambda x: np.roll(x, 2) * np.arange(12.0).reshape(3, 4), [normal(3, 4)]),
    ("roll axes", lambda x: np.roll(x, (1, -1), axis=(0, 1)) ** 2, [normal(3, 4)]),
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
    ("hstack", lambda a, b: np.hstack([a, b]), [normal(2, 3), normal(2, 1)]),
    ("vstack", lambda a, b: np.vstack((a, b)), [normal(3), normal(2, 3)]),
    ("dstack", lambda a, b: np.dstack([a, b]), [normal(2, 3), normal(2, 3)]),
    ("column_stack", lambda a, b: np.column_stack([a, b]), [normal(3), normal(3, 2)]),
    ("append", lambda a, b: np.append(a, b), [normal(2, 2), normal(3)]),
    ("append axis", lambda a, b: np.append(a, b, axis=0), [normal(2, 2), normal(1, 2)]),
    ("split", lambda x: np.split(x, 2, axis=1), [normal(3, 4)]),
    ("split indices", lambda x: np.split(x, [1, 3]), [normal(5)]),
    ("split one piece", lambda x: np.split(x, [1, 3])[1], [normal(5)]),
    ("array_split", lambda x: np.array_split(x, 3), [normal(7, 2)]),
    ("hsplit", lambda x: np.hsplit(x, 2), [normal(3, 4)]),
    ("vsplit", lambda x: np.vsplit(x, [1]), [normal(3, 4)]),
    ("dsplit", lambda x: np.dsplit(x, 2), [normal(2, 3, 4)]),
    ("unstack", lambda x: np.unstack(x, axis=1), [normal(2, 3)]),
    ("sort", lambda x: np.sort(x, axis=0) * np.arange(4.0)[:, None], [normal(4, 3)]),
    ("sort flat", lambda x: np.sort(x, axis=None) * np.arange(12.0), [normal(4, 3)]),
    ("partition", lambda x: np.partition(x, 2, axis=1)[:, 2:] ** 2, [normal(3, 5)]),
    (
        "take_along_axis",
        lambda x: np.take_along_axis(x, np.array([[0, 0], [2, 1]]), axis=1) ** 2,
        [normal(2, 3)],
    ),  # fmt: skip
    ("take", lambda x: np.take(x, [0, 2, 2], axis=1) ** 2, [normal(2, 3)]),
    ("take flat", lambda x: np.take(x, [5, 0, 5]) ** 2, [normal(2, 3)]),
    ("take clip", lambda x: np.take(x, [-2, 1, 7], axis=0, mode="clip") ** 2, [normal(3, 2)]),
    ("take wrap", lambda x: np.take(x, [-4, 1, 7], mode="wrap") ** 2, [normal(3, 2)]),
    ("getitem basic", lambda x: x[1:, ::2] ** 2, [normal(3, 4)]),
    ("getitem int", lambda x: x[1] ** 2, [normal(3, 4)]),
    ("getitem newaxis", lambda x: x[None, ..., 1:] * W213, [normal(2, 4)]),
    ("getitem fancy repeat", lambda x: x[[0, 0, 2]] ** 2, [normal(3, 4)]),
    ("getitem bool", lambda x: x[np.array([True, False, True])] ** 2, [normal(3, 4)]),
    ("astype", lambda x: x.astype(np.float64) ** 2, [normal(3)]),
    ("repeat", lambda x: np.repeat(x, [1, 3], axis=0) ** 2, [normal(2, 3)]),
    ("repeat flat", lambda x: np.repeat(x, 2) * np.arange(12.0), [normal(2, 3)]),
    ("tile", lambda x: np.tile(x, (2, 1, 3)) * np.arange(36.0).reshape(2, 2, 9), [normal(2, 3)]),
    ("tril", lambda x: np.tril(x, -1) ** 2, [normal(2, 3, 4)]),
    ("triu", lambda x: np.triu(x, 1) ** 2, [normal(3, 4)]),
    ("diagonal", lambda x: np.diagonal(x, 1, 2, 0) ** 2, [normal(3, 2, 4)]),
    ("diag", lambda x: np.diag(x, -1) ** 2, [normal(4, 3)]),
    ("diag vector", lambda x: np.diag(x, 2) * np.arange(25.0).reshape(5, 5), [normal(3)]),
    ("trace", lambda x: np.trace(x, -1) ** 2, [normal(3, 4, 2)]),
    ("diff", lambda x: np.diff(x, 2, axis=0) ** 2, [normal(4, 3)]),
    (
        "diff prepend append",
        lambda x: np.diff(x, prepend=W342[:, :1, 0], append=1.5) ** 2,
        [normal(3, 4)],
    ),  # fmt: skip
    (
        "select",
        lambda x, y: np.select([x > 0.5, x < -0.5], [x * y, y], x**2),
        [normal(3, 4), normal(4)],
    ),  # fmt: skip
    ("linspace", lambda a, b: np.linspace(a, b, 7), [normal(2), normal(2)]),
    (
        "linspace axis retstep",
        lambda a, b: np.linspace(a, b, 4, endpoint=False, retstep=True, axis=-1),
        [normal(2), normal(3, 1)],
    ),  # fmt: skip
    ("gradient", lambda x: np.gradient(x), [normal(5, 4)]),
    (
        "logspace",
        lambda a, b: np.logspace(a, b, 4, base=np.array([2.0, 3.0]), axis=1),
        [normal(2), normal(2)],
    ),  # fmt: skip
    ("trapezoid", lambda y, x: np.trapezoid(y, x, axis=0), [normal(4, 3), np.cumsum(positive(4))]),
    ("trapezoid dx", lambda y: np.trapezoid(y, dx=0.3), [normal(2, 5)]),
    (
        "cumulative_sum",
        lambda x: np.cumulative_sum(x, axis=1, include_initial=True),
        [normal(2, 3)],
    ),
    ("cumulative_prod", lambda x: np.cumulative_prod(x, include_initial=True), [normal(4)]),
    ("rollaxis", lambda x: np.rollaxis(x, 2, 1) * W342.transpose(0, 2, 1)[:2], [normal(2, 4, 2)]),
    (
        "gradient spacing",
        lambda x: np.gradient(x, 0.5, np.array([0.0, 0.3, 1.0, 1.2]), edge_order=2),
        [normal(5, 4)],
    ),  # fmt: skip
    (
        "gradient axis",
        lambda x, c: np.gradient(x, c, axis=1),
        [normal(2, 4), np.cumsum(positive(4))],
    ),
    ("pad constant", lambda x: np.pad(x, ((1, 2), (0, 3)), constant_values=7.0), [normal(3, 4)]),
    ("pad edge", lambda x: np.pad(x, 2, mode="edge"), [normal(3, 4)]),
    ("pad wrap", lambda x: np.pad(x, ((4, 1), (2, 5)), mode="wrap"), [normal(3, 4)]),
    ("pad reflect", lambda x: np.pad(x, ((2, 5), (1, 4)), mode="reflect"), [normal(3, 4)]),
    (
        "pad symmetric odd",
        lambda x: np.pad(x, ((4, 3), (1, 4)), mode="symmetric", reflect_type="odd"),
        [normal(3, 4)],
    ),  # fmt: skip
    (
        "pad linear_ramp",
        lambda x: np.pad(x, ((2, 3), (1, 4)), mode="linear_ramp", end_values=((1, 2), (3, 4))),
        [normal(3, 4)],
    ),  # fmt: skip
    ("pad mean", lambda x: np.pad(x, ((2, 3), (1, 4)), mode="mean", stat_length=2), [normal(3, 4)]),
    ("pad maximum", lambda x: np.pad(x, 2, mode="maximum"), [normal(3, 4)]),
    ("pad minimum", lambda x: np.pad(x, (1, 2), mode="minimum", stat_length=(2, 3)), [normal(4)]),
    ("pad median", lambda x: np.pad(x, ((2, 3), (1, 4)), mode="median"), [normal(3, 4)]),
]

LINALG = [
    ("matmul 2x2", np.matmul, [normal(3, 4), normal(4, 5)]),
    ("matmul batched broadcast", np.matmul, [normal(2, 3, 4), normal(4, 5)]),
    ("matmul vector-matrix", np.matmul, [normal(4), normal(2, 4, 5)]),
    ("matmul matrix-vector", np.matmul, [normal(3, 4), normal(4)]),
    ("matmul vector-vector", np.matmul, [normal(4), normal(4)]),
    ("matmul operator", lambda a, b: a @ b, [normal(3, 4), normal(4, 2)]),
    ("einsum matmul", lambda a, b: np.einsum("ij,jk->ik", a, b), [normal(3, 4), normal(4, 5)]),
    ("einsum implicit", lambda a, b: np.einsum("ij,jk", a, b), [normal(3, 4), normal(4, 2)]),
    (
        "einsum ellipsis",
        lambda a, b: np.einsum("...ij,jk->...ik", a, b),
        [normal(2, 3, 4), normal(4, 5)],
    ),  # fmt: skip
    ("einsum sum-only index", lambda a, b: np.einsum("ij,k->i", a, b), [normal(3, 4), normal(2)]),
    ("einsum outer", lambda a, b: np.einsum("i,j->ij", a, b), [normal(3), normal(4)]),
    ("einsum trace", lambda a: np.einsum("ii", a), [normal(3, 3)]),
    (
        "einsum repeated index",
        lambda a, b: np.einsum("iij,jk->ik", a, b),
        [normal(3, 3, 2), normal(2, 4)],
    ),  # fmt: skip
    (
        "tensordot",
        lambda a, b: np.tensordot(a, b, axes=([1, 2], [0, 1])),
        [normal(2, 3, 4), normal(3, 4, 5)],
    ),  # fmt: skip
    ("tensordot int", lambda a, b: np.tensordot(a, b, axes=1), [normal(2, 3), normal(3, 4)]),
    ("dot 2d", np.dot, [normal(2, 3), normal(3, 4)]),
    ("dot nd", np.dot, [normal(2, 2, 3), normal(4, 3, 2)]),
    ("dot vector", np.dot, [normal(3), normal(3)]),
    ("inner", np.inner, [normal(2, 3), normal(4, 3)]),
    ("outer", np.outer, [normal(2, 2), normal(3)]),
    ("kron", np.kron, [normal(2, 3), normal(3)]),
    ("cross", np.cross, [normal(4, 3), normal(3)]),
    (
        "cross axes",
        lambda a, b: np.cross(a, b, axisa=0, axisb=0, axisc=0),
        [normal(3, 2), normal(3, 2)],
    ),
    ("linalg.norm", np.linalg.norm, [normal(3, 4)]),
    (
        "linalg.norm vector orders",
        lambda x: [np.linalg.norm(x, o, axis=1) for o in (None, 1, 3, np.inf, -np.inf, 0)],
        [normal(3, 4)],
    ),  # fmt: skip
    (
        "linalg.norm matrix orders",
        lambda x: [
            np.linalg.norm(x, o, axis=(2, 0)) for o in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf)
        ],
        [normal(3, 2, 4)],
    ),  # fmt: skip
    ("linalg.norm keepdims", lambda x: np.linalg.norm(x, axis=0, keepdims=True), [normal(3, 4)]),
    ("linalg.inv", np.linalg.inv, [normal(2, 3, 3)]),
    ("linalg.det", np.linalg.det, [normal(2, 3, 3)]),
    ("linalg.slogdet", lambda a: tuple(np.linalg.slogdet(a)), [normal(3, 3)]),
    ("linalg.solve", np.linalg.solve, [normal(2, 3, 3), normal(2, 3, 2)]),
    ("linalg.solve vector", np.linalg.solve, [normal(3, 3), normal(3)]),
    ("linalg.solve batch vector", np.linalg.solve, [normal(2, 3, 3), normal(3)]),
    ("linalg.cholesky", np.linalg.cholesky, [spd(3)]),
    ("linalg.cholesky upper", lambda a: np.linalg.cholesky(a, **TRI), [spd(3)]),
    ("linalg.eigh", lambda a: tuple(np.linalg.eigh(a)), [normal(2, 4, 4)]),
    ("linalg.eigh upper", lambda a: tuple(np.linalg.eigh(a, "U")), [normal(3, 3)]),
    ("linalg.eig", lambda a: tuple(np.linalg.eig(a)), [REAL_EIG]),
    ("linalg.eigh namedtuple", np.linalg.eigh, [normal(3, 3)]),
    ("linalg.eigh vectors only", lambda a: np.linalg.eigh(a).eigenvectors, [normal(3, 3)]),
    ("linalg.svd u only", lambda a: np.linalg.svd(a, full_matrices=False).U, [normal(4, 3)]),
    ("linalg.eigvalsh", lambda a: np.linalg.eigvalsh(a, "U"), [normal(3, 3)]),
    ("linalg.eigvals", np.linalg.eigvals, [REAL_EIG]),
    ("linalg.svdvals", np.linalg.svdvals, [normal(2, 4, 3)]),
    ("linalg.svd square", lambda a: tuple(np.linalg.svd(a)), [normal(3, 3)]),
    ("linalg.svd tall", lambda a: tuple(np.linalg.svd(a, full_matrices=False)), [normal(2, 5, 3)]),
    ("linalg.svd wide", lambda a: tuple(np.linalg.svd(a, full_matrices=False)), [normal(3, 5)]),
    ("linalg.svd values", lambda a: np.linalg.svd(a, compute_uv=False), [normal(4, 3)]),
    ("linalg.svd hermitian", lambda a: tuple(np.linalg.svd(a, hermitian=True)), [normal(3, 3)]),
    ("linalg.qr", lambda a: tuple(np.linalg.qr(a)), [normal(5, 3)]),
    ("linalg.qr r", lambda a: np.linalg.qr(a, mode="r"), [normal(2, 4, 4)]),
    ("linalg.pinv", np.linalg.pinv, [normal(5, 3)]),
    ("linalg.pinv wide", np.linalg.pinv, [normal(2, 3, 4)]),
    ("convolve", np.convolve, [normal(5), normal(3)]),
    ("convolve same", lambda a, v: np.convolve(a, v, "same"), [normal(3), normal(6)]),
    ("convolve valid", lambda a, v: np.convolve(a, v, "valid"), [normal(6), normal(4)]),
    ("correlate", np.correlate, [normal(6), normal(4)]),
    ("correlate longer v", lambda a, v: np.correlate(a, v, "full"), [normal(3), normal(5)]),
    (
        "linalg.matrix_power",
        lambda a: [np.linalg.matrix_power(a, n) for n in (3, 0, -2)],
        [normal(3, 3)],
    ),  # fmt: skip
    (
        "linalg.multi_dot",
        lambda a, b, c: np.linalg.multi_dot([a, b, c]),
        [normal(2, 3), normal(3, 4), normal(4)],
    ),  # fmt: skip
    ("linalg.matmul", np.linalg.matmul, [normal(2, 3), normal(3, 2)]),
    ("linalg.outer", np.linalg.outer, [normal(2), normal(3)]),
    ("linalg.tensordot", lambda a, b: np.linalg.tensordot(a, b, axes=1), [normal(2, 3), normal(3)]),
    ("linalg.diagonal", lambda a: np.linalg.diagonal(a, offset=1), [normal(2, 3, 4)]),
    ("linalg.trace", np.linalg.trace, [normal(2, 3, 3)]),
    (
        "linalg.vector_norm",
        lambda a: [
            np.linalg.vector_norm(a),
            np.linalg.vector_norm(a, axis=(0, 1), keepdims=True, ord=3),
        ],
        [normal(2, 3)],
    ),  # fmt: skip
    ("linalg.matrix_norm", lambda a: np.linalg.matrix_norm(a, ord="nuc"), [normal(2, 3, 3)]),
    ("linalg.vecdot", np.linalg.vecdot, [normal(2, 3), normal(3)]),
    ("vecdot", lambda a, b: np.vecdot(a, b, axis=0), [normal(3, 2), normal(3, 1)]),
]

CASES = ELEMENTWISE + REDUCTIONS + SHAPE + LINALG
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("fun, primals", [c[1:] for c in CASES], ids=IDS)
def test_vjp_matches_finite_differences(fun, primals):
    check_grads(fun, *primals)


def _gradient_of(fun, n_primals):
    """(x..., dy...) -> gradient of <dy, fun(x...)> w.r.t. x, computed by a GradientTape: a
    function of dy too, so that linear functions (zero second derivative in x) still test that
    their rule can be recorded again."""

    def gradient(*args):
        xs, dys = args[:n_primals], args[n_primals:]
        with GradientTape() as tape:
            watched = [tape.watch(x) for x in xs]
            outs = nest.flatten(fun(*watched))
        return tape.gradient(
            outs, watched, output_gradients=list(dys), unconnected_gradients="zero"
        )

    return gradient


@pytest.mark.parametrize("fun, primals", [c[1:] for c in CASES], ids=IDS)
def test_second_order_matches_finite_differences_of_the_gradient(fun, primals):
    """The backward pass of every rule is recorded by an outer tape (a rule written with np.*
    calls and no in-place writes), and its derivative is right."""
    outs = nest.flatten(fun(*primals))
    dys = [np.cos(np.arange(np.size(o)) + 0.5).reshape(np.shape(o)) for o in outs]
    check_grads(_gradient_of(fun, len(primals)), *primals, *dys)


@pytest.mark.parametrize("fun, primals", [c[1:] for c in CASES], ids=IDS)
def test_recorded_forward_values_are_numpys(fun, primals):
    """Composites re-implement NumPy functions with recorded calls: same values as NumPy."""
    plain = nest.flatten(fun(*primals))
    with GradientTape() as tape:
        taped = nest.flatten(fun(*[tape.watch(x) for x in primals]))
    for a, b in zip(plain, taped, strict=True):
        np.testing.assert_allclose(b.numpy() if hasattr(b, "numpy") else b, a, rtol=1e-13)


def _short_name(f):
    prefix = "linalg." if getattr(f, "__module__", None) == "numpy.linalg" else ""
    return prefix + f.__name__


def test_every_rule_and_composite_has_a_finite_difference_case():
    """No rule or composite in the table escapes the finite-difference checks above."""
    names = {c[0].split()[0] for c in CASES}
    aliases = {"_getitem": "getitem", "_astype": "astype", "true_divide": "divide",
               "_scatter_add": "diag", "_zeta": "zeta", "psi": "digamma",
               "_pad_linear": "pad"}  # fmt: skip
    ours = ("numpy", "scipy", "reference.autodiff")  # not rules that tests and layers add
    registered = [
        f
        for f in [*tape_module.VJP_RULES, *tape_module.COMPOSITES]
        if (getattr(f, "__module__", None) or "numpy").startswith(ours)
    ]
    missing = [n for n in map(_short_name, registered) if aliases.get(n, n) not in names]
    assert not missing, f"rules without a finite-difference case: {sorted(missing)}"


# TF's conventions where the derivative does not exist (docs/keras-facts.md#fact-7), and the math
# where TF has no op.
KINKS = [
    ("abs at 0", np.abs, [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
    ("maximum tie to first", lambda x: np.maximum(x, 1.0), [0.0, 1.0, 2.0], [0.0, 1.0, 1.0]),
    ("minimum tie to first", lambda x: np.minimum(x, 1.0), [0.0, 1.0, 2.0], [1.0, 1.0, 0.0]),
    (
        "fmax tie to first, NaN ignored",
        lambda x: np.fmax(x, np.array([1.0, np.nan, 5.0])),
        [1.0, 3.0, 2.0],
        [1.0, 1.0, 0.0],
    ),  # fmt: skip
    ("clip inclusive", lambda x: np.clip(x, -1.0, 3.0), [-3, -1, 0, 1, 3, 6], [0, 1, 1, 1, 1, 0]),
    ("max splits ties", np.max, [0.0, 3.0, 3.0, 1.0], [0.0, 0.5, 0.5, 0.0]),
    ("max initial wins: no gradient", lambda x: np.max(x, initial=10.0), [1.0, 2.0], [0.0, 0.0]),
    (
        "max where",
        lambda x: np.max(x, where=np.array([True, False, True]), initial=-np.inf),
        [1.0, 5.0, 3.0],
        [0.0, 0.0, 1.0],
    ),  # fmt: skip
    ("prod through zeros", np.prod, [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]),
    ("prod one zero", np.prod, [2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),
    (
        "copysign at 0 and by -0",
        lambda x: np.copysign(x, np.array([1.0, -0.0, -2.0])),
        [0.0, 3.0, -1.0],
        [0.0, -1.0, 1.0],
    ),  # fmt: skip
    ("sinc at 0", np.sinc, [0.0], [0.0]),
    ("xlogy at x = 0", lambda x: sp.xlogy(x, x), [0.0, 2.0], [0.0, np.log(2.0) + 1.0]),
    ("nan_to_num", np.nan_to_num, [np.nan, np.inf, -np.inf, 2.0], [0.0, 0.0, 0.0, 1.0]),
    (
        "where routes by condition",
        lambda x: np.where(x > 0, x, 0.0),
        [-1.0, 0.0, 2.0],
        [0.0, 0.0, 1.0],
    ),  # fmt: skip
    ("sqrt at 0 is inf", np.sqrt, [0.0, 4.0], [np.inf, 0.25]),
    (
        "arctan2 at the origin is NaN (TF)",
        lambda y: np.arctan2(y, np.array([0.0, 1.0])),
        [0.0, 1.0],
        [np.nan, 0.5],
    ),  # fmt: skip
    ("norm at 0 is NaN (tf.norm)", np.linalg.norm, [0.0, 0.0], [np.nan, np.nan]),
]


@pytest.mark.parametrize("fun, x, expected", [k[1:] for k in KINKS], ids=[k[0] for k in KINKS])
def test_gradients_at_kinks_follow_tensorflow(fun, x, expected):
    x = np.asarray(x, dtype=float)
    _, vjp_fn = vjp(fun, x)
    with np.errstate(divide="ignore", invalid="ignore"):  # sqrt'(0) is inf, as in TF
        (g,) = vjp_fn(np.ones_like(np.asarray(fun(x))))
    np.testing.assert_array_equal(g, np.asarray(expected, dtype=float))


# What has no gradient says so, naming the function.
ERRORS = [
    (
        "svd full_matrices non-square",
        lambda a: np.linalg.svd(a)[0],
        (3, 2),
        NotImplementedError,
        "full_matrices=False",
    ),  # fmt: skip
    (
        "linalg.qr wide",
        lambda a: np.linalg.qr(a)[1],
        (2, 3),
        NotImplementedError,
        "rows >= columns",
    ),
    (
        "qr complete",
        lambda a: np.linalg.qr(a, mode="complete")[1],
        (3, 2),
        NotImplementedError,
        "mode='complete'",
    ),  # fmt: skip
    (
        "pad callable mode",
        lambda a: np.pad(a, 1, mode=lambda *a: None),
        (3,),
        NotImplementedError,
        "numpy.pad: mode=",
    ),  # fmt: skip
    (
        "reshape order A",
        lambda a: np.reshape(a, (-1,), order="A"),
        (2, 2),
        NotImplementedError,
        "order='C' or order='F'",
    ),  # fmt: skip
    ("cross of 2-vectors", lambda a: np.cross(a, a[::-1]), (2,), NotImplementedError, "3-vectors"),
    ("eig complex", lambda a: np.linalg.eig(a * ROTATE)[0], (2, 2), TypeError, "eig.*complex"),
    ("complex result", lambda a: a * 1j, (2,), TypeError, "complex"),
    (
        "no rule",
        lambda a: np.linalg.lstsq(a, a[:, 0])[0],
        (3, 2),
        MissingVJPError,
        "numpy.linalg.lstsq has no VJP rule",
    ),  # fmt: skip
    ("ufunc method", lambda a: np.add.reduce(a), (2,), MissingVJPError, "add.reduce"),
]


@pytest.mark.parametrize("fun, shape, error, match", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])  # fmt: skip
def test_what_has_no_gradient_raises_a_clear_error(fun, shape, error, match):
    x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) ** 1.5
    with pytest.raises(error, match=match):
        with GradientTape() as tape:
            tx = tape.watch(x)
            y = fun(tx)
        tape.gradient(y, tx)


@pytest.mark.parametrize(
    "func, name",
    [
        (np.add, "numpy.add"),
        (sp.erf, "scipy.special.erf"),
        (np.linalg.lstsq, "numpy.linalg.lstsq"),
        (sp.zeta, "scipy.special.zeta"),
    ],  # fmt: skip
)
def test_rule_errors_name_the_full_real_function(func, name):
    assert full_name(func) == name
    if func is np.linalg.lstsq:
        with pytest.raises(KeyError, match=name):
            rule_for(func)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_gradient_keeps_the_input_dtype(dtype):
    x = np.linspace(-1, 1, 6, dtype=dtype).reshape(2, 3)
    _, vjp_fn = vjp(lambda t: np.tanh(t) * 2.0 + np.sum(t**2) + np.prod(t, axis=0), x)
    (g,) = vjp_fn(np.ones((2, 3), dtype=dtype))
    assert g.dtype == dtype
