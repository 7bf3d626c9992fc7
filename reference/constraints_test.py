"""NumPy-only tests of reference.constraints: projections against hand-written math, dtypes,
config round trips, and that the projections are plain, differentiable NumPy code."""

from __future__ import annotations

import re

import numpy as np
import pytest

from reference import constraints as C
from reference.autodiff import vjp
from reference.regularizers_test import StrictTracer


def stable_id(value) -> str:
    """A test id without memory addresses, so pytest-xdist workers collect the same ids."""
    return re.sub(r" object at 0x[0-9a-f]+", "", str(value))


DTYPES = ("float32", "float64")
EPSILON = 1e-7


def _weight(shape, dtype, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _slice_norms(w: np.ndarray, axis) -> np.ndarray:
    """L2 norms over `axis`, broadcastable against w, via np.linalg.norm on a 2-D view."""
    w = w.astype(np.float64)
    axes = tuple(range(w.ndim)) if axis is None else np.atleast_1d(axis) % w.ndim
    axes = tuple(int(a) for a in axes)
    kept = [a for a in range(w.ndim) if a not in axes]
    matrix = np.transpose(w, axes + tuple(kept)).reshape(
        int(np.prod([w.shape[a] for a in axes])), -1
    )
    norms = np.linalg.norm(matrix, axis=0)
    shape = [1 if a in axes else w.shape[a] for a in range(w.ndim)]
    return norms.reshape(shape)


def _rescaled(w: np.ndarray, axis, desired) -> np.ndarray:
    norms = _slice_norms(w, axis)
    return w.astype(np.float64) * desired(norms) / (EPSILON + norms)


CONSTRAINT_CASES = [
    (C.Constraint(), (4, 3), lambda w: w),
    (C.NonNeg(), (4, 3), lambda w: np.where(w > 0, w, 0.0)),
    (C.MaxNorm(), (4, 3), lambda w: _rescaled(w, 0, lambda n: np.minimum(n, 2.0))),
    (C.MaxNorm(1.5, axis=1), (4, 3), lambda w: _rescaled(w, 1, lambda n: np.minimum(n, 1.5))),
    (C.MaxNorm(axis=-1), (2, 6), lambda w: _rescaled(w, -1, lambda n: np.minimum(n, 2.0))),
    (
        C.MaxNorm(3, axis=[0, 1, 2]),
        (3, 3, 2, 4),
        lambda w: _rescaled(w, (0, 1, 2), lambda n: np.minimum(n, 3.0)),
    ),
    (C.MaxNorm(axis=None), (4, 3), lambda w: _rescaled(w, None, lambda n: np.minimum(n, 2.0))),
    (C.UnitNorm(), (4, 3), lambda w: _rescaled(w, 0, lambda n: 1.0)),
    (C.UnitNorm(axis=(0, 1, 2)), (3, 3, 2, 4), lambda w: _rescaled(w, (0, 1, 2), lambda n: 1.0)),
    (C.MinMaxNorm(), (4, 3), lambda w: _rescaled(w, 0, lambda n: np.clip(n, 0.0, 1.0))),
    (
        C.MinMaxNorm(1.9, 2.1, 0.3, axis=1),
        (5, 3),
        lambda w: _rescaled(w, 1, lambda n: 0.3 * np.clip(n, 1.9, 2.1) + 0.7 * n),
    ),
    (
        C.MinMaxNorm(2.0, 4.0, axis=[0, 1]),
        (2, 2, 3),
        lambda w: _rescaled(w, (0, 1), lambda n: np.clip(n, 2.0, 4.0)),
    ),
]
CASE_IDS = [f"{type(c).__name__}-{c.get_config()}" for c, _, _ in CONSTRAINT_CASES]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("constraint", "shape", "by_hand"), CONSTRAINT_CASES, ids=CASE_IDS)
def test_formula_and_dtype(constraint, shape, by_hand, dtype):
    w = _weight(shape, dtype)
    out = constraint(w)
    assert out.shape == w.shape and out.dtype == np.dtype(dtype)
    tolerance = dict(rtol=1e-13, atol=0) if dtype == "float64" else dict(rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(out, by_hand(w.astype(np.float64)), **tolerance)


@pytest.mark.parametrize("dtype", DTYPES)
def test_norm_bounds_hold_after_projection(dtype):
    w = 3 * _weight((6, 5), dtype)
    w[:, 0] *= 1e-3  # one small column, which MaxNorm must leave alone
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert np.all(np.linalg.norm(C.MaxNorm(2.0)(w), axis=0) <= 2.0 * (1 + tol))
    np.testing.assert_allclose(C.MaxNorm(2.0)(w)[:, 0], w[:, 0], rtol=1e-4)
    norms = np.linalg.norm(w.astype(np.float64), axis=0)
    unit = np.linalg.norm(C.UnitNorm()(w), axis=0)
    np.testing.assert_allclose(unit, norms / (EPSILON + norms), rtol=tol * 10)  # 1 up to eps
    norms = np.linalg.norm(C.MinMaxNorm(1.0, 2.0)(w), axis=0)
    # A tiny column comes out at n / (eps + n) of the bound: 1 - 3e-5 for n = 3e-3.
    assert np.all((norms >= 1.0 - 1e-4) & (norms <= 2.0 * (1 + tol)))


def test_zero_slice_stays_zero_and_rate_zero_is_identity():
    w = _weight((4, 3), "float64")
    w[:, 1] = 0.0  # epsilon keeps 0 / 0 out of the rescaling
    for constraint in (C.MaxNorm(), C.UnitNorm(), C.MinMaxNorm(0.5, 1.0)):
        out = constraint(w)
        assert np.all(np.isfinite(out)) and np.all(out[:, 1] == 0.0)
    # rate=0 keeps the norm: w * n / (eps + n), within epsilon of w.
    np.testing.assert_allclose(C.MinMaxNorm(5.0, 6.0, rate=0.0)(w), w, rtol=1e-6)


def test_nonneg_keeps_dtype_and_nan():
    out = C.NonNeg()(np.array([-2.0, 0.0, 3.0, np.nan], dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0.0, 0.0, 3.0, np.nan])
    assert C.NonNeg()(np.array([-1, 2])).tolist() == [0, 2]


def test_numpy_scalar_bounds_do_not_promote_float32():
    w = _weight((3, 2), "float32")
    assert C.MaxNorm(np.float64(1.0))(w).dtype == np.float32
    assert C.MinMaxNorm(np.float64(0.5), np.float64(1.0), np.float64(0.5))(w).dtype == np.float32


# -- the projection is plain NumPy: strict tracer and the project's tape -----------------------


@pytest.mark.parametrize(("constraint", "shape", "by_hand"), CONSTRAINT_CASES, ids=CASE_IDS)
def test_uses_only_allowed_numpy_functions(constraint, shape, by_hand):
    w = _weight(shape, "float32")
    traced = constraint(StrictTracer(w))
    np.testing.assert_array_equal(traced.value, constraint(w))


@pytest.mark.parametrize(("constraint", "shape", "by_hand"), CONSTRAINT_CASES, ids=CASE_IDS)
def test_vjp_matches_finite_differences(constraint, shape, by_hand):
    rng = np.random.default_rng(2)
    w = rng.normal(size=shape)
    out, vjp_fn = vjp(constraint, w)
    cotangent = rng.normal(size=shape)
    direction = rng.normal(size=shape)
    (grad,) = vjp_fn(cotangent)
    h = 1e-6
    jvp = (constraint(w + h * direction) - constraint(w - h * direction)) / (2 * h)
    np.testing.assert_allclose(np.sum(grad * direction), np.sum(cotangent * jvp), rtol=1e-6)


# -- config, serialize, deserialize, get -------------------------------------------------------

SERIALIZED = [
    (C.Constraint(), {}),
    (C.NonNeg(), {}),
    (C.MaxNorm(), {"max_value": 2, "axis": 0}),
    (C.MaxNorm(np.float32(3), np.int64(1)), {"max_value": 3.0, "axis": 1}),
    (C.MinMaxNorm(), {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}),
    (
        C.MinMaxNorm(1, 2, 0.5, [0, 1]),
        {"min_value": 1, "max_value": 2, "rate": 0.5, "axis": [0, 1]},
    ),
    (C.UnitNorm(), {"axis": 0}),
    (C.UnitNorm((0, 1)), {"axis": (0, 1)}),
]


@pytest.mark.parametrize(("constraint", "config"), SERIALIZED, ids=stable_id)
def test_config_and_serialize(constraint, config):
    serialized = C.serialize(constraint)
    assert serialized == {
        "module": "keras.constraints",
        "class_name": type(constraint).__name__,
        "config": config,
        "registered_name": None,
    }
    # NumPy scalars become Python numbers; lists and tuples keep their type, as in Keras.
    for key, value in config.items():
        assert type(serialized["config"][key]) is type(value)
    w = _weight((4, 3), "float64")
    for restored in (
        C.deserialize(serialized),
        C.get(serialized),
        type(constraint).from_config(constraint.get_config()),
    ):
        assert type(restored) is type(constraint)
        assert restored.get_config() == constraint.get_config()
        np.testing.assert_array_equal(restored(w), constraint(w))


def test_serialize_passthrough_and_custom_class():
    assert C.serialize(None) is None
    assert C.serialize("non_neg") == "non_neg"

    class Clip(C.Constraint):
        def __init__(self, bound: float = 1.0) -> None:
            self.bound = bound

        def __call__(self, w):
            return np.clip(w, -self.bound, self.bound)

        def get_config(self):
            return {"bound": self.bound}

    serialized = C.serialize(Clip(0.5))
    assert serialized == {
        "module": __name__,
        "class_name": "Clip",
        "config": {"bound": 0.5},
        "registered_name": "Clip",
    }
    restored = C.deserialize(serialized, custom_objects={"Clip": Clip})
    assert isinstance(restored, Clip) and restored.bound == 0.5
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        C.deserialize(serialized)
    with pytest.raises(TypeError, match="Cannot deserialize object of type `Clip`"):
        C.deserialize({**serialized, "module": None})


NAMES = {
    "Constraint": C.Constraint,
    "constraint": C.Constraint,
    "MaxNorm": C.MaxNorm,
    "max_norm": C.MaxNorm,
    "MinMaxNorm": C.MinMaxNorm,
    "min_max_norm": C.MinMaxNorm,
    "NonNeg": C.NonNeg,
    "non_neg": C.NonNeg,
    "UnitNorm": C.UnitNorm,
    "unit_norm": C.UnitNorm,
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_and_deserialize_by_name(name):
    assert set(C.ALL_OBJECTS_DICT) == set(NAMES)
    for obj in (C.get(name), C.deserialize(name), C.get({"class_name": name})):
        assert type(obj) is NAMES[name]
        assert obj.get_config() == NAMES[name]().get_config()


def test_get_passthrough_and_aliases():
    assert C.get(None) is None and C.deserialize(None) is None
    assert type(C.get(C.UnitNorm)) is C.UnitNorm
    instance = C.MaxNorm(3)
    assert C.get(instance) is instance

    def clip(w):
        return np.clip(w, -1, 1)

    assert C.get(clip) is clip
    assert C.max_norm is C.MaxNorm and C.min_max_norm is C.MinMaxNorm
    assert C.non_neg is C.NonNeg and C.unit_norm is C.UnitNorm


@pytest.mark.parametrize("identifier", ["maxnorm", {"class_name": "Foo"}, 3], ids=repr)
def test_get_unknown_lists_the_choices(identifier):
    with pytest.raises(ValueError) as info:
        C.get(identifier)
    message = str(info.value)
    assert message.startswith(f"Could not interpret constraint identifier: {identifier}")
    assert "MaxNorm, MinMaxNorm, NonNeg, UnitNorm" in message and "max_norm" in message


def test_deserialize_errors():
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: maxnorm"):
        C.deserialize("maxnorm")
    with pytest.raises(ValueError, match="Unknown `config` as a `dict`"):
        C.deserialize({"config": {}})
