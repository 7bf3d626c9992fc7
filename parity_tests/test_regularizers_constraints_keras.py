"""Parity of reference.regularizers / reference.constraints with keras.regularizers /
keras.constraints: values per dtype, serialized dicts, constructor signatures, names and errors.

Tolerances: float64 rtol 1e-12 (any larger difference is a bug); float32 rtol 2e-6 with atol 1e-7
for elements that round to ~0 (TF's reduce_sum and NumPy's pairwise sum add in different orders).
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import inspect  # noqa: E402
import re
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras.src import constraints as keras_constraints_src  # noqa: E402
from keras.src import regularizers as keras_regularizers_src  # noqa: E402

from reference import constraints, regularizers  # noqa: E402


def stable_id(value) -> str:
    """A test id without memory addresses, so pytest-xdist workers collect the same ids."""
    return re.sub(r" object at 0x[0-9a-f]+", "", str(value))


DTYPES = ("float32", "float64")
TOLERANCE = {"float32": dict(rtol=2e-6, atol=1e-7), "float64": dict(rtol=1e-12, atol=0.0)}


@dataclass(frozen=True)
class Case:
    """One row: `module.name(**kwargs)` on a seeded normal weight of `shape` in each of `dtypes`."""

    module: str  # "regularizers" or "constraints"
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    shape: tuple[int, ...] = (5, 4)
    dtypes: tuple[str, ...] = DTYPES
    zero_first: bool = False  # zero the first row and column: exercises the epsilon guards

    def __str__(self) -> str:
        zero = "-zero" if self.zero_first else ""
        return f"{self.name}({self.kwargs}){list(self.shape)}{zero}"


R, C = "regularizers", "constraints"
CASES = [
    Case(R, "Regularizer"),
    Case(R, "L1"),
    Case(R, "L1", dict(l1=0.3), shape=(3, 2, 4)),
    Case(R, "L1", dict(l1=None), shape=(7,)),
    Case(R, "L2"),
    Case(R, "L2", dict(l2=1.5), shape=(3, 2, 4)),
    Case(R, "L1L2"),
    Case(R, "L1L2", dict(l1=0.2)),
    Case(R, "L1L2", dict(l2=0.4), shape=(6,)),
    Case(R, "L1L2", dict(l1=0.01, l2=0.02), shape=(2, 3, 4)),
    # Keras's OrthogonalRegularizer only runs when x has the factor's dtype: a Python float is
    # float32, np.float64 is float64 (test_orthogonal_dtype_mismatch below).
    Case(R, "OrthogonalRegularizer", dtypes=("float32",)),
    Case(R, "OrthogonalRegularizer", dict(factor=0.3, mode="columns"), dtypes=("float32",)),
    Case(R, "OrthogonalRegularizer", dict(factor=0.5), (6, 3), ("float32",), zero_first=True),
    Case(R, "OrthogonalRegularizer", dict(factor=np.float64(0.01)), dtypes=("float64",)),
    Case(
        R,
        "OrthogonalRegularizer",
        dict(factor=np.float64(0.3), mode="columns"),
        (3, 6),
        ("float64",),
    ),
    Case(R, "OrthogonalRegularizer", dict(factor=np.float64(0.5)), (6, 3), ("float64",), True),
    Case(C, "Constraint"),
    Case(C, "NonNeg"),
    Case(C, "NonNeg", shape=(2, 3, 4)),
    Case(C, "MaxNorm"),
    Case(C, "MaxNorm", dict(max_value=1.5, axis=1), zero_first=True),
    Case(C, "MaxNorm", dict(axis=-1), shape=(2, 6)),
    Case(C, "MaxNorm", dict(max_value=3, axis=[0, 1, 2]), shape=(3, 3, 2, 4)),
    Case(C, "MaxNorm", dict(axis=None)),
    Case(C, "MinMaxNorm"),
    Case(C, "MinMaxNorm", dict(min_value=1.9, max_value=2.1, rate=0.3, axis=1), shape=(5, 3)),
    Case(C, "MinMaxNorm", dict(min_value=2.0, max_value=4.0, axis=(0, 1)), shape=(2, 2, 3)),
    Case(C, "MinMaxNorm", dict(min_value=0.5, max_value=1.0), zero_first=True),
    Case(C, "UnitNorm"),
    Case(C, "UnitNorm", dict(axis=1), zero_first=True),
    Case(C, "UnitNorm", dict(axis=[0, 1, 2]), shape=(3, 3, 2, 4)),
]
VALUE_CASES = [(case, dtype) for case in CASES for dtype in case.dtypes]
# The base Regularizer has no get_config (both raise: test_base_regularizer_serialize).
SERIALIZE_CASES = [case for case in CASES if case.name != "Regularizer"]


def _modules(case: Case):
    if case.module == R:
        return regularizers, keras.regularizers
    return constraints, keras.constraints


def _build(case: Case):
    ours, theirs = _modules(case)
    return getattr(ours, case.name)(**case.kwargs), getattr(theirs, case.name)(**case.kwargs)


def _weight(case: Case, dtype: str) -> np.ndarray:
    w = np.random.default_rng(len(str(case))).normal(size=case.shape)
    if case.zero_first:
        w[0] = 0.0
        w[..., 0] = 0.0
    return w.astype(dtype)


@pytest.mark.parametrize(("case", "dtype"), VALUE_CASES, ids=stable_id)
def test_values_match_keras(case: Case, dtype: str):
    ours, theirs = _build(case)
    w = _weight(case, dtype)
    expected = theirs(tf.constant(w))
    actual = ours(w)
    expected = expected.numpy() if isinstance(expected, tf.Tensor) else np.asarray(expected)
    assert np.shape(actual) == expected.shape
    if expected.ndim or isinstance(actual, np.generic):  # Regularizer() returns a Python 0.0
        assert np.result_type(actual) == expected.dtype
    np.testing.assert_allclose(actual, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("case", SERIALIZE_CASES, ids=stable_id)
def test_serialize_matches_keras(case: Case):
    ours, theirs = _build(case)
    ours_module, theirs_module = _modules(case)
    serialized = ours_module.serialize(ours)
    expected = theirs_module.serialize(theirs)
    assert serialized == expected
    assert {k: type(v) for k, v in serialized["config"].items()} == {
        k: type(v) for k, v in expected["config"].items()
    }
    # Each side reads either dict back to the same config (not always the original one: a
    # np.float64 factor reads back as a Python float, which Keras rounds to float32).
    for config in (serialized, expected):
        restored = theirs_module.deserialize(config).get_config()
        assert ours_module.deserialize(config).get_config() == restored


def test_base_regularizer_serialize():
    with pytest.raises(NotImplementedError, match="does not implement get_config"):
        keras.regularizers.serialize(keras.regularizers.Regularizer())
    with pytest.raises(NotImplementedError, match="does not implement get_config"):
        regularizers.serialize(regularizers.Regularizer())


def _signature(obj) -> list[tuple[str, Any]]:
    return [(p.name, p.default) for p in inspect.signature(obj).parameters.values()]


SIGNATURES = [
    (module, name)
    for module, names in [
        (R, ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer"]),
        (C, ["Constraint", "NonNeg", "MaxNorm", "MinMaxNorm", "UnitNorm"]),
    ]
    for name in [*names, "get", "serialize", "deserialize"]
]


@pytest.mark.parametrize(("module", "name"), SIGNATURES, ids=stable_id)
def test_signature_matches_keras(module: str, name: str):
    ours, theirs = (
        (regularizers, keras.regularizers) if module == R else (constraints, keras.constraints)
    )
    assert _signature(getattr(ours, name)) == _signature(getattr(theirs, name))


@pytest.mark.parametrize(
    ("ours", "keras_module", "keras_src"),
    [
        (regularizers, keras.regularizers, keras_regularizers_src),
        (constraints, keras.constraints, keras_constraints_src),
    ],
    ids=[R, C],
)
def test_public_names_and_get_names_match_keras(ours, keras_module, keras_src):
    public = {n for n in dir(keras_module) if not n.startswith("_")}
    for name in public:
        assert hasattr(ours, name), name
        if inspect.isclass(getattr(keras_module, name)):
            # Function-style aliases (keras.regularizers.l1_l2) are the classes themselves.
            assert getattr(ours, name).__name__ == getattr(keras_module, name).__name__
    assert set(ours.ALL_OBJECTS_DICT) == set(keras_src.ALL_OBJECTS_DICT)
    for key, cls in keras_src.ALL_OBJECTS_DICT.items():
        ours_obj, theirs_obj = ours.get(key), keras_module.get(key)
        assert type(ours_obj).__name__ == type(theirs_obj).__name__ == cls.__name__
        if key.lower() != "regularizer":
            assert ours_obj.get_config() == theirs_obj.get_config()


@pytest.mark.parametrize(
    ("module", "identifier"),
    [(R, "l1_l2"), (R, "L3"), (R, 3), (C, "maxnorm"), (C, {"class_name": "Foo", "config": {}})],
    ids=stable_id,
)
def test_get_unknown_identifier_errors_like_keras(module: str, identifier):
    ours, theirs = (
        (regularizers, keras.regularizers) if module == R else (constraints, keras.constraints)
    )
    with pytest.raises(ValueError) as expected:
        theirs.get(identifier)
    with pytest.raises(ValueError) as actual:
        ours.get(identifier)
    # Same first sentence; the reference then lists the valid names.
    assert str(actual.value).startswith(str(expected.value))


BAD_ARGUMENTS = [
    ("L1", dict(l1=-1)),
    ("L1", dict(l1=float("nan"))),
    ("L2", dict(l2=float("inf"))),
    ("L2", dict(l2="a")),
    ("L1L2", dict(l2=np.float32(0.1))),
    ("L1L2", dict(l1=np.int64(1))),
    ("OrthogonalRegularizer", dict(factor=None)),
    ("OrthogonalRegularizer", dict(factor=-0.5)),
    ("OrthogonalRegularizer", dict(mode="diag")),
]


@pytest.mark.parametrize(("name", "kwargs"), BAD_ARGUMENTS, ids=stable_id)
def test_validation_errors_match_keras(name: str, kwargs: dict):
    with pytest.raises(ValueError) as expected:
        getattr(keras.regularizers, name)(**kwargs)
    with pytest.raises(ValueError) as actual:
        getattr(regularizers, name)(**kwargs)
    assert str(actual.value) == str(expected.value)


def test_orthogonal_rank_error_matches_keras():
    with pytest.raises(ValueError) as expected:
        keras.regularizers.OrthogonalRegularizer()(tf.ones((2, 2, 2)))
    with pytest.raises(ValueError) as actual:
        regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2), dtype=np.float32))
    assert str(actual.value) == str(expected.value)


def test_orthogonal_dtype_mismatch():
    """Keras fails when the factor's dtype is not x's; the reference casts the factor (documented
    difference). If Keras starts casting, this fails: move those rows into CASES."""
    w = np.random.default_rng(0).normal(size=(5, 4))
    with pytest.raises(tf.errors.InvalidArgumentError):
        keras.regularizers.OrthogonalRegularizer(0.3)(tf.constant(w))
    with pytest.raises(tf.errors.InvalidArgumentError):
        keras.regularizers.OrthogonalRegularizer(np.float64(0.3))(tf.constant(w, tf.float32))
    # The reference equals Keras run with the same (float32-rounded) factor in float64.
    rounded = np.float64(np.float32(0.3))
    expected = keras.regularizers.OrthogonalRegularizer(rounded)(tf.constant(w)).numpy()
    np.testing.assert_allclose(regularizers.OrthogonalRegularizer(0.3)(w), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["L1", "L2", "L1L2"])
def test_float32_rounded_factor_in_float64_matches_keras(name: str):
    # `ops.cast(0.01, "float64")` goes through a float32 tensor: float64 weights see 0.0099999998.
    ones = np.ones(3)
    kwargs = {"l1": 0.01} if name == "L1L2" else {}
    expected = getattr(keras.regularizers, name)(**kwargs)(tf.constant(ones)).numpy()
    assert expected == 3 * 0.009999999776482582
    assert getattr(regularizers, name)(**kwargs)(ones) == expected
