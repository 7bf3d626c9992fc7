"""Parity of reference.activations with keras.activations on TensorFlow: values and gradients.

Every row of ROWS runs in float16, float32 and float64 on the same seeded inputs (random points,
the kinks -3, -1, 0, 1, 3, 6, the softplus thresholds, tiny magnitudes +-1e-8 and +-1e-30,
subnormals, large magnitudes +-20, +-88, +-1e4, +-inf and NaN). Gradients are compared for a random
upstream gradient dy: TF's `tape.gradient(y, x, output_gradients=dy)` against the reference tape's
`vjp`. The criterion is |ref - tf| <= rtol * |tf| + atol (np.testing.assert_allclose: NaN where
TF has NaN, the same infinities) with

- rtol: float16 `ulps16` * eps16, float32 `ulps32` * eps32 (stated per row, from the measured
  error), float64 `rtol64`;
- atol: `atol` * eps for values and `gatol` * eps * max|dy| for gradients, only for
  rows whose formula cancels (each says why), plus a floor of 1e-37 (float32) that covers TF's
  flush-to-zero of denormals (docs/keras-facts.md#fact-6-1).

TF's CPU kernels also read subnormal float32/float64 inputs as zero (denormals-are-zero): at
x = 1e-40 in float32, relu's gradient is 0 in TF, as at x = 0. NumPy has no such mode, so the
reference is given the flushed input there (`_flush`); the points stay in the table to pin TF's
behaviour. float16 subnormals are not flushed: TF computes half activations in float32.

Piecewise-linear rows are EXACT: same bits as TF, values and gradients, kinks included.
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import inspect  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from keras.src import activations as keras_activations_src  # noqa: E402

from reference import activations  # noqa: E402
from reference.autodiff import vjp  # noqa: E402

DTYPES = [np.float16, np.float32, np.float64]
FLOOR = {np.float16: 1e-7, np.float32: 1e-37, np.float64: 1e-307}  # TF flushes denormals to 0
# TF also flushes subnormal intermediates: sigmoid(-88) = 6e-39 becomes 0, so x * sigmoid(x) is
# -0.0 in TF and -5.3e-37 in the reference (bounded by 88 * tiny32 = 1.04e-36).
FTZ_PRODUCT = dict(floor32=88 * float(np.finfo(np.float32).tiny))


@dataclass(frozen=True)
class Row:
    """`activations.<name>(x, **kwargs)` against `keras.activations.<name>(x, **kwargs)`."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    ulps32: float = 4.0  # float32 rtol in eps32 units (values and gradients)
    ulps16: float = 2.0  # float16 rtol in eps16 units (values and gradients)
    rtol64: float = 1e-12
    atol: float = 0.0  # values: in eps (absolute; the rows that cancel are O(1) there)
    gatol: float = 4.0  # gradients: in eps * max|dy|
    floor32: float = FLOOR[np.float32]  # float32 absolute floor, raised only with a reason
    shape: tuple | None = None  # None: the elementwise points; else random N(0, 3**2) of this shape
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in self.kwargs.items())})"


EXACT = dict(ulps32=0.0, rtol64=0.0, gatol=0.0)
# TF's backward kernels evaluate from the rounded forward output (EluGrad: (y + 1) dy, SigmoidGrad:
# y (1 - y) dy, TanhGrad: (1 - y**2) dy, Expm1: exp(x) dy): near saturation they agree with the
# tape's formula only to ~eps * |dy| absolute.
SATURATES = "backward kernel uses the rounded output (y + 1, y (1 - y), 1 - y**2)"

ROWS = [
    # relu's branch table (activations.py ReLU.static_call) and its relatives.
    Row("relu", **EXACT),
    Row("relu", dict(negative_slope=0.1), **EXACT, reason="the tf.nn.leaky_relu branch"),
    Row("relu", dict(max_value=3.0), **EXACT, reason="relu then clip: gradient 1 at 3"),
    Row("relu", dict(max_value=6), **EXACT, reason="the tf.nn.relu6 branch: gradient 0 at 6"),
    Row("relu", dict(max_value=0.1), **EXACT, reason="float64: clip at float32(0.1)"),
    Row("relu", dict(threshold=1.0), **EXACT),
    Row("relu", dict(threshold=0.1), **EXACT, reason="float64: compares with float32(0.1)"),
    Row("relu", dict(negative_slope=0.3, max_value=2.0), **EXACT),
    Row("relu", dict(negative_slope=0.1, max_value=6.0, threshold=1.0), **EXACT),
    Row("relu", dict(negative_slope=0.5, threshold=-1.0), **EXACT),
    Row("leaky_relu", **EXACT, reason="float64: slope float32(0.2), TF's op attribute"),
    Row("leaky_relu", dict(negative_slope=0.01), **EXACT),
    Row("relu6", **EXACT),
    Row("hard_sigmoid", **EXACT),
    Row("hard_silu", **EXACT),
    Row("hard_swish", **EXACT),
    Row("hard_tanh", **EXACT),
    Row("hard_shrink", **EXACT),
    Row("hard_shrink", dict(threshold=1.0), **EXACT),
    Row("soft_shrink", **EXACT),
    Row("soft_shrink", dict(threshold=1.0), **EXACT),
    Row("sparse_sigmoid", **EXACT),
    Row("sparse_plus", ulps32=1, rtol64=1e-15, gatol=0),
    Row("threshold", dict(threshold=0.5, default_value=-1.0), **EXACT),
    Row("linear", **EXACT),
    # exp-based: TF's Eigen exp differs from libm by an ulp, which exp(x) - 1 amplifies near 0-.
    Row("elu", ulps32=2, atol=2, reason="exp(x) - 1 near 0-: 1 ulp of exp; " + SATURATES),
    Row("elu", dict(alpha=0.5), ulps32=2, atol=2, reason="as elu"),
    Row("selu", ulps32=2, atol=2, reason="as elu"),
    Row("celu", ulps32=2, reason="Expm1Grad is exp(x) dy, the tape's (expm1(x) + 1) dy"),
    Row("celu", dict(alpha=2.0), ulps32=2, reason="as celu"),
    Row("exponential", ulps32=2, gatol=0),
    Row("softplus", ulps32=3, gatol=2, reason="TF's gradient is sigmoid(x) past the thresholds"),
    Row("log_sigmoid", ulps32=3, gatol=2, reason="as softplus"),
    Row("sigmoid", ulps32=4, reason="TF's float32 sigmoid is a rational approximation"),
    Row("tanh", ulps32=3, gatol=6, reason="TF's float32 tanh is a rational approximation"),
    Row("silu", ulps32=4, gatol=8, **FTZ_PRODUCT, reason="sigmoid's error, times x; FTZ at -88"),
    Row("swish", ulps32=4, gatol=8, **FTZ_PRODUCT, reason="as silu"),
    Row(
        "mish",
        ulps32=4,
        gatol=32,
        **FTZ_PRODUCT,
        reason="TanhGrad's 1 - y**2 near y = 1, times x; FTZ at -88",
    ),  # fmt: skip
    Row("softsign", ulps32=0, rtol64=0, reason="same division; SoftsignGrad has no cancellation"),
    Row("squareplus", ulps32=0, rtol64=0, reason="gradient 1 + x / sqrt(x**2 + b) cancels, x < 0"),
    Row("squareplus", dict(b=0.5), ulps32=0, rtol64=0, reason="as squareplus"),
    Row("tanh_shrink", ulps32=2, atol=4, reason="x - tanh(x) cancels near 0"),
    Row("gelu", ulps32=3, reason="erfc: Eigen vs SciPy; float64: constants float32-rounded"),
    Row("gelu", dict(approximate=False), ulps32=3, reason="as gelu"),
    Row(
        "gelu",
        dict(approximate=True),
        ulps32=4,
        atol=8,
        gatol=32,
        reason="1 + tanh cancels for x < 0; TF's float32 tanh is exactly -1 past -7.9",
    ),
    # Reductions along an axis: Eigen's summation order differs from NumPy's.
    Row("softmax", shape=(3, 4, 6), ulps32=4, reason="summation order"),
    Row("softmax", dict(axis=0), shape=(3, 4, 6), ulps32=4),
    Row("softmax", dict(axis=1), shape=(3, 4, 6), ulps32=4),
    Row("softmax", dict(axis=(1, 2)), shape=(3, 4, 6), ulps32=4),
    Row("softmax", dict(axis=None), shape=(3, 4, 6), ulps32=4),
    Row("softmax", shape=(7,), ulps32=4, reason="1-D input (Keras 2 raised)"),
    Row("log_softmax", shape=(3, 4, 6), ulps32=4),
    Row("log_softmax", dict(axis=0), shape=(3, 4, 6), ulps32=4),
    Row("log_softmax", dict(axis=(0, 2)), shape=(3, 4, 6), ulps32=4),
    Row("log_softmax", dict(axis=None), shape=(3, 4, 6), ulps32=4),
    Row("glu", shape=(3, 4, 6), ulps32=4),
    Row("glu", dict(axis=1), shape=(3, 4, 6), ulps32=4),
]

# Public names of keras.activations that are functions (not get/serialize/deserialize).
KERAS_NAMES = sorted(keras_activations_src.ALL_OBJECTS_DICT)


def _points(dtype) -> np.ndarray:
    rng = np.random.default_rng(0)
    kinks = [-3, -1, 0, 1, 3, 6, -0.5, 0.5, -2.5, 2.5, -0.01, 0.01]
    kinks += [0.1, 0.100000001]  # float64: either side of float32(0.1), TF's cast thresholds
    thresholds = [13.9, 14.0, -13.9, -14.0, 34.0, 35.0, -34.0, -35.0]  # softplus's, both dtypes
    large = [-100, -40, -20, 20, 40, 80, 88, -88, 1e4, -1e4]
    tiny = [1e-8, -1e-8, 1e-30, -1e-30, *SUBNORMALS[dtype]]
    special = [np.inf, -np.inf, np.nan]
    with np.errstate(over="ignore"):  # 1e4 is inf in float16
        return np.concatenate(
            [kinks, thresholds, large, tiny, special, rng.normal(size=200) * 4]
        ).astype(dtype)


SUBNORMALS = {
    np.float16: [6e-8, -6e-8, 3e-5, -3e-5],
    np.float32: [1e-40, -1e-40, 1.4e-45, -1.4e-45],
    np.float64: [1e-310, -1e-310, 5e-324, -5e-324],
}


def _flush(x: np.ndarray) -> np.ndarray:
    """Subnormals to (signed) zero, as TF's CPU kernels read float32/float64 inputs."""
    if x.dtype == np.float16:
        return x
    return np.where(np.abs(x) < np.finfo(x.dtype).tiny, x * 0, x)


def _input(row: Row, dtype) -> np.ndarray:
    if row.shape is None:
        return _points(dtype)
    return (np.random.default_rng(1).normal(size=row.shape) * 3).astype(dtype)


def _keras(row: Row, x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = getattr(keras.activations, row.name)(xt, **row.kwargs)
    return y.numpy(), tape.gradient(y, xt, output_gradients=tf.constant(dy)).numpy()


def _reference(row: Row, x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):  # inf - inf and friends, as in TF's kernels
        out, vjp_fn = vjp(lambda v: getattr(activations, row.name)(v, **row.kwargs), _flush(x))
        (dx,) = vjp_fn(dy)
    return out, dx


def _tolerances(row: Row, dtype) -> tuple[float, float]:
    eps = float(np.finfo(dtype).eps)
    rtol = {np.float16: row.ulps16 * eps, np.float32: row.ulps32 * eps}.get(dtype, row.rtol64)
    return rtol, eps


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("row", ROWS, ids=str)
def test_values_and_gradients_match_keras(row: Row, dtype) -> None:
    x = _input(row, dtype)
    out_shape = keras.activations.get(row.name)(tf.constant(x), **row.kwargs).shape
    dy = np.random.default_rng(2).normal(size=out_shape).astype(dtype)
    y_tf, dx_tf = _keras(row, x, dy)
    y_ref, dx_ref = _reference(row, x, dy)
    rtol, eps = _tolerances(row, dtype)
    assert y_ref.dtype == dtype and dx_ref.dtype == dtype
    floor = row.floor32 if dtype == np.float32 else FLOOR[dtype]
    np.testing.assert_allclose(
        y_ref, y_tf, rtol=rtol, atol=floor + row.atol * eps,
        err_msg=f"values of {row} ({row.reason})",
    )  # fmt: skip
    np.testing.assert_allclose(
        dx_ref, dx_tf, rtol=rtol, atol=floor + row.gatol * eps * np.max(np.abs(dy)),
        err_msg=f"gradients of {row} ({row.reason})",
    )  # fmt: skip


@pytest.mark.parametrize("row", [r for r in ROWS if r.shape is None], ids=str)
def test_float16_values_match_keras(row: Row) -> None:
    # TF computes half activations in float32 and rounds; the reference rounds each NumPy step.
    x = _input(row, np.float16)
    x = x[np.abs(x) < 10] if row.name == "exponential" else x
    y_tf = getattr(keras.activations, row.name)(tf.constant(x), **row.kwargs).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float16 overflow of unselected branches
        y_ref = getattr(activations, row.name)(x, **row.kwargs)
    assert y_ref.dtype == np.float16
    np.testing.assert_allclose(y_ref, y_tf, rtol=2 * float(np.finfo(np.float16).eps), atol=1e-7)


@pytest.mark.parametrize("row", [r for r in ROWS if r.shape is None], ids=str)
def test_nan_and_inf_propagate_as_in_keras(row: Row) -> None:
    x = np.array([np.nan, np.inf, -np.inf, 0.0], np.float32)
    y_tf = getattr(keras.activations, row.name)(tf.constant(x), **row.kwargs).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y_ref = getattr(activations, row.name)(x, **row.kwargs)
    np.testing.assert_array_equal(y_ref, y_tf)  # NaN == NaN here


def test_softmax_of_large_and_infinite_logits_matches_keras() -> None:
    # docs/keras-facts.md#fact-8-3: max-subtracted; a -inf entry is fine; an all -inf row is nan.
    x = np.array([[1000.0, 1001.0], [-np.inf, 0.0], [-np.inf, -np.inf]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # -inf - -inf
        for fn in ("softmax", "log_softmax"):
            y_tf = getattr(keras.activations, fn)(tf.constant(x)).numpy()
            y_ref = getattr(activations, fn)(x)
            np.testing.assert_allclose(y_ref, y_tf, rtol=2 * float(np.finfo(np.float32).eps))
    np.testing.assert_allclose(y_ref[0], [-1.3132616, -0.31326166], rtol=1e-7)


def test_sparsemax_matches_keras_when_the_support_has_one_element() -> None:
    # Keras's own tests only use inputs like these (gaps >= 1 between the largest logits).
    x = np.array([[1.0, 3.0, 0.5, -2.0], [0.0, 0.0, 1.0, -1.0], [2.0, 4.5, 1.0, 3.0]])
    for dtype in DTYPES:
        y_tf = keras.activations.sparsemax(tf.constant(x.astype(dtype))).numpy()
        np.testing.assert_array_equal(activations.sparsemax(x.astype(dtype)), y_tf)


def test_sparsemax_reproduces_keras_also_where_it_departs_from_the_paper() -> None:
    # Keras 3.15.1 divides the sum of the cumulative sums over the support (not the cumulative
    # sum at the support size) by k; the reference follows Keras, the specification.
    rng = np.random.default_rng(11)
    x = np.concatenate([[[0.5, 0.4, 0.3], [1.0, 1.0, 0.0], [0.2, 1.0, 0.9]],
                        rng.normal(size=(5, 3)) * 0.3])  # fmt: skip
    dy = rng.normal(size=x.shape)
    for dtype, rtol in (("float64", 1e-12), ("float32", 1e-6)):
        xt = tf.constant(x.astype(dtype))
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y_tf = keras.activations.sparsemax(xt)
        g_tf = tape.gradient(y_tf, xt, output_gradients=tf.constant(dy.astype(dtype)))
        y_ref, vjp_fn = vjp(activations.sparsemax, x.astype(dtype))
        np.testing.assert_allclose(y_ref, y_tf.numpy(), rtol=rtol, atol=rtol)
        np.testing.assert_allclose(vjp_fn(dy.astype(dtype))[0], g_tf.numpy(), rtol=rtol, atol=rtol)
    assert np.all(y_ref[:2] == 0)  # where the paper's sparsemax would keep several entries


def test_hard_sigmoid_keras2_differs_from_keras3() -> None:
    """tf_keras uses clip(0.2 x + 0.5, 0, 1); Keras 3 relu6(x + 3) / 6 (keras-facts.md#fact-6-2)."""
    x = np.array([-3.0, -2.75, -2.5, 0.0, 1.0, 2.5, 2.75, 3.0], np.float32)

    def value_and_gradient(fn) -> tuple[np.ndarray, np.ndarray]:
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = fn(xt)
        return y.numpy(), tape.gradient(y, xt).numpy()

    y2, g2 = value_and_gradient(tf_keras.activations.hard_sigmoid)
    y3, g3 = value_and_gradient(keras.activations.hard_sigmoid)
    y_ref, vjp_fn = vjp(activations.hard_sigmoid, x)
    (g_ref,) = vjp_fn(np.ones_like(x))
    np.testing.assert_allclose(y2, [0, 0, 0, 0.5, 0.7, 1, 1, 1], rtol=1e-7)
    np.testing.assert_allclose(g2, [0, 0, 0.2, 0.2, 0.2, 0.2, 0, 0], rtol=1e-7)  # ends inclusive
    s = 1 / 6
    np.testing.assert_allclose(y3, [0, s / 4, s / 2, 0.5, 4 * s, 5.5 * s, 5.75 * s, 1], rtol=1e-7)
    np.testing.assert_allclose(g3, [0, s, s, s, s, s, s, 0], rtol=1e-7)  # 0 at +-3
    np.testing.assert_array_equal(y_ref, y3)
    np.testing.assert_array_equal(g_ref, g3)


def test_every_keras_activation_has_a_row() -> None:
    assert {r.name for r in ROWS} | {"sparsemax"} == set(KERAS_NAMES)


def test_public_names_match_keras() -> None:
    keras_public = {n for n in dir(keras.activations) if not n.startswith("_")}
    assert set(activations.__all__) == keras_public


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_signature_matches_keras(name: str) -> None:
    ref = inspect.signature(getattr(activations, name)).parameters
    ker = inspect.signature(getattr(keras.activations, name)).parameters
    assert [(p.name, p.default, p.kind) for p in ref.values()] == [
        (p.name, p.default, p.kind) for p in ker.values()
    ]


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_get_and_serialize_match_keras(name: str) -> None:
    fn = activations.get(name)
    assert fn.__name__ == keras.activations.get(name).__name__
    assert activations.serialize(fn) == keras.activations.serialize(keras.activations.get(name))
    assert activations.deserialize(activations.serialize(fn)) is fn


def test_get_none_and_unknown_match_keras() -> None:
    assert activations.get(None) is activations.linear
    assert keras.activations.get(None) is keras.activations.linear
    for bad in ["foo", 3]:
        with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
            keras.activations.get(bad)
        with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
            activations.get(bad)


def _custom_activation(x):
    return x


def test_a_custom_function_serializes_like_keras() -> None:
    config = activations.serialize(_custom_activation)
    assert config == keras.activations.serialize(_custom_activation)
    custom = {"_custom_activation": _custom_activation}
    assert activations.deserialize(config, custom_objects=custom) is _custom_activation
    assert keras.activations.deserialize(config, custom_objects=custom) is _custom_activation


def test_errors_and_warnings_match_keras() -> None:
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError) as keras_error:
        keras.activations.glu(tf.constant(x))
    with pytest.raises(ValueError) as ref_error:
        activations.glu(x)
    assert str(ref_error.value) == str(keras_error.value)
    with pytest.warns(UserWarning) as keras_warning:
        keras.activations.softmax(tf.constant(x[:, :1]))
    with pytest.warns(UserWarning) as ref_warning:
        activations.softmax(x[:, :1])
    assert str(ref_warning[0].message) == str(keras_warning[0].message)
