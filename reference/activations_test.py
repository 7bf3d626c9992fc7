"""NumPy-only tests of reference.activations: values against independent per-element float64 math
(the `math` module, with TF's semantics where they differ from the textbook), dtypes, gradient
conventions at the kinks, finite differences, the allowed NumPy vocabulary, and get/serialize."""

from __future__ import annotations

import inspect
import math
import struct

import numpy as np
import pytest
from scipy import special

from reference import activations as A
from reference.autodiff import vjp


def f32(v: float) -> float:
    """v rounded to float32 in pure Python (TF casts some Python constants through float32)."""
    return struct.unpack("f", struct.pack("f", v))[0]


# -- independent float64 formulas, one element at a time ----------------------------------------
SELU_SCALE, SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717


def m_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope and max_value is None and threshold == 0:  # tf.nn.leaky_relu branch
        return x if x > 0 else x * f32(negative_slope)
    pos = x if x > (f32(threshold) if threshold else 0.0) else 0.0
    if max_value is not None:
        pos = min(max(pos, 0.0), f32(max_value))
    return pos - negative_slope * max(threshold - x, 0.0)


def m_softplus(x, t):  # TF's kernel: t = log(eps) + 2
    return x if x > -t else (math.exp(x) if x < t else math.log1p(math.exp(x)))


def m_sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def m_hard_sigmoid(x):
    return min(max(x / 6 + 0.5, 0.0), 1.0)


T64 = math.log(2.0**-52) + 2  # softplus threshold in float64, -34.04

# (name, kwargs, formula(x) in float64)
ELEMENTWISE = [
    ("relu", {}, m_relu),
    ("relu", dict(negative_slope=0.1), lambda x: m_relu(x, 0.1)),
    ("relu", dict(max_value=3.0), lambda x: m_relu(x, max_value=3.0)),
    ("relu", dict(max_value=6.0), lambda x: m_relu(x, max_value=6.0)),
    ("relu", dict(threshold=1.0), lambda x: m_relu(x, threshold=1.0)),
    ("relu", dict(negative_slope=0.5, max_value=2.0), lambda x: m_relu(x, 0.5, 2.0)),
    ("relu", dict(negative_slope=0.1, max_value=6, threshold=1.0), lambda x: m_relu(x, 0.1, 6, 1)),
    ("relu", dict(negative_slope=0.5, threshold=-1.0), lambda x: m_relu(x, 0.5, None, -1.0)),
    ("leaky_relu", {}, lambda x: x if x > 0 else x * f32(0.2)),
    ("leaky_relu", dict(negative_slope=0.01), lambda x: x if x > 0 else x * f32(0.01)),
    ("relu6", {}, lambda x: min(max(x, 0.0), 6.0)),
    ("elu", {}, lambda x: x if x > 0 else math.exp(x) - 1),  # exp - 1, as TF's kernel
    ("elu", dict(alpha=0.5), lambda x: x if x > 0 else 0.5 * (math.exp(x) - 1)),
    ("selu", {}, lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * (math.exp(x) - 1))),
    ("softplus", {}, lambda x: m_softplus(x, T64)),
    ("softsign", {}, lambda x: x / (1 + abs(x))),
    ("sigmoid", {}, m_sigmoid),
    ("tanh", {}, math.tanh),
    ("silu", {}, lambda x: x * m_sigmoid(x)),
    ("swish", {}, lambda x: x * m_sigmoid(x)),
    ("gelu", {}, lambda x: 0.5 * x * math.erfc(-x * f32(math.sqrt(0.5)))),
    ("gelu", dict(approximate=True),
     lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + f32(0.044715) * x**3)))),
    ("hard_sigmoid", {}, m_hard_sigmoid),
    ("hard_silu", {}, lambda x: x * m_hard_sigmoid(x)),
    ("hard_swish", {}, lambda x: x * m_hard_sigmoid(x)),
    ("mish", {}, lambda x: x * math.tanh(m_softplus(x, T64))),
    ("exponential", {}, math.exp),
    ("linear", {}, lambda x: x),
    ("celu", {}, lambda x: max(x, 0.0) + math.expm1(min(x, 0.0))),
    ("celu", dict(alpha=2.0), lambda x: max(x, 0.0) + 2.0 * math.expm1(min(x, 0.0) / 2.0)),
    ("hard_tanh", {}, lambda x: min(max(x, -1.0), 1.0)),
    ("hard_shrink", {}, lambda x: x if abs(x) > 0.5 else 0.0),
    ("hard_shrink", dict(threshold=2.0), lambda x: x if abs(x) > 2.0 else 0.0),
    ("soft_shrink", {}, lambda x: x - 0.5 if x > 0.5 else (x + 0.5 if x < -0.5 else 0.0)),
    ("soft_shrink", dict(threshold=1.0), lambda x: x - 1 if x > 1 else (x + 1 if x < -1 else 0.0)),
    ("squareplus", {}, lambda x: (x + math.sqrt(x * x + 4)) / 2),
    ("squareplus", dict(b=0.5), lambda x: (x + math.sqrt(x * x + 0.5)) / 2),
    ("sparse_plus", {}, lambda x: 0.0 if x <= -1 else ((x + 1) ** 2 / 4 if x < 1 else x)),
    ("sparse_sigmoid", {}, lambda x: 0.0 if x <= -1 else (1.0 if x >= 1 else (x + 1) / 2)),
    ("tanh_shrink", {}, lambda x: x - math.tanh(x)),
    ("threshold", dict(threshold=0.5, default_value=-2.0), lambda x: x if x > 0.5 else -2.0),
    ("log_sigmoid", {}, lambda x: -m_softplus(-x, T64)),
]  # fmt: skip


def case_id(name: str, kwargs: dict) -> str:
    return f"{name}({','.join(f'{k}={v}' for k, v in kwargs.items())})"


IDS = [case_id(n, kw) for n, kw, _ in ELEMENTWISE]
# Values whose formula cancels (x - tanh x near 0, 1 + tanh u for u << 0) are compared with an
# absolute tolerance as well: eps times the size of the cancelling terms.
CANCELS = {"tanh_shrink", "gelu", "mish", "elu", "selu", "celu", "squareplus"}

KINKS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0]
POINTS = np.concatenate(
    [
        KINKS,
        [-50.0, -35.0, -20.0, -14.0, -13.9, -2.5, -1e-3, 1e-3, 2.5, 13.9, 14.0, 20.0, 35.0, 50.0],
        np.random.default_rng(0).normal(size=100) * 5,
    ]
)


def assert_close(actual, expected, rtol: float, atol) -> None:
    """|actual - expected| <= rtol * |expected| + atol, elementwise (atol may be an array)."""
    excess = np.abs(actual - expected) - rtol * np.abs(expected) - atol
    worst = int(np.argmax(excess))
    assert np.all(excess <= 0), (
        f"{np.sum(excess > 0)} elements off; worst at {worst}: "
        f"{np.ravel(actual)[worst]!r} vs {np.ravel(expected)[worst]!r}"
    )


def _fn(name: str, kwargs: dict):
    return lambda v: getattr(A, name)(v, **kwargs)


@pytest.mark.parametrize(("name", "kwargs", "formula"), ELEMENTWISE, ids=IDS)
def test_float64_values_match_independent_math(name, kwargs, formula):
    x = POINTS[np.abs(POINTS) < 40] if name == "exponential" else POINTS
    expected = np.array([formula(float(v)) for v in x])
    atol = 4e-16 * (1 + np.abs(x)) if name in CANCELS else 1e-300
    assert_close(getattr(A, name)(x, **kwargs), expected, rtol=1e-14, atol=atol)


@pytest.mark.parametrize(("name", "kwargs", "formula"), ELEMENTWISE, ids=IDS)
def test_float32_values_are_within_a_few_ulp_of_the_math(name, kwargs, formula):
    x = POINTS.astype(np.float32)
    x = x[np.abs(x) < 40] if name == "exponential" else x
    y = getattr(A, name)(x, **kwargs)
    assert y.dtype == np.float32
    if name in ("softplus", "log_sigmoid", "mish"):  # float32 thresholds: softplus(14) == 14
        t32 = math.log(f32(2.0**-23)) + 2
        formula = {
            "softplus": lambda v: m_softplus(v, t32),
            "log_sigmoid": lambda v: -m_softplus(-v, t32),
            "mish": lambda v: v * math.tanh(m_softplus(v, t32)),
        }[name]
    expected = np.array([formula(float(v)) for v in x])
    eps = float(np.finfo(np.float32).eps)
    atol = 2 * eps * (1 + np.abs(x)) if name in CANCELS else 1e-38
    assert_close(y, expected, rtol=4 * eps, atol=atol)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", sorted(set(A.__all__) - {"get", "serialize", "deserialize"}))
def test_dtype_is_preserved(name, dtype):
    x = np.linspace(-4, 4, 12, dtype=dtype).reshape(3, 4)
    kwargs = dict(threshold=0.5, default_value=0.0) if name == "threshold" else {}
    with np.errstate(over="ignore"):
        assert getattr(A, name)(x, **kwargs).dtype == dtype
    if name not in ("linear", "softmax", "log_softmax", "sparsemax", "glu"):
        out, vjp_fn = vjp(_fn(name, kwargs), x)
        assert out.dtype == dtype and vjp_fn(np.ones_like(x))[0].dtype == dtype


# -- gradient conventions at the kinks: TF's, docs/keras-facts.md#fact-7 ------------------------
S = 1 / 6
KINK_GRADIENTS = [  # at x = -3, -1, 0, 1, 3, 6
    ("relu", {}, [0, 0, 0, 1, 1, 1]),
    ("relu6", {}, [0, 0, 0, 1, 1, 0]),
    ("relu", dict(max_value=6.0), [0, 0, 0, 1, 1, 0]),
    ("relu", dict(max_value=3.0), [0, 0, 0, 1, 1, 0]),  # 1 at 3: clip passes its bound
    ("relu", dict(threshold=1.0), [0, 0, 0, 0, 1, 1]),
    ("relu", dict(negative_slope=0.5, threshold=1.0), [0.5, 0.5, 0.5, 0, 1, 1]),
    ("leaky_relu", {}, [f32(0.2)] * 3 + [1, 1, 1]),
    ("elu", {}, [math.exp(-3), math.exp(-1), 1, 1, 1, 1]),
    ("elu", dict(alpha=0.5), [0.5 * math.exp(-3), 0.5 * math.exp(-1), 0.5, 1, 1, 1]),
    ("selu", {}, [SELU_SCALE * SELU_ALPHA * math.exp(v) for v in (-3, -1)] + [SELU_SCALE] * 4),
    ("celu", {}, [math.exp(-3), math.exp(-1), 2, 1, 1, 1]),  # both tf.maximum/minimum ties pass
    ("hard_sigmoid", {}, [0, S, S, S, 0, 0]),
    ("hard_silu", {}, [0, S, 0.5, 5 * S, 1, 1]),
    ("hard_tanh", {}, [0, 1, 1, 1, 0, 0]),
    ("hard_shrink", dict(threshold=1.0), [1, 0, 0, 0, 1, 1]),
    ("soft_shrink", dict(threshold=1.0), [1, 0, 0, 0, 1, 1]),
    ("sparse_plus", {}, [0, 0, 0.5, 1, 1, 1]),
    ("sparse_sigmoid", {}, [0, 0, 0.5, 0, 0, 0]),
    ("threshold", dict(threshold=1.0, default_value=0.0), [0, 0, 0, 0, 1, 1]),
    ("softplus", {}, [m_sigmoid(v) for v in (-3, -1, 0, 1, 3, 6)]),
    ("gelu", {}, [0.5 * special.erfc(-v / math.sqrt(2)) + v * math.exp(-v * v / 2)
                  / math.sqrt(2 * math.pi) for v in (-3, -1, 0, 1, 3, 6)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    KINK_GRADIENTS,
    ids=[case_id(n, k) for n, k, _ in KINK_GRADIENTS],
)
def test_gradients_at_kinks_follow_tensorflow(name, kwargs, expected):
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
    _, vjp_fn = vjp(_fn(name, kwargs), x)
    np.testing.assert_allclose(vjp_fn(np.ones_like(x))[0], expected, rtol=1e-6, atol=1e-12)


SMOOTH_DIRECTIONAL = [(n, kw) for n, kw, _ in ELEMENTWISE] + [
    ("softmax", {}),
    ("softmax", dict(axis=0)),
    ("softmax", dict(axis=(0, 1))),
    ("softmax", dict(axis=None)),
    ("log_softmax", {}),
    ("log_softmax", dict(axis=(0, 2))),
    ("glu", {}),
    ("glu", dict(axis=0)),
    ("sparsemax", {}),
    ("sparsemax", dict(axis=1)),
]


@pytest.mark.parametrize(
    ("name", "kwargs"), SMOOTH_DIRECTIONAL, ids=[case_id(*c) for c in SMOOTH_DIRECTIONAL]
)
def test_vjp_matches_central_differences(name, kwargs):
    """Dot-product test: <dy, J dx> (central differences) == <J^T dy, dx> (the tape), float64."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-5, 7, size=(4, 6, 8))
    kinks = np.array([-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 6])
    x = np.where(np.min(np.abs(x[..., None] - kinks), axis=-1) < 0.02, 0.25, x)  # off the kinks
    if name == "sparsemax":  # distinct logits ~0.01 apart: no element sits on tau
        x = rng.permutation(x.size).reshape(x.shape) * 0.01 + rng.uniform(0, 1e-3, x.shape)
    fn = _fn(name, kwargs)
    out, vjp_fn = vjp(fn, x)
    dy, dx = rng.normal(size=out.shape), rng.normal(size=x.shape)
    h = 1e-6
    jvp = (fn(x + h * dx) - fn(x - h * dx)) / (2 * h)
    (grad,) = vjp_fn(dy)
    np.testing.assert_allclose(np.sum(grad * dx), np.sum(dy * jvp), rtol=1e-7)


def test_gradients_stay_finite_where_an_unselected_branch_would_overflow():
    x = np.array([-1000.0, -100.0, 100.0, 1000.0])
    for name in ("elu", "selu", "softplus", "log_sigmoid", "mish", "sigmoid", "silu", "celu"):
        _, vjp_fn = vjp(getattr(A, name), x)
        assert np.all(np.isfinite(vjp_fn(np.ones_like(x))[0])), name


# -- the NumPy vocabulary: what the tape can differentiate ---------------------------------------
ALLOWED = {
    np.add, np.subtract, np.multiply, np.divide, np.negative, np.power, np.square, np.sqrt,
    np.reciprocal, np.exp, np.expm1, np.log, np.log1p, np.tanh, np.sin, np.cos, np.absolute,
    np.maximum, np.minimum, np.logaddexp, special.erf, special.erfc, special.expit, np.where,
    np.clip, np.sum, np.mean, np.max, np.min, np.sort, np.cumsum, np.take_along_axis, np.reshape,
    np.expand_dims, np.squeeze, np.moveaxis, np.swapaxes, np.transpose, np.concatenate, np.stack,
    np.split, np.greater, np.less, np.greater_equal, np.less_equal, np.equal, np.sign, np.floor,
}  # fmt: skip


class Strict(np.lib.mixins.NDArrayOperatorsMixin):
    """An array stand-in that admits only ALLOWED functions and refuses conversion or mutation."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)

    @classmethod
    def _raw(cls, obj):
        if isinstance(obj, list | tuple):
            return type(obj)(cls._raw(o) for o in obj)
        return obj.value if isinstance(obj, Strict) else obj

    @staticmethod
    def _wrap(result):
        if isinstance(result, list | tuple):
            return type(result)(Strict._wrap(r) for r in result)
        return Strict(result) if result.dtype.kind == "f" else result  # comparisons: plain bools

    def _run(self, func, args, kwargs):
        assert func in ALLOWED, f"{func.__name__} is not in the brief's list of NumPy functions"
        assert kwargs.get("out") is None, f"{func.__name__}(out=...) mutates"
        return self._wrap(func(*self._raw(args), **self._raw(kwargs)))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        assert method == "__call__", f"{ufunc.__name__}.{method}"
        return self._run(ufunc, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return self._run(func, args, kwargs)

    def __getitem__(self, index):
        return Strict(self.value[index])

    def __setitem__(self, index, value):
        raise AssertionError("in-place assignment into the argument")

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("the argument was converted with np.asarray / np.array")

    def __float__(self):
        raise AssertionError("the argument was converted with float()")

    def astype(self, dtype):
        raise AssertionError("the argument was cast with astype")


@pytest.mark.parametrize(
    ("name", "kwargs"), SMOOTH_DIRECTIONAL, ids=[case_id(*c) for c in SMOOTH_DIRECTIONAL]
)
def test_uses_only_the_allowed_numpy_functions(name, kwargs):
    x = np.random.default_rng(4).normal(size=(4, 4, 6)) * 3
    out = getattr(A, name)(Strict(x), **kwargs)
    np.testing.assert_array_equal(out.value, getattr(A, name)(x, **kwargs))


# -- vector activations -------------------------------------------------------------------------
def _rows(x: np.ndarray, axis) -> tuple[list[list[float]], tuple, tuple]:
    """The 1-D slices along axis (a tuple or None flattens those axes), as Python floats."""
    axes = tuple(range(x.ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = tuple(a % x.ndim for a in axes)
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    return moved.reshape(-1, int(np.prod([x.shape[a] for a in axes]))).tolist(), moved.shape, axes


def _by_rows(x: np.ndarray, axis, row_fn) -> np.ndarray:
    rows, moved_shape, axes = _rows(x, axis)
    out = np.array([row_fn(r) for r in rows]).reshape(moved_shape)
    return np.moveaxis(out, tuple(range(-len(axes), 0)), axes)


def m_softmax(row):
    top = max(row)
    e = [math.exp(v - top) for v in row]
    return [v / math.fsum(e) for v in e]


def m_log_softmax(row):
    top = max(row)
    return [v - top - math.log(math.fsum(math.exp(u - top) for u in row)) for v in row]


@pytest.mark.parametrize("axis", [-1, 0, 1, (1, 2), (0, 2), None], ids=str)
@pytest.mark.parametrize(
    ("name", "formula"), [("softmax", m_softmax), ("log_softmax", m_log_softmax)]
)
def test_softmax_family_matches_math_on_every_axis(name, formula, axis):
    x = np.random.default_rng(5).normal(size=(3, 4, 5)) * 4
    np.testing.assert_allclose(
        getattr(A, name)(x, axis=axis), _by_rows(x, axis, formula), rtol=1e-13, atol=1e-300
    )


def test_sparsemax_reproduces_keras_formula_by_hand():
    # Sorted [0.5, 0.4, 0.3]: cumsums 0.5, 0.9, 1.2, all in the support (k = 3);
    # Keras's tau = (0.5 + 0.9 + 1.2 - 1) / 3 = 0.5333 > 0.5, so every output is 0.
    np.testing.assert_allclose(A.sparsemax(np.array([0.5, 0.4, 0.3])), [0.0, 0.0, 0.0])
    # [1, 1, 0]: k = 2, tau = (1 + 2 - 1) / 2 = 1.
    np.testing.assert_allclose(A.sparsemax(np.array([1.0, 1.0, 0.0])), [0.0, 0.0, 0.0])
    # One-element support: the published projection, [2, 0, -1] -> tau = 1 -> [1, 0, 0].
    np.testing.assert_allclose(A.sparsemax(np.array([[2.0, 0.0, -1.0]]), axis=-1), [[1, 0, 0]])
    np.testing.assert_allclose(A.sparsemax(np.array([[2.0], [0.0], [-1.0]]), axis=0),
                               [[1], [0], [0]])  # fmt: skip


def test_softmax_is_stable_and_handles_infinities():
    x = np.array([[1000.0, 1001.0], [-np.inf, 0.0], [-np.inf, -np.inf]], np.float32)
    with np.errstate(invalid="ignore"):
        y, log_y = A.softmax(x), A.log_softmax(x)
    np.testing.assert_allclose(y[:2], [[0.26894143, 0.73105854], [0.0, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(log_y[0], [-1.3132616, -0.31326166], rtol=1e-6)
    assert np.all(np.isnan(y[2]))  # all -inf row: nan, as TF


def test_softmax_warns_on_an_axis_of_size_one_and_glu_needs_an_even_axis():
    with pytest.warns(UserWarning, match="This axis has size 1"):
        A.softmax(np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"axis size must be divisible by 2. .*\(2, 3\)"):
        A.glu(np.ones((2, 3)))
    x = np.random.default_rng(7).normal(size=(2, 6))
    np.testing.assert_allclose(A.glu(x), x[:, :3] * special.expit(x[:, 3:]), rtol=1e-15)


# -- defaults and TF's numerical choices --------------------------------------------------------
def test_defaults_and_constants():
    def defaults(fn):
        return {k: p.default for k, p in inspect.signature(fn).parameters.items() if k != "x"}

    assert defaults(A.gelu) == {"approximate": False}
    assert defaults(A.leaky_relu) == {"negative_slope": 0.2}
    assert defaults(A.relu) == {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    assert defaults(A.elu) == defaults(A.celu) == {"alpha": 1.0}
    assert defaults(A.squareplus) == {"b": 4}
    assert defaults(A.soft_shrink) == defaults(A.hard_shrink) == {"threshold": 0.5}
    assert defaults(A.softmax) == defaults(A.log_softmax) == {"axis": -1}
    assert defaults(A.glu) == defaults(A.sparsemax) == {"axis": -1}
    empty = inspect.Parameter.empty
    assert defaults(A.threshold) == {"threshold": empty, "default_value": empty}
    assert A.selu(np.array(1.0)) == 1.0507009873554805
    assert A.selu(np.array(-np.inf)) == -1.7580993408473769
    # the exact erf form (docs/keras-facts.md#fact-6-1)
    assert A.gelu(np.float32(1.0)) == np.float32(0.8413447)


def test_softplus_uses_tensorflows_thresholds():
    x32 = np.array([14.0, 13.9, -14.0, -13.9], np.float32)
    y = A.softplus(x32)
    assert y[0] == np.float32(14.0)  # log1p(exp(14)) would round to 14.000001
    assert y[1] == np.float32(math.log1p(math.exp(f32(13.9))))
    assert y[2] == np.exp(np.float32(-14.0))
    assert y[3] == np.float32(math.log1p(math.exp(f32(-13.9))))
    assert A.softplus(np.array([-35.0]))[0] == math.exp(-35.0)  # float64: threshold -34.04


def test_float64_sees_tensorflows_float32_rounded_constants():
    x = np.array([-1.0, 0.1000000001, 0.1000000016, 1.0])
    assert A.leaky_relu(x)[0] == -0.20000000298023224  # float32 op attribute
    np.testing.assert_array_equal(A.relu(x, threshold=0.1), [0, 0, 0.1000000016, 1])
    assert A.relu(x, max_value=0.1)[3] == 0.10000000149011612
    assert A.relu(x, negative_slope=0.2, max_value=5.0)[0] == -0.2  # not an attribute here


def test_elu_uses_exp_minus_one_like_tensorflow():
    assert A.elu(np.float32(-1e-8)) == 0.0  # expm1 would give -1e-8 (docs/keras-facts.md#fact-6-1)


def test_nan_propagates_through_the_relu_family():
    x = np.array([np.nan])
    for fn in (A.relu, A.relu6, A.leaky_relu, A.elu, A.selu, A.hard_sigmoid, A.hard_tanh):
        assert np.isnan(fn(x)[0]), fn.__name__


# -- get / serialize / deserialize --------------------------------------------------------------
NAMES = sorted(set(A.__all__) - {"get", "serialize", "deserialize"})
ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


@pytest.mark.parametrize("name", NAMES)
def test_get_serialize_deserialize_round_trip(name):
    fn = A.get(name)
    assert fn is getattr(A, name)
    canonical = ALIASES.get(name, name)
    assert fn.__name__ == canonical
    assert A.serialize(fn) == canonical
    assert A.deserialize(A.serialize(fn)) is fn
    assert A.deserialize(name) is fn
    assert A.get({"class_name": "function", "config": canonical}) is fn


def test_the_name_table_is_keras_3_15_1():
    assert len(NAMES) == 32 and {"swish", "hard_swish"} <= set(NAMES)
    assert A.swish is A.silu and A.hard_swish is A.hard_silu


def test_get_none_callables_and_unknown_identifiers():
    assert A.get(None) is A.linear

    def custom(x):
        return x

    assert A.get(custom) is custom
    for bad in ["foo", "Relu", 3, ""]:
        with pytest.raises(ValueError) as error:
            A.get(bad)
        message = str(error.value)
        assert f"identifier: {bad}." in message
        assert all(name in message for name in NAMES)
    with pytest.raises(ValueError, match="Could not deserialize activation: 'foo'.*relu6"):
        A.deserialize("foo")
    assert A.deserialize("custom", custom_objects={"custom": custom}) is custom
    config = A.serialize(custom)  # Keras's dict for a plain function
    assert config == {"module": "builtins", "class_name": "function", "config": "custom",
                      "registered_name": "function"}  # fmt: skip
    assert A.deserialize(config, custom_objects={"custom": custom}) is custom
    with pytest.raises(ValueError, match="Could not deserialize activation"):
        A.deserialize(config)
    with pytest.raises(ValueError, match="cannot be serialized.*sparsemax"):
        A.serialize(lambda x: x)


@pytest.mark.parametrize("fn", [A.relu, A.relu6, lambda x: A.relu(x, max_value=3.0)])
def test_relu_family_keeps_integer_inputs_integer(fn):
    y = fn(np.arange(-3, 5, dtype=np.int32))
    assert y.dtype == np.int32 and y.min() == 0


# -- gradients from TF's own kernels (nn_grad.py / math_grad.py), where the traced formula
# and the kernel formula part ways. Expected values: the kernel formulas, written out by hand.
SCALE32 = np.float32(SELU_SCALE)
TF_KERNEL_POINTS = [
    # (name, x, dtype, expected dx for dy = 0.36, why)
    (
        "selu",
        -1e-8,
        np.float32,
        np.float32(0.36) * SCALE32,
        "exp(x) - 1 rounds to y = 0: g * scale",
    ),
    ("selu", -20.0, np.float32, 0.0, "y rounds to -scale * alpha: g * (y + scale * alpha) = 0"),
    ("elu", -1e-8, np.float32, 0.36, "y = 0: the y >= 0 branch, g"),
    ("elu", -20.0, np.float32, 0.0, "y = -1 exactly: g * (y + 1) = 0"),
    ("sigmoid", 40.0, np.float32, 0.0, "y = 1 exactly: g * y * (1 - y) = 0"),
    ("tanh", 20.0, np.float32, 0.0, "y = 1 exactly: g * (1 - y * y) = 0"),
    ("softplus", 40.0, np.float32, 0.36, "past the threshold: g * sigmoid(x), sigmoid(40) = 1"),
    ("softplus", -40.0, np.float64, 0.36 * math.exp(-40.0) / (1 + math.exp(-40.0)), "g * sigmoid"),
]


@pytest.mark.parametrize("name, x, dtype, expected, why", TF_KERNEL_POINTS)
def test_gradients_come_from_tensorflows_kernel_formulas(name, x, dtype, expected, why):
    xs = np.array([x], dtype)
    _, vjp_fn = vjp(getattr(A, name), xs)
    (dx,) = vjp_fn(np.array([0.36], dtype))
    np.testing.assert_allclose(dx, [expected], rtol=float(np.finfo(dtype).eps), atol=0, err_msg=why)


def test_relu_kernels_multiply_by_their_mask_as_tensorflow():
    # ReluGrad and Relu6Grad compute g * mask: an infinite upstream gradient gives NaN off the
    # linear piece (TF: relu_grad([inf] * 3, [-1, 0, 1]) = [nan, nan, inf]).
    x = np.array([-1.0, 0.0, 1.0, 6.0, 7.0])
    for fn, expected in ((A.relu, [np.nan, np.nan, np.inf, np.inf, np.inf]),
                         (A.relu6, [np.nan, np.nan, np.inf, np.nan, np.nan])):  # fmt: skip
        _, vjp_fn = vjp(fn, x)
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(vjp_fn(np.full(5, np.inf))[0], expected)


@pytest.mark.parametrize("name", ["relu6", "leaky_relu", "selu", "softplus", "softsign", "silu",
                                  "sigmoid", "tanh", "log_softmax"])  # fmt: skip
def test_rule_for_hands_layers_the_traced_rule(name):
    from reference.autodiff import rule_for

    x = np.random.default_rng(3).normal(size=(3, 4)) * 3
    dy = np.random.default_rng(4).normal(size=(3, 4))
    y, vjp_fn = vjp(getattr(A, name), x)
    np.testing.assert_array_equal(rule_for(getattr(A, name))(dy, y, x), vjp_fn(dy)[0])
