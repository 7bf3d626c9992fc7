"""Tests of reference.initializers: NumPy and SciPy only.

Expected values are written from the Keras formulas by hand (fans, limits, stddevs), never computed
with the module under test. Statistical tests use fixed seeds, so they are deterministic.
"""

import math
import pathlib
import random
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from reference import initializers as inits

# Std of N(0, 1) truncated to [-2, 2], from SciPy rather than the module's constant.
TRUNC_STD = stats.truncnorm(-2, 2).std()


def _uniform(limit, low=None):
    low = -limit if low is None else low
    return stats.uniform(low, limit - low)


def _trunc(std, mean=0.0):
    return stats.truncnorm(-2, 2, loc=mean, scale=std)


# (id, factory(seed), expected distribution as a function of the hand-computed (fan_in, fan_out)).
RANDOM_CASES = [
    (
        "RandomNormal",
        lambda s: inits.RandomNormal(0.3, 0.7, seed=s),
        lambda fi, fo: stats.norm(0.3, 0.7),
    ),
    (
        "RandomUniform",
        lambda s: inits.RandomUniform(-0.2, 0.6, seed=s),
        lambda fi, fo: _uniform(0.6, -0.2),
    ),
    (
        "TruncatedNormal",
        lambda s: inits.TruncatedNormal(0.1, 0.5, seed=s),
        lambda fi, fo: _trunc(0.5, 0.1),
    ),
    (
        "GlorotUniform",
        lambda s: inits.GlorotUniform(s),
        lambda fi, fo: _uniform(math.sqrt(6 / (fi + fo))),
    ),
    (
        "GlorotNormal",
        lambda s: inits.GlorotNormal(s),
        lambda fi, fo: _trunc(math.sqrt(2 / (fi + fo)) / TRUNC_STD),
    ),
    ("HeUniform", lambda s: inits.HeUniform(s), lambda fi, fo: _uniform(math.sqrt(6 / fi))),
    ("HeNormal", lambda s: inits.HeNormal(s), lambda fi, fo: _trunc(math.sqrt(2 / fi) / TRUNC_STD)),
    ("LecunUniform", lambda s: inits.LecunUniform(s), lambda fi, fo: _uniform(math.sqrt(3 / fi))),
    (
        "LecunNormal",
        lambda s: inits.LecunNormal(s),
        lambda fi, fo: _trunc(math.sqrt(1 / fi) / TRUNC_STD),
    ),
    (
        "VarianceScaling-default",
        lambda s: inits.VarianceScaling(seed=s),
        lambda fi, fo: _trunc(math.sqrt(1 / fi) / TRUNC_STD),
    ),
    (
        "VarianceScaling-fan_out-untruncated",
        lambda s: inits.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=s),
        lambda fi, fo: stats.norm(0.0, math.sqrt(3 / fo)),
    ),
    (
        "VarianceScaling-fan_avg-uniform",
        lambda s: inits.VarianceScaling(0.5, "fan_avg", "uniform", seed=s),
        lambda fi, fo: _uniform(math.sqrt(3 * 0.5 / ((fi + fo) / 2))),
    ),
    (
        "VarianceScaling-Normal-alias",
        lambda s: inits.VarianceScaling(2.0, "fan_in", "Normal", seed=s),
        lambda fi, fo: _trunc(math.sqrt(2 / fi) / TRUNC_STD),
    ),
]
RANDOM_PARAMS = [pytest.param(make, dist, id=name) for name, make, dist in RANDOM_CASES]
ALL_RANDOM_FACTORIES = [pytest.param(make, id=name) for name, make, _ in RANDOM_CASES] + [
    pytest.param(lambda s: inits.Orthogonal(1.5, seed=s), id="Orthogonal")
]
# 200k values each: a dense kernel and a 5x5 conv kernel, with fans computed by hand.
BIG_SHAPES = [
    pytest.param((400, 500), 400, 500, id="dense"),
    pytest.param((5, 5, 80, 100), 25 * 80, 25 * 100, id="conv2d"),
]
FLOAT_DTYPES = ["float16", "float32", "float64"]


@pytest.mark.parametrize(
    "shape, input_axes, output_axes, expected",
    [
        ((3, 3, 16, 32), None, None, (144, 288)),
        ((5, 8, 16), None, None, (40, 80)),
        ((2, 2, 2, 4, 6), None, None, (32, 48)),
        ((), None, None, (1, 1)),
        ((5,), None, None, (5, 5)),
        ((4, 7), None, None, (4, 7)),
        ((2, 3, 4, 5), (0, 1), (2, 3), (6, 20)),
        ((2, 3, 4, 5), (0, 1), None, (24, 30)),  # axes need both sides, else the rank rule
        ((4, 5), [-1], [0], (5, 4)),
        ((2, 3, 4, 5), (), (), (1, 1)),
        ([7, 9], None, None, (7, 9)),
    ],
)
def test_compute_fans(shape, input_axes, output_axes, expected):
    fans = inits.compute_fans(shape, input_axes, output_axes)
    assert fans == expected
    assert all(type(f) is int for f in fans)


@pytest.mark.parametrize("make", ALL_RANDOM_FACTORIES)
@pytest.mark.parametrize("shape", [(7, 3), (4, 5), (2, 3, 4), (3, 3, 2, 4)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_random_shape_and_dtype(make, shape, dtype):
    x = make(1)(shape, dtype=dtype)
    assert isinstance(x, np.ndarray)
    assert x.shape == shape and x.dtype == np.dtype(dtype)
    assert np.isfinite(x).all()


@pytest.mark.parametrize("make", [pytest.param(p.values[0], id=p.id) for p in RANDOM_PARAMS])
@pytest.mark.parametrize("shape", [(), (6,), (0, 3)])
def test_random_degenerate_shapes(make, shape):
    assert make(1)(shape).shape == shape


@pytest.mark.parametrize(
    "dtype, expected", [(None, "float32"), (float, "float32"), (np.float64, "float64")]
)
def test_dtype_standardization(dtype, expected):
    assert inits.GlorotUniform(1)((3, 4), dtype=dtype).dtype == np.dtype(expected)
    assert inits.Zeros()((3, 4), dtype=dtype).dtype == np.dtype(expected)


@pytest.mark.parametrize("make, dist", RANDOM_PARAMS)
@pytest.mark.parametrize("shape, fan_in, fan_out", BIG_SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_bounds(make, dist, shape, fan_in, fan_out, dtype):
    x = make(3)(shape, dtype=dtype).astype(np.float64)
    low, high = dist(fan_in, fan_out).support()
    # A float32 cast may round a value just inside the bound onto the next float: one ulp.
    slack = 0.0 if dtype == "float64" else np.finfo(np.float32).eps * max(abs(low), abs(high))
    assert x.min() >= low - slack and x.max() <= high + slack
    if np.isfinite(low):  # the bounds are tight, not just respected
        assert x.min() < low + 0.01 * (high - low) and x.max() > high - 0.01 * (high - low)


@pytest.mark.parametrize("make, dist", RANDOM_PARAMS)
@pytest.mark.parametrize("shape, fan_in, fan_out", BIG_SHAPES)
def test_random_distribution(make, dist, shape, fan_in, fan_out):
    expected = dist(fan_in, fan_out)
    x = make(1234)(shape, dtype="float64").ravel()
    assert stats.kstest(x, expected.cdf).pvalue > 1e-4
    np.testing.assert_allclose(x.var(), expected.var(), rtol=0.02)
    assert abs(x.mean() - expected.mean()) < 0.01 * expected.std()


@pytest.mark.parametrize(
    "shape, input_axes, output_axes, expected_fan_in",
    [
        ((40, 50, 100), (0,), (1, 2), 40),
        ((40, 50, 100), (0, 1), (2,), 2000),
        ((40, 50, 100), None, (0,), 2000),
    ],
)
def test_variance_scaling_explicit_axes(shape, input_axes, output_axes, expected_fan_in):
    init = inits.VarianceScaling(2.0, "fan_in", "uniform", 5, input_axes, output_axes)
    x = init(shape, dtype="float64")
    limit = math.sqrt(6 / expected_fan_in)
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.99 * limit


@pytest.mark.parametrize("make", ALL_RANDOM_FACTORIES)
@pytest.mark.parametrize("seed", [None, 7])
def test_same_instance_repeats(make, seed):
    init = make(seed)
    np.testing.assert_array_equal(init((4, 5)), init((4, 5)))


@pytest.mark.parametrize("make", ALL_RANDOM_FACTORIES)
def test_seed_semantics(make):
    shape = (4, 5)
    np.testing.assert_array_equal(make(7)(shape), make(7)(shape))
    np.testing.assert_array_equal(make(7)(shape), make(7).clone()(shape))
    assert not np.array_equal(make(7)(shape), make(8)(shape))
    assert not np.array_equal(make(None)(shape), make(None)(shape))


@pytest.mark.parametrize("make", ALL_RANDOM_FACTORIES)
def test_unseeded_seed_comes_from_python_random(make):
    state = random.getstate()
    try:
        random.seed(123)
        first = make(None)((4, 5))
        random.seed(123)
        second = make(None)((4, 5))
    finally:
        random.setstate(state)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("seed, same_as", [(5 + 2**31 - 2, 5), (-3, 2**31 - 2 - 3)])
def test_seed_is_reduced_like_keras(seed, same_as):
    # Keras's TF backend uses floormod(seed, 2**31 - 2), so these seeds give identical draws.
    for make in (inits.RandomUniform, inits.RandomNormal, inits.TruncatedNormal):
        np.testing.assert_array_equal(make(seed=seed)((9,)), make(seed=same_as)((9,)))


@pytest.mark.parametrize("seed", [1.5, "a", True, np.int64(3), {"seed": 1}])
def test_invalid_seed(seed):
    with pytest.raises(ValueError, match="`seed` argument should be"):
        inits.RandomNormal(seed=seed)


@pytest.mark.parametrize(
    "init, dtype, expected",
    [
        (inits.RandomUniform(-5, 5, seed=1), "int32", range(-5, 5)),
        (inits.RandomUniform(-5.7, 5.7, seed=1), "int64", range(-5, 5)),  # bounds truncate toward 0
        (inits.RandomUniform(0, 3, seed=2), "int32", range(0, 3)),
    ],
)
def test_random_uniform_integers(init, dtype, expected):
    x = init((2000,), dtype=dtype)
    assert x.dtype == np.dtype(dtype)
    assert set(x.tolist()) == set(expected)


@pytest.mark.parametrize(
    "init, dtype, error, match",
    [
        (inits.RandomUniform(seed=1), "int32", ValueError, "minval < maxval"),
        (inits.RandomUniform(-5, 5, seed=1), "uint32", ValueError, "dtype"),
        (inits.RandomUniform(-5, 5, seed=1), "int8", ValueError, "dtype"),
        (inits.RandomNormal(seed=1), "int32", TypeError, "normal"),
        (inits.TruncatedNormal(seed=1), "int64", TypeError, "normal"),
        (inits.GlorotNormal(seed=1), "int32", TypeError, "normal"),
        (inits.Orthogonal(seed=1), "int32", TypeError, "normal"),
        (inits.Identity(2.5), "int32", TypeError, "2.5"),
        (inits.Identity(), "int64", TypeError, "1.0"),  # even the default gain, as in Keras
    ],
)
def test_bad_dtype(init, dtype, error, match):
    with pytest.raises(error, match=match):
        init((3, 4), dtype=dtype)


@pytest.mark.parametrize("dtype, atol", [("float64", 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (4, 4), (3, 3, 4, 8), (2, 2, 3, 40)])
def test_orthogonal_is_orthogonal(shape, gain, dtype, atol):
    x = inits.Orthogonal(gain, seed=3)(shape, dtype=dtype)
    assert x.shape == shape and x.dtype == np.dtype(dtype)
    m = x.reshape(-1, shape[-1]).astype(np.float64)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=atol * gain**2)


@pytest.mark.parametrize("shape", [(3, 3), (6, 2), (2, 6)])
def test_orthogonal_sign_fix_makes_it_unbiased(shape):
    # Without q *= sign(diag(r)), LAPACK's QR makes x[0, 0] negative for almost every seed.
    corner = [inits.Orthogonal(seed=s)(shape, dtype="float64")[0, 0] for s in range(300)]
    assert abs(np.mean(corner)) < 0.15


@pytest.mark.parametrize(
    "init, shape, message",
    [
        (
            inits.Orthogonal(seed=1),
            (3,),
            r"at least two-dimensional\. Received: shape=\(3,\) of rank 1\.",
        ),
        (inits.Orthogonal(seed=1), (), r"Received: shape=\(\) of rank 0\."),
        (
            inits.Identity(),
            (3,),
            r"only be used for 2D matrices\. Received: shape=\(3,\) of rank 1\.",
        ),
        (inits.Identity(), (2, 2, 2), r"Received: shape=\(2, 2, 2\) of rank 3\."),
    ],
)
def test_rank_errors(init, shape, message):
    with pytest.raises(ValueError, match=message):
        init(shape)


@pytest.mark.parametrize(
    "init, shape, dtype, expected",
    [
        (inits.Zeros(), (2, 3), "float32", [[0, 0, 0], [0, 0, 0]]),
        (inits.Zeros(), (2,), "bool", [False, False]),
        (inits.Ones(), (2, 2), "int32", [[1, 1], [1, 1]]),
        (inits.Ones(), (3,), "float64", [1, 1, 1]),
        (inits.Constant(), (2,), "float32", [0, 0]),
        (inits.Constant(2.5), (2, 2), "float64", [[2.5, 2.5], [2.5, 2.5]]),
        (inits.Constant(3.7), (3,), "int32", [3, 3, 3]),
        (inits.Constant([1, 2]), (3, 2), "float32", [[1, 2], [1, 2], [1, 2]]),
        (inits.Identity(), (2, 2), "float32", [[1, 0], [0, 1]]),
        (inits.Identity(2.0), (2, 3), "float64", [[2, 0, 0], [0, 2, 0]]),
        (inits.Identity(3), (3, 2), "int32", [[3, 0], [0, 3], [0, 0]]),
        (inits.Identity(np.float32(2.0)), (2, 2), "int32", [[2, 0], [0, 2]]),
    ],
)
def test_deterministic_values(init, shape, dtype, expected):
    x = init(shape, dtype=dtype)
    assert x.dtype == np.dtype(dtype) and x.shape == shape
    np.testing.assert_array_equal(x, np.array(expected, dtype=dtype))


def test_base_initializer_call_is_abstract():
    with pytest.raises(NotImplementedError, match="must implement"):
        inits.Initializer()((2,))


# Every name keras.initializers.get resolves in Keras 3.15.1, less STFT / stft / STFTInitializer.
KERAS_ALIASES = {
    "Constant": "Constant", "constant": "Constant",
    "GlorotNormal": "GlorotNormal", "glorot_normal": "GlorotNormal",
    "GlorotUniform": "GlorotUniform", "glorot_uniform": "GlorotUniform",
    "HeNormal": "HeNormal", "he_normal": "HeNormal",
    "HeUniform": "HeUniform", "he_uniform": "HeUniform",
    "Identity": "Identity", "identity": "Identity", "IdentityInitializer": "Identity",
    "Initializer": "Initializer", "initializer": "Initializer",
    "LecunNormal": "LecunNormal", "lecun_normal": "LecunNormal",
    "LecunUniform": "LecunUniform", "lecun_uniform": "LecunUniform",
    "Ones": "Ones", "ones": "Ones", "one": "Ones",
    "Orthogonal": "Orthogonal", "orthogonal": "Orthogonal", "OrthogonalInitializer": "Orthogonal",
    "RandomNormal": "RandomNormal", "random_normal": "RandomNormal", "normal": "RandomNormal",
    "RandomUniform": "RandomUniform", "random_uniform": "RandomUniform", "uniform": "RandomUniform",
    "TruncatedNormal": "TruncatedNormal", "truncated_normal": "TruncatedNormal",
    "VarianceScaling": "VarianceScaling", "variance_scaling": "VarianceScaling",
    "Zeros": "Zeros", "zeros": "Zeros", "zero": "Zeros",
}  # fmt: skip


def test_alias_table_is_keras_table():
    assert {k: v.__name__ for k, v in inits._ALIASES.items()} == KERAS_ALIASES


@pytest.mark.parametrize("name, class_name", KERAS_ALIASES.items())
def test_get_and_round_trip(name, class_name):
    init = inits.get(name)
    assert type(init).__name__ == class_name
    assert inits.get(name) is not init  # a fresh instance per lookup
    serialized = inits.serialize(init)
    assert serialized == {
        "module": "keras.initializers",
        "class_name": class_name,
        "config": init.get_config(),
        "registered_name": None,
    }
    for restored in (inits.deserialize(serialized), inits.get(serialized)):
        assert type(restored) is type(init)
        assert restored.get_config() == init.get_config()


@pytest.mark.parametrize(
    "init, config",
    [
        (inits.Zeros(), {}),
        (inits.Identity(gain=0.5), {}),  # Keras's Identity does not serialize its gain
        (inits.Constant(2), {"value": 2}),
        (inits.Constant(np.float32(2.5)), {"value": 2.5}),
        (
            inits.Constant(np.array([1.0, 2.0], dtype="float32")),
            {
                "value": {
                    "class_name": "__numpy__",
                    "config": {"value": [1.0, 2.0], "dtype": "float32"},
                }
            },
        ),
        (inits.GlorotUniform(), {"seed": None, "input_axes": None, "output_axes": None}),
        (inits.HeNormal(3, (0,), (1,)), {"seed": 3, "input_axes": (0,), "output_axes": (1,)}),
        (
            inits.VarianceScaling(seed=3, distribution="Normal"),
            {
                "seed": 3,
                "scale": 1.0,
                "mode": "fan_in",
                "distribution": "truncated_normal",
                "input_axes": None,
                "output_axes": None,
            },
        ),
        (inits.RandomUniform(), {"seed": None, "minval": -0.05, "maxval": 0.05}),
        (inits.RandomNormal(np.float32(1.5), seed=3), {"seed": 3, "mean": 1.5, "stddev": 0.05}),
        (inits.TruncatedNormal(stddev=2.0), {"seed": None, "mean": 0.0, "stddev": 2.0}),
        (inits.Orthogonal(), {"seed": None, "gain": 1.0}),
    ],
)
def test_serialize_config(init, config):
    serialized = inits.serialize(init)
    assert serialized == {
        "module": "keras.initializers",
        "class_name": type(init).__name__,
        "config": config,
        "registered_name": None,
    }
    assert all(type(v) is not np.float32 for v in serialized["config"].values())


@pytest.mark.parametrize(
    "init",
    [
        inits.Constant(np.array([[1, 2]], dtype="int32")),
        inits.Constant(1.5),
        inits.RandomNormal(0.5, 2.0, 9),
    ],
)
def test_deserialize_restores_values(init):
    restored = inits.deserialize(inits.serialize(init))
    x, y = init((2, 2), dtype="float64"), restored((2, 2), dtype="float64")
    np.testing.assert_array_equal(x, y)


def test_serialize_passthrough_and_custom():
    class Custom(inits.Initializer):
        def __call__(self, shape, dtype=None):
            return np.zeros(shape)

    assert inits.serialize(None) is None and inits.serialize("zeros") == "zeros"
    assert inits.serialize(Custom()) == {
        "module": __name__,  # as Keras: the class's own module
        "class_name": "Custom",
        "config": {},
        "registered_name": "Custom",
    }
    with pytest.raises(ValueError, match="Expected an Initializer"):
        inits.serialize(object())


def test_get_identifier_forms():
    assert inits.get(None) is None
    init = inits.RandomNormal(seed=1)
    assert inits.get(init) is init and inits.deserialize(init) is init
    assert type(inits.get(inits.HeUniform)) is inits.HeUniform

    def fn(shape, dtype=None):
        return np.full(shape, 4.0)

    assert inits.get(fn) is fn
    assert inits.get({"class_name": "Constant", "config": {"value": 2.0}}).value == 2.0
    assert type(inits.get({"class_name": "ones"})) is inits.Ones
    assert (
        inits.get("constant").value == 0.0
    )  # Keras raises KeyError: 'value' (deliberate difference)


def test_get_array_identifier():
    array = np.arange(6.0).reshape(2, 3)
    fn = inits.get(array)
    x = fn((2, 3), dtype="int32")
    assert x.dtype == np.int32
    np.testing.assert_array_equal(x, [[0, 1, 2], [3, 4, 5]])
    with pytest.raises(ValueError, match=r"Expected `shape` to be \(2, 3\)"):
        fn((3, 2))


@pytest.mark.parametrize("identifier", ["nope", {"class_name": "nope", "config": {}}, "STFT"])
def test_unknown_name_lists_choices(identifier):
    with pytest.raises(ValueError, match="Could not interpret initializer identifier") as info:
        inits.get(identifier)
    message = str(info.value)
    assert repr(identifier if isinstance(identifier, str) else identifier["class_name"]) in message
    assert all(name in message for name in KERAS_ALIASES)


@pytest.mark.parametrize(
    "identifier, error, match",
    [
        (3, ValueError, "Could not interpret initializer identifier: 3"),
        ({"config": {}}, ValueError, "Unknown `config` as a `dict`"),
        ({"class_name": "RandomNormal", "config": {"foo": 1}}, TypeError, "foo"),
    ],
)
def test_get_bad_identifier(identifier, error, match):
    with pytest.raises(error, match=match):
        inits.get(identifier)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": 0}, r"Argument `scale` must be positive float\. Received: scale=0$"),
        ({"scale": -1.5}, r"Received: scale=-1\.5$"),
        ({"mode": "fan_sum"}, r"Invalid `mode` argument: fan_sum\. Please use one of \{"),
        ({"distribution": "Cauchy"}, r"Invalid `distribution` argument: cauchy\.Please use one of"),
    ],
)
def test_variance_scaling_bad_args(kwargs, message):
    with pytest.raises(ValueError, match=message):
        inits.VarianceScaling(**kwargs)


def test_import_does_not_load_tensorflow_or_keras():
    root = pathlib.Path(__file__).resolve().parents[1]
    code = (
        "import sys; import reference.initializers; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
