# ruff: noqa: UP008
"""The TF twins (`tf_layers`): API, configs, errors, activations, and hygiene against Keras 3.

Numerical parity of the twins with stock Keras (the "TF twin == stock Keras" oracle) is part of
the case table (`cases.py`, oracle 'twin-keras') and the harness decides it, like every other
comparison; this file keeps what is not a layer-call comparison: signatures, configs, losses,
errors, the activation functions at their kinks, a `fit` in a model, and import hygiene. Where
it compares numbers it asks the harness's verdict (`compare_tensors`).
"""

import ast
import dataclasses
import difflib
import inspect
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

import tf_layers
from parity_tests.cases import CASES, TWIN_ACTIVATIONS, oracles_of
from parity_tests.harness import compare_tensors, floatx
from tf_layers import activations as twin_activations
from tf_layers import examples

DTYPES = ("float32", "float64")
TF_LAYERS_DIR = pathlib.Path(tf_layers.__file__).parent
TWIN_CASES = [c for c in CASES if "twin-keras" in oracles_of(c)]


def _random_weights(layer, rng):
    # Variances must be positive; everything else is a plain normal draw, never the initializer's
    # ones/zeros, which would hide a swapped gamma/beta or mean/variance.
    return [
        rng.uniform(0.5, 2.0, w.shape) if w.name.endswith("variance") else rng.normal(size=w.shape)
        for w in layer.weights
    ]


def _assert_same(name, twin, stock, dtype, truth=None):
    row = compare_tensors(name, np.asarray(twin), np.asarray(stock), dtype, truth)
    assert row.ok, f"{name}: {row}"


def test_every_twin_activation_has_a_parity_row():
    assert sorted(TWIN_ACTIVATIONS) == sorted(set(twin_activations.ACTIVATIONS) - {"threshold"})
    assert {c.config.get("activation") for c in TWIN_CASES} >= set(TWIN_ACTIVATIONS)


@pytest.mark.parametrize("case", TWIN_CASES, ids=lambda c: c.id)
def test_output_shape_and_symbolic_call(case):
    twin = getattr(tf_layers, case.layer)(**case.config)
    stock = getattr(keras.layers, case.layer)(**case.config)
    shape = (None, *case.input_shape[1:])
    assert twin.compute_output_shape(shape) == stock.compute_output_shape(shape)
    # A concrete batch size: BatchNormalization(axis=0) makes weights of the batch's size.
    inputs = keras.Input(case.input_shape[1:], batch_size=case.input_shape[0])
    assert twin(inputs).shape == stock(inputs).shape


def test_fit_in_a_model_matches_stock_keras():
    # The framework path: graph mode (tf.function), training=True from fit, an optimizer step;
    # in float64, where the harness's tight rule applies without a separate truth.
    def model(module):
        return keras.Sequential(
            [
                keras.Input((5,)),
                module.Dense(6, activation="relu"),
                module.BatchNormalization(momentum=0.9),
                module.Dense(3, activation="softmax"),
            ]
        )

    rng = np.random.default_rng(4)
    with floatx("float64"):
        twin, stock = model(tf_layers), model(keras.layers)
        twin.set_weights(_random_weights(twin, rng))
        stock.set_weights(twin.get_weights())
        x = rng.normal(1.0, 2.0, (16, 5))
        y = keras.utils.to_categorical(rng.integers(0, 3, 16), 3).astype("float64")
        for m in (twin, stock):
            m.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy", jit_compile=False)
            m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        for w_twin, w_stock in zip(twin.weights, stock.weights, strict=True):
            _assert_same(f"fit weights[{w_twin.path}]", w_twin.numpy(), w_stock.numpy(), "float64")
        predict = twin.predict(x, verbose=0), stock.predict(x, verbose=0)
    _assert_same("fit predict", *predict, "float64")


# ---- API: signatures and configs -------------------------------------------------------------


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("method", ["__init__", "build", "call", "compute_output_shape"])
@pytest.mark.parametrize("name", ["Dense", "BatchNormalization", "Activation"])
def test_signatures_match_keras(name, method):
    assert _params(getattr(getattr(tf_layers, name), method)) == _params(
        getattr(getattr(keras.layers, name), method)
    )


def test_activation_signatures_match_keras():
    for name, fn in twin_activations.ACTIVATIONS.items():
        assert _params(fn) == _params(keras.activations.get(name)), name
        assert fn.__name__ == keras.activations.get(name).__name__, name


def test_activation_names_match_keras():
    from keras.src.activations import ALL_OBJECTS_DICT

    assert sorted(twin_activations.ACTIVATIONS) == sorted(ALL_OBJECTS_DICT)


@keras.utils.register_keras_serializable(package="tf_twins_test")
def my_activation(x):
    return 2.0 * x


CONFIG_CASES = [
    ("Dense", dict(units=3)),
    ("Dense", dict(units=3, activation="swish", use_bias=False)),
    (
        "Dense",
        dict(
            units=3,
            activation=keras.activations.relu,
            kernel_initializer=keras.initializers.HeNormal(seed=3),
            bias_initializer="ones",
            kernel_regularizer=keras.regularizers.L2(0.1),
            bias_regularizer="l1",
            activity_regularizer="l2",
            kernel_constraint="non_neg",
            bias_constraint=keras.constraints.MaxNorm(2.0),
        ),
    ),
    ("BatchNormalization", dict()),
    (
        "BatchNormalization",
        dict(
            axis=1,
            momentum=0.9,
            epsilon=1e-2,
            center=False,
            gamma_regularizer="l2",
            beta_regularizer="l1",
            gamma_constraint="non_neg",
            moving_variance_initializer="random_uniform",
            synchronized=True,
        ),
    ),
    ("BatchNormalization", dict(scale=False, beta_regularizer="l2", trainable=False)),
    ("Activation", dict(activation="gelu")),
    ("Activation", dict(activation="hard_swish")),
    ("Activation", dict(activation=None)),
    ("Activation", dict(activation=my_activation)),
    ("Activation", dict(activation=keras.activations.softmax)),
]


@pytest.mark.parametrize(
    "name,kwargs", CONFIG_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIG_CASES)]
)
def test_config_and_losses_match_keras(name, kwargs):
    twin = getattr(tf_layers, name)(**kwargs, name="layer")
    stock = getattr(keras.layers, name)(**kwargs, name="layer")
    config = twin.get_config()
    assert config == stock.get_config()
    assert list(config) == list(stock.get_config())
    assert type(twin).from_config(config).get_config() == config
    assert type(stock).from_config(config).get_config() == config

    shape = (4, 3, 2)
    x = tf.constant(np.random.default_rng(1).normal(size=shape), dtype="float32")
    twin.build(shape)
    stock.build(shape)
    stock.set_weights(twin.get_weights())
    np.testing.assert_array_equal(twin(x), stock(x))
    assert len(twin.losses) == len(stock.losses)
    for loss_twin, loss_stock in zip(twin.losses, stock.losses, strict=True):
        np.testing.assert_allclose(loss_twin, loss_stock, rtol=1e-6)


def test_keras_builtin_callable_is_replaced_by_twin():
    assert twin_activations.get(keras.activations.relu) is twin_activations.relu
    assert twin_activations.get(None) is twin_activations.linear
    assert twin_activations.get("swish") is twin_activations.silu
    assert twin_activations.get({"class_name": "function", "config": "tanh"}) is (
        twin_activations.tanh
    )
    assert twin_activations.get(my_activation) is my_activation


# ---- activation functions, on points where the conventions at kinks matter ------------------

KINKS = [-6.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 3.0, 6.0, 14.0]

ACTIVATION_FN_CASES = [
    *[(name, {}) for name in sorted(twin_activations.ACTIVATIONS) if name != "threshold"],
    ("threshold", dict(threshold=0.5, default_value=-1.0)),
    *[
        ("relu", dict(negative_slope=s, max_value=m, threshold=t))
        for s in (0.0, 0.1)
        for m in (None, 6, 3.0)
        for t in (0.0, 0.5)
    ],
    ("leaky_relu", dict(negative_slope=0.3)),
    ("elu", dict(alpha=0.5)),
    ("celu", dict(alpha=2.0)),
    ("gelu", dict(approximate=True)),
    ("squareplus", dict(b=2)),
    ("soft_shrink", dict(threshold=1.0)),
    ("hard_shrink", dict(threshold=1.0)),
    ("glu", dict(axis=0)),
    ("softmax", dict(axis=0)),
    ("softmax", dict(axis=None)),
    ("softmax", dict(axis=(0, 1))),
    ("log_softmax", dict(axis=(0, 1))),
    ("sparsemax", dict(axis=0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name,kwargs", ACTIVATION_FN_CASES, ids=[f"{n}{k}" for n, k in ACTIVATION_FN_CASES]
)
def test_activation_function_matches_keras(name, kwargs, dtype):
    rng = np.random.default_rng(2)
    x64 = np.stack([KINKS, rng.normal(0.0, 4.0, len(KINKS))])
    g64 = rng.normal(size=(2, len(KINKS)))
    twin_fn, stock_fn = twin_activations.get(name), keras.activations.get(name)

    def run(d):  # outputs and input gradients of both, in dtype d, on the same values
        x, g = tf.constant(x64.astype(dtype), dtype=d), tf.constant(g64.astype(dtype), dtype=d)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y_twin, y_stock = twin_fn(x, **kwargs), stock_fn(x, **kwargs)
            gg = g[: y_stock.shape[0], : y_stock.shape[1]]  # glu halves an axis
            loss_twin, loss_stock = tf.reduce_sum(y_twin * gg), tf.reduce_sum(y_stock * gg)
        grads = tape.gradient(loss_twin, x), tape.gradient(loss_stock, x)
        assert hasattr(y_twin, "_keras_logits") == hasattr(y_stock, "_keras_logits")
        return (y_twin.numpy(), y_stock.numpy()), tuple(v.numpy() for v in grads)

    outputs, grads = run(dtype)
    truth = run("float64") if dtype != "float64" else (None, None)
    _assert_same("activation output", *outputs, dtype, truth[0])
    _assert_same("activation grads", *grads, dtype, truth[1])


# ---- bad input: same exception type and message as stock Keras -------------------------------


@dataclasses.dataclass(frozen=True)
class Bad:
    layer: str
    kwargs: dict
    first_call: tuple | None = None  # builds the layer
    second_call: tuple | None = None
    mask_shape: tuple | None = None
    twin_message_extends: str = ""  # the twin adds text after Keras's message, and why


BAD_CASES = [
    Bad("Dense", dict(units=0)),
    Bad("Dense", dict(units=-2)),
    Bad("Dense", dict(units=2.0)),
    Bad("Dense", dict(units=4, foo=1)),
    Bad("Dense", dict(units=4, trainable=1)),
    Bad("Dense", dict(units=4, name="a/b")),
    Bad("Dense", dict(units=4, name="my_dense"), (2, 3), (2, 5)),
    Bad("Dense", dict(units=4, name="my_dense"), (2, 3, 3), (2, 3, 5)),
    Bad("Dense", dict(units=4, name="my_dense"), (3,)),
    Bad("Dense", dict(units=3, name="my_dense", activation="glu"), (2, 3)),
    Bad(
        "Dense",
        dict(units=4, activation="nope"),
        twin_message_extends="the brief asks the twin to list the valid names",
    ),
    Bad("BatchNormalization", dict(name="bn"), (4, 3), (4, 5)),
    Bad("BatchNormalization", dict(name="bn"), (4, 3), (4, 2, 3)),
    Bad("BatchNormalization", dict(name="bn", axis=3), (4, 3)),
    Bad("BatchNormalization", dict(name="bn"), (4, 2, 3), mask_shape=(4, 2, 3)),
    Bad("BatchNormalization", dict(foo=1)),
    Bad("Activation", dict(activation="glu", name="act"), (2, 3)),
    Bad(
        "Activation",
        dict(activation="nope"),
        twin_message_extends="the brief asks the twin to list the valid names",
    ),
]


def _error_of(cls, bad: Bad):
    try:
        layer = cls(**bad.kwargs)
        for shape in (bad.first_call, bad.second_call):
            if shape is not None:
                call = {}
                if bad.mask_shape:
                    call["mask"] = tf.ones(bad.mask_shape, dtype=tf.bool)
                layer(tf.zeros(shape), **call)
    except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
        return type(e), str(e)
    return None, None


@pytest.mark.parametrize("bad", BAD_CASES, ids=lambda b: f"{b.layer}{b.kwargs}{b.first_call}")
def test_bad_input_raises_like_keras(bad):
    twin_type, twin_message = _error_of(getattr(tf_layers, bad.layer), bad)
    stock_type, stock_message = _error_of(getattr(keras.layers, bad.layer), bad)
    assert stock_type is not None, "the row must describe an input Keras rejects"
    assert twin_type is stock_type
    if bad.twin_message_extends:
        assert twin_message.startswith(stock_message.rstrip("."))
        assert len(twin_message) > len(stock_message)
    else:
        assert twin_message == stock_message


def test_dense_shape_error_names_the_layer():
    layer = tf_layers.Dense(4, name="my_dense")
    layer(tf.zeros((2, 3)))
    with pytest.raises(ValueError, match="of layer 'my_dense'.*expected axis -1 .* value 3"):
        layer(tf.zeros((2, 5)))


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="identifier: nope.*gelu.*relu.*softmax"):
        tf_layers.Dense(3, activation="nope")


@pytest.mark.parametrize(
    "make",
    [
        lambda: tf_layers.Dense(3, lora_rank=2),
        lambda: tf_layers.Dense(3, lora_alpha=2),
        lambda: tf_layers.Dense(3, quantization_config=object()),
        lambda: tf_layers.Dense(3, dtype="int8_from_float32"),
        lambda: tf_layers.BatchNormalization(renorm=True),
    ],
    ids=["lora_rank", "lora_alpha", "quantization_config", "quantized_policy", "renorm"],
)
def test_unsupported_keras_features_raise_not_implemented(make):
    with pytest.raises(NotImplementedError, match="keeps only the layer's math"):
        make()


def test_dense_kernel_before_build_raises_like_keras():
    for layer in (tf_layers.Dense(3), keras.layers.Dense(3)):
        with pytest.raises(AttributeError, match="You must build the layer"):
            layer.kernel  # noqa: B018


# ---- independence and import hygiene ---------------------------------------------------------


def _dotted_names(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name):
                yield ".".join([node.id, *reversed(parts)])
        elif isinstance(node, ast.ImportFrom):
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_twins_never_delegate_to_keras_math():
    # Names used in code (not in docstrings): no Keras math, no environment switches.
    forbidden = re.compile(
        r"^(tf\.)?keras\.(activations|ops|src|backend)\b"
        r"|^(tf\.)?keras\.layers\.(Dense|BatchNormalization|Activation)\b"
        r"|^keras\b(?!\.)|^os\.environ|^os\.putenv"
    )
    for path in sorted(TF_LAYERS_DIR.glob("*.py")):
        used = set(_dotted_names(ast.parse(path.read_text())))
        assert not {name for name in used if forbidden.search(name)}, path.name
    assert "keras.activations.relu" in set(_dotted_names(ast.parse("keras.activations.relu(x)")))


_ENV_PROBE = """
import json, os, sys
before = dict(os.environ)
import {module}
after = dict(os.environ)
print(json.dumps([
    sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)),
    "tf_keras" in sys.modules,
]))
"""


def test_import_sets_no_environment_variable_and_not_tf_keras():
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    root = str(TF_LAYERS_DIR.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    probes = {
        module: subprocess.Popen(
            [sys.executable, "-c", _ENV_PROBE.format(module=module)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for module in ("tf_layers", "tensorflow")
    }
    out = {
        module: p.communicate(timeout=120)[0].strip().splitlines()[-1]
        for module, p in probes.items()
    }
    # Whatever TensorFlow itself sets at import, tf_layers sets nothing more, and leaves the
    # oneDNN switch to whoever imports it.
    assert out["tf_layers"] == out["tensorflow"]
    assert "TF_ENABLE_ONEDNN_OPTS" not in out["tf_layers"]
    assert '"tf_keras"' not in out["tf_layers"] and out["tf_layers"].endswith("false]")


# ---- the seed tutorial ---------------------------------------------------------------------


# The tutorial's class exactly as published, against today's tf.keras (Keras 3).
# fmt: off
class MyDenseLayer(tf.keras.layers.Layer):
  def __init__(self, num_outputs):
    super(MyDenseLayer, self).__init__()
    self.num_outputs = num_outputs

  def build(self, input_shape):
    self.kernel = self.add_weight("kernel",
                                  shape=[int(input_shape[-1]),
                                         self.num_outputs])

  def call(self, inputs):
    return tf.matmul(inputs, self.kernel)
# fmt: on

KERAS3_ADD_WEIGHT_ERROR = (
    "`name` must be passed as a keyword argument. Received: add_weight('kernel', ...). "
    "Use: add_weight(shape=..., name='kernel')."
)


def test_verbatim_sources_are_verbatim():
    verbatim = examples.verbatim_tutorial_source
    assert inspect.getsource(MyDenseLayer) == verbatim
    assert textwrap.indent(verbatim, "    ") in inspect.getsource(examples)
    ported = inspect.getsource(examples.MyDenseLayer).splitlines()
    changed = [
        line
        for line in difflib.unified_diff(verbatim.splitlines(), ported, lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        '-    self.kernel = self.add_weight("kernel",',
        '+    self.kernel = self.add_weight(name="kernel",',
    ]


def test_verbatim_tutorial_fails_on_keras3():
    layer = MyDenseLayer(10)
    with pytest.raises(ValueError) as info:
        layer(tf.zeros([10, 5]))
    assert str(info.value) == KERAS3_ADD_WEIGHT_ERROR


def test_tutorial_keras3_port_equals_verbatim_keras2_and_dense():
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(10, 5)), dtype="float32")
    kernel = rng.normal(size=(5, 10)).astype("float32")
    ported = examples.MyDenseLayer(10)
    legacy = examples.make_keras2_tutorial_layer(10)
    dense = keras.layers.Dense(10, use_bias=False)
    for layer in (ported, legacy, dense):
        layer(x)
        layer.set_weights([kernel])
    assert type(legacy).__mro__[1].__module__.startswith("tf_keras")
    assert [w.name for w in ported.trainable_variables] == ["kernel"]
    assert re.fullmatch(r"my_dense_layer(_\d+)?/kernel:0", legacy.trainable_variables[0].name)
    np.testing.assert_array_equal(ported(x), legacy(x))
    np.testing.assert_array_equal(ported(x), dense(x))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_ported, y_legacy = ported(x), legacy(x)
    g = tf.constant(rng.normal(size=(10, 10)), dtype="float32")
    grads_ported = tape.gradient(y_ported, [x, ported.kernel], output_gradients=g)
    grads_legacy = tape.gradient(y_legacy, [x, legacy.kernel], output_gradients=g)
    for grad_ported, grad_legacy in zip(grads_ported, grads_legacy, strict=True):
        np.testing.assert_array_equal(grad_ported, grad_legacy)
