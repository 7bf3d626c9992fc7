"""NumPy-only tests of reference.regularizers: formulas against hand-written math, dtypes,
validation, config round trips, and that the penalties are plain, differentiable NumPy code."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from reference import regularizers as R
from reference.autodiff import vjp


def stable_id(value) -> str:
    """A test id without memory addresses, so pytest-xdist workers collect the same ids."""
    return re.sub(r" object at 0x[0-9a-f]+", "", str(value))


DTYPES = ("float32", "float64")
# The NumPy functions a GradientTape may meet inside a regularizer or constraint (the brief's list).
ALLOWED_FUNCTIONS = {
    np.add,
    np.subtract,
    np.multiply,
    np.divide,
    np.power,
    np.negative,
    np.absolute,
    np.square,
    np.sqrt,
    np.sum,
    np.mean,
    np.maximum,
    np.minimum,
    np.clip,
    np.where,
    np.matmul,
    np.transpose,
    np.swapaxes,
    np.reshape,
    np.greater,
    np.greater_equal,
    np.less,
    np.less_equal,
    np.equal,
    np.not_equal,
}


class StrictTracer(np.lib.mixins.NDArrayOperatorsMixin):
    """An array stand-in that only lets the allowed NumPy functions through and cannot be
    converted: proves that code works on a tape's tracked values without knowing the tape."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)

    @staticmethod
    def _unwrap(obj):
        if isinstance(obj, StrictTracer):
            return obj.value
        if isinstance(obj, (list, tuple)):
            return type(obj)(StrictTracer._unwrap(o) for o in obj)
        return obj

    def _check(self, func, kwargs) -> None:
        if func not in ALLOWED_FUNCTIONS:
            raise AssertionError(f"np.{func.__name__} is not in the allowed list")
        if "out" in kwargs:
            raise AssertionError(f"np.{func.__name__} was called with out=")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        assert method == "__call__", f"np.{ufunc.__name__}.{method} is not allowed"
        self._check(ufunc, kwargs)
        return StrictTracer(ufunc(*self._unwrap(inputs), **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        self._check(func, kwargs)
        return StrictTracer(func(*self._unwrap(args), **self._unwrap(kwargs)))

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("the argument was converted with np.asarray / np.array")

    def __float__(self):
        raise AssertionError("the argument was converted with float()")


def _weight(shape, dtype, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _f32(value: float) -> float:
    return float(np.float32(value))


# -- formulas, against independent hand-written math in float64 ------------------------------


def _orthogonal_by_hand(x: np.ndarray, factor: float, mode: str) -> float:
    vectors = x if mode == "rows" else x.T
    vectors = [v / np.linalg.norm(v) for v in vectors.astype(np.float64)]
    pairs = list(itertools.combinations(vectors, 2))
    return factor * sum(abs(float(u @ v)) for u, v in pairs) / len(pairs)


REGULARIZER_CASES = [
    (R.L1(), lambda x: _f32(0.01) * np.abs(x).sum()),
    (R.L1(0.3), lambda x: _f32(0.3) * np.abs(x).sum()),
    (R.L2(), lambda x: _f32(0.01) * (x**2).sum()),
    (R.L2(1.5), lambda x: 1.5 * (x**2).sum()),
    (R.L1L2(), lambda x: 0.0),
    (R.L1L2(0.2), lambda x: _f32(0.2) * np.abs(x).sum()),
    (R.L1L2(l2=0.4), lambda x: _f32(0.4) * (x**2).sum()),
    (R.L1L2(0.01, 0.02), lambda x: _f32(0.01) * np.abs(x).sum() + _f32(0.02) * (x**2).sum()),
    (R.OrthogonalRegularizer(), lambda x: _orthogonal_by_hand(x, _f32(0.01), "rows")),
    (
        R.OrthogonalRegularizer(0.3, "columns"),
        lambda x: _orthogonal_by_hand(x, _f32(0.3), "columns"),
    ),
    (
        R.OrthogonalRegularizer(np.float64(0.3)),
        lambda x: _orthogonal_by_hand(x, 0.3, "rows"),
    ),
]
CASE_IDS = [f"{type(r).__name__}-{r.get_config()}" for r, _ in REGULARIZER_CASES]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("regularizer", "by_hand"), REGULARIZER_CASES, ids=CASE_IDS)
def test_formula_and_dtype(regularizer, by_hand, dtype):
    x = _weight((5, 4), dtype)
    value = regularizer(x)
    assert np.ndim(value) == 0
    assert value.dtype == np.dtype(dtype)
    expected = by_hand(x.astype(np.float64))
    np.testing.assert_allclose(float(value), expected, rtol=1e-12 if dtype == "float64" else 2e-6)


@pytest.mark.parametrize("shape", [(7,), (3, 2, 4)])
@pytest.mark.parametrize("cls", [R.L1, R.L2, R.L1L2])
def test_elementwise_penalties_any_rank(cls, shape):
    x = _weight(shape, "float64", seed=3)
    regularizer = cls(0.5)
    flat = regularizer(x.reshape(-1))
    np.testing.assert_allclose(regularizer(x), flat, rtol=1e-14)


def test_no_half_factor_and_float32_rounded_factors():
    ones = np.ones(3)
    # Keras's docstring example: L2(2.)(ones((5, 5))) == 50, not 25.
    assert R.L2(2.0)(np.ones((5, 5))) == 50.0
    # Every factor reaches float64 weights through float32, as in Keras
    # (docs/keras-facts.md#fact-2-6) ...
    for regularizer in (R.L1(), R.L2(), R.L1L2(0.01), R.L1L2(l2=0.01)):
        assert regularizer(ones) == 3 * 0.009999999776482582 != 0.03
    # ... but only L1 (and OrthogonalRegularizer) report the rounded value in get_config().
    assert R.L2().get_config() == {"l2": 0.01}
    assert R.L1L2(0.01).get_config() == {"l1": 0.01, "l2": 0.0}


def test_l1l2_without_penalties_is_a_zero_of_the_input_dtype():
    value = R.L1L2()(np.full((2, 2), np.inf, dtype=np.float32))
    assert value == 0.0 and value.dtype == np.float32


def test_base_regularizer_is_zero():
    assert R.Regularizer()(np.ones(3)) == 0.0


def test_orthogonal_properties():
    q, _ = np.linalg.qr(_weight((6, 6), "float64"))
    assert R.OrthogonalRegularizer(1.0)(q) < 1e-14  # orthogonal rows: no penalty
    parallel = np.array([[1.0, 2.0], [2.0, 4.0], [-3.0, -6.0]])
    # Every pair of rows is (anti)parallel: the mean |cos| over pairs is 1, the penalty factor.
    np.testing.assert_allclose(R.OrthogonalRegularizer(0.25)(parallel), 0.25, rtol=1e-15)
    x = _weight((4, 3), "float64")
    np.testing.assert_allclose(
        R.OrthogonalRegularizer(0.2, "columns")(x), R.OrthogonalRegularizer(0.2)(x.T), rtol=1e-15
    )


def test_orthogonal_zero_row_and_single_row():
    x = _weight((4, 3), "float32")
    x[1] = 0.0  # normalize() caps 1/norm at 1/epsilon: the zero row stays zero
    value = R.OrthogonalRegularizer(1.0)(x)
    expected = _orthogonal_by_hand(np.delete(x, 1, axis=0), 1.0, "rows") * 3 / 6
    np.testing.assert_allclose(value, expected, rtol=2e-6)
    assert np.isnan(R.OrthogonalRegularizer()(np.ones((1, 3))))  # no pairs: 0 / 0, as Keras


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2)])
def test_orthogonal_rank_error(shape):
    with pytest.raises(ValueError, match=r"must have rank 2\. Received: inputs\.shape="):
        R.OrthogonalRegularizer()(np.ones(shape))


# -- the penalty is plain NumPy: strict tracer and the project's tape ---------------------------


@pytest.mark.parametrize(("regularizer", "by_hand"), REGULARIZER_CASES, ids=CASE_IDS)
def test_uses_only_allowed_numpy_functions(regularizer, by_hand):
    x = _weight((5, 4), "float32")
    traced = regularizer(StrictTracer(x))
    plain = regularizer(x)
    value = traced.value if isinstance(traced, StrictTracer) else traced
    np.testing.assert_array_equal(value, plain)


@pytest.mark.parametrize(("regularizer", "by_hand"), REGULARIZER_CASES, ids=CASE_IDS)
def test_gradient_matches_finite_differences(regularizer, by_hand):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4))
    _, vjp_fn = vjp(regularizer, x)
    (grad,) = vjp_fn(np.ones(()))  # L1L2() is a constant: zero gradient, zero difference
    direction = rng.normal(size=x.shape)
    h = 1e-6
    numeric = (regularizer(x + h * direction) - regularizer(x - h * direction)) / (2 * h)
    np.testing.assert_allclose(np.sum(grad * direction), numeric, rtol=1e-6)


def test_l1_l2_gradients_in_closed_form():
    x = _weight((3, 4), "float64")
    (g1,) = vjp(R.L1(0.5), x)[1](np.ones(()))
    (g2,) = vjp(R.L2(0.5), x)[1](np.ones(()))
    np.testing.assert_allclose(g1, 0.5 * np.sign(x), rtol=1e-15)
    np.testing.assert_allclose(g2, 2 * 0.5 * x, rtol=1e-15)


# -- validation --------------------------------------------------------------------------------

BAD_FACTORS = [-1, -0.5, float("nan"), float("inf"), "a", np.float32(0.1), np.int64(1), [0.1]]


@pytest.mark.parametrize("value", BAD_FACTORS, ids=repr)
@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (R.L1, "l1"),
        (R.L2, "l2"),
        (R.L1L2, "l1"),
        (R.L1L2, "l2"),
        (R.OrthogonalRegularizer, "factor"),
    ],
)
def test_invalid_factor(cls, name, value):
    message = (
        f"Invalid value for argument {name}: expected a non-negative float.Received: {name}={value}"
    )
    with pytest.raises(ValueError) as info:
        cls(**{name: value})
    assert str(info.value) == message


def test_none_factors_mean_defaults_except_orthogonal():
    assert R.L1(None).get_config() == {"l1": 0.009999999776482582}
    assert R.L2(None).get_config() == {"l2": 0.01}
    assert R.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    with pytest.raises(ValueError, match="Received: factor=None"):
        R.OrthogonalRegularizer(None)


def test_accepted_factor_types():
    assert R.L2(True).get_config() == {"l2": 1.0}
    assert R.L2(3).get_config() == {"l2": 3.0}
    assert R.L1(np.float64(0.2)).get_config() == {"l1": 0.20000000298023224}
    # np.float64 keeps its precision in OrthogonalRegularizer (a float64 tensor in Keras).
    assert R.OrthogonalRegularizer(np.float64(0.2)).get_config()["factor"] == 0.2
    assert R.OrthogonalRegularizer(0.2).get_config()["factor"] == 0.20000000298023224
    assert R.OrthogonalRegularizer(2).get_config()["factor"] == 2.0


def test_invalid_mode():
    with pytest.raises(ValueError) as info:
        R.OrthogonalRegularizer(mode="diag")
    assert str(info.value) == (
        'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
        "Received: mode=diag"
    )


# -- config, serialize, deserialize, get -------------------------------------------------------

SERIALIZED = [
    (R.L1(), {"l1": 0.009999999776482582}),
    (R.L2(), {"l2": 0.01}),
    (R.L1L2(), {"l1": 0.0, "l2": 0.0}),
    (R.L1L2(0.3, 0.1), {"l1": 0.3, "l2": 0.1}),
    (R.OrthogonalRegularizer(), {"factor": 0.009999999776482582, "mode": "rows"}),
    (R.OrthogonalRegularizer(0.3, "columns"), {"factor": 0.30000001192092896, "mode": "columns"}),
]


@pytest.mark.parametrize(("regularizer", "config"), SERIALIZED, ids=stable_id)
def test_config_and_serialize(regularizer, config):
    assert regularizer.get_config() == config
    assert all(type(v) in (float, str) for v in regularizer.get_config().values())
    serialized = R.serialize(regularizer)
    assert serialized == {
        "module": "keras.regularizers",
        "class_name": type(regularizer).__name__,
        "config": config,
        "registered_name": None,
    }
    for restored in (
        R.deserialize(serialized),
        R.get(serialized),
        type(regularizer).from_config(config),
    ):
        assert type(restored) is type(regularizer)
        assert restored.get_config() == config
    x = _weight((4, 3), "float64")
    assert R.deserialize(serialized)(x) == regularizer(x)


def test_base_regularizer_has_no_config():
    with pytest.raises(NotImplementedError, match="does not implement get_config"):
        R.serialize(R.Regularizer())


def test_serialize_passthrough_and_custom_class():
    assert R.serialize(None) is None
    assert R.serialize("l1") == "l1"

    class Scaled(R.Regularizer):
        def __init__(self, a: float = 1.0) -> None:
            self.a = a

        def __call__(self, x):
            return self.a * np.sum(x)

        def get_config(self):
            return {"a": np.float64(self.a)}

    serialized = R.serialize(Scaled(2.0))
    assert serialized == {
        "module": __name__,
        "class_name": "Scaled",
        "config": {"a": 2.0},
        "registered_name": "Scaled",
    }
    assert type(serialized["config"]["a"]) is float
    restored = R.deserialize(serialized, custom_objects={"Scaled": Scaled})
    assert isinstance(restored, Scaled) and restored.a == 2.0
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        R.deserialize(serialized)
    with pytest.raises(TypeError, match="Cannot deserialize object of type `Scaled`"):
        R.deserialize({**serialized, "module": None})
    with pytest.raises(TypeError, match="must implement the `get_config\\(\\)` method"):
        R.serialize(object())


NAMES = {
    "L1": R.L1,
    "l1": R.L1,
    "L2": R.L2,
    "l2": R.L2,
    "L1L2": R.L1L2,
    "l1l2": R.L1L2,
    "OrthogonalRegularizer": R.OrthogonalRegularizer,
    "orthogonal_regularizer": R.OrthogonalRegularizer,
    "Regularizer": R.Regularizer,
    "regularizer": R.Regularizer,
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_and_deserialize_by_name(name):
    assert set(R.ALL_OBJECTS_DICT) == set(NAMES)
    for obj in (R.get(name), R.deserialize(name), R.get({"class_name": name, "config": None})):
        assert type(obj) is NAMES[name]


def test_get_defaults_and_passthrough():
    assert R.get(None) is None and R.deserialize(None) is None
    assert R.get("l1").get_config() == {"l1": 0.009999999776482582}
    assert R.get("l1l2").get_config() == {"l1": 0.0, "l2": 0.0}
    assert type(R.get(R.L2)) is R.L2
    instance = R.L2(0.5)
    assert R.get(instance) is instance
    assert R.deserialize(instance) is instance

    def penalty(x):
        return np.sum(x)

    assert R.get(penalty) is penalty
    assert R.get({"class_name": "L2", "config": {"l2": 0.5}}).get_config() == {"l2": 0.5}
    assert R.get({"class_name": "L2"}).get_config() == {"l2": 0.01}
    assert R.deserialize({"class_name": "L2", "module": "anything"}).l2 == 0.01


def test_function_style_aliases():
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert R.orthogonal_regularizer is R.OrthogonalRegularizer


@pytest.mark.parametrize(
    "identifier", ["l1_l2", "L3", {"class_name": "Foo", "config": {}}, 3], ids=repr
)
def test_get_unknown_lists_the_choices(identifier):
    # "l1_l2" is Keras's function alias, but get() only knows snake_case class names ("l1l2").
    with pytest.raises(ValueError) as info:
        R.get(identifier)
    message = str(info.value)
    assert message.startswith(f"Could not interpret regularizer identifier: {identifier}")
    assert "L1L2, L2, OrthogonalRegularizer" in message and "l1l2" in message


def test_deserialize_errors():
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: L3"):
        R.deserialize("L3")
    with pytest.raises(ValueError, match="Unknown `config` as a `dict`"):
        R.deserialize({"config": {}})
    with pytest.raises(ValueError, match="Unknown `config` as a `dict`"):
        R.get({"config": {}})
