"""Training parity with stock Keras: the same model, initial weights and batches, N steps of fit.

Each row builds one architecture in Keras and in the reference (the reference takes Keras's
initial weights with set_weights), compiles both with the same optimizer, loss and metrics, and
trains with `fit(shuffle=False)`: 4 epochs of 5 batches = 20 optimizer steps. Compared: every
weight (BatchNormalization's moving statistics included), every optimizer variable, the
history (loss, metrics, validation loss) and `evaluate`/`predict` afterwards.

Tolerances. float64 (set_floatx on both sides): rtol 1e-9 on weights and slots, 1e-9 on the
history -- the two differ only by summation order and by Keras's graph-mode softmax
cross-entropy (it reads the logits under a Softmax op; the reference takes the log of the
clipped probabilities), both ~1e-16 per step. float32: rtol = atol = 1e-5 (measured: weights
1.2e-6 of their largest magnitude, history 1.4e-7 relative): a few ulps per step, compounded
over 20 steps. The small CNN (Conv2D, MaxPooling2D, Conv2D "same", Flatten, Dense), measured:
float64 weights 3.9e-15 of their largest magnitude, history 3.3e-16; float32 2.4e-7 and 9.7e-8.

The float32 BatchNormalization row has no bias in the Dense before it: that bias's exact
gradient is 0 (BatchNormalization subtracts the batch mean), so in float32 both frameworks'
gradients for it are rounding noise (~1e-9) that Adam normalizes into steps of about +-lr: the
two biases end up unrelated (measured 2.0 relative) and drag moving_mean with them (2e-2). In
float64 that noise (~1e-17) stays far below Adam's epsilon, and the row with the bias passes at
1e-9.
"""

from __future__ import annotations

import contextlib
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import reference  # noqa: E402
from parity_tests.harness import floatx as harness_floatx  # noqa: E402
from reference import layers as rl  # noqa: E402

N, BATCH, EPOCHS = 50, 10, 4


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    # Measured: a Keras model trained after other Keras models were built in the same process
    # can differ from a fresh session's by ~1e-9 relative in float64 (the reference does not
    # move); clear_session isolates each row.
    keras.backend.clear_session()
    reference.naming._uids.clear()  # the same auto names (and so slot names) on both sides


@contextlib.contextmanager
def floatx(value):
    """floatx `value` on both sides for the block, and the dtype policy Keras derives from it at
    its first layer (harness.floatx restores both: set_floatx alone would leak the policy)."""
    with harness_floatx(value):
        yield value


def mlp(lib, dtype):
    L = keras.layers if lib is keras else rl
    inp = lib.Input((6,))
    h = L.Dense(16, activation="relu", dtype=dtype)(inp)
    h = L.Dense(16, activation="tanh", dtype=dtype)(h)
    return lib.Model(inp, L.Dense(3, activation="softmax", dtype=dtype)(h))


def bn_net(lib, dtype, use_bias=True):
    L = keras.layers if lib is keras else rl
    return lib.Sequential([lib.Input((6,)), L.Dense(8, use_bias=use_bias, dtype=dtype),
                           L.BatchNormalization(momentum=0.9, dtype=dtype),
                           L.Activation("relu", dtype=dtype), L.Dense(1, dtype=dtype)])  # fmt: skip


def bn_net_no_bias(lib, dtype):
    """bn_net without the bias before BatchNormalization (see the float32 note above)."""
    return bn_net(lib, dtype, use_bias=False)


def residual_two_outputs(lib, dtype):
    L = keras.layers if lib is keras else rl
    inp = lib.Input((6,))
    shared = L.Dense(6, activation="tanh", dtype=dtype)
    h = shared(shared(inp))  # a shared layer, called twice
    h = keras.layers.Add()([h, inp]) if lib is keras else h + inp  # residual connection
    out_a = L.Dense(1, dtype=dtype, name="reg")(h)
    out_b = L.Dense(3, activation="softmax", dtype=dtype, name="cls")(h)
    return lib.Model(inp, [out_a, out_b])


def small_cnn(lib, dtype):
    L = keras.layers if lib is keras else rl
    return lib.Sequential([lib.Input((8, 8, 2)),
                           L.Conv2D(4, 3, activation="relu", dtype=dtype),
                           L.MaxPooling2D(2, dtype=dtype),
                           L.Conv2D(3, 2, padding="same", activation="tanh", dtype=dtype),
                           L.Flatten(dtype=dtype),
                           L.Dense(3, activation="softmax", dtype=dtype)])  # fmt: skip


def _data(kind, rng, n=N):
    if kind == "images":
        return rng.standard_normal((n, 8, 8, 2)), rng.integers(0, 3, n)
    x = rng.standard_normal((n, 6))
    if kind == "classes":
        return x, rng.integers(0, 3, n)
    if kind == "regression":
        return x, rng.standard_normal((n, 1))
    return x, [rng.standard_normal((n, 1)), rng.integers(0, 3, n)]


# (builder, data kind, optimizer class and kwargs, compile kwargs). Every optimizer's N-step
# parity on fixed gradients is in test_optimizers_keras.py; these rows check the whole loop.
ROWS = [
    (mlp, "classes", ("Adam", {"learning_rate": 0.01}),
     dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])),
    (mlp, "classes", ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
     dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])),
    (bn_net, "regression", ("Adam", {"learning_rate": 0.01}), dict(loss="mse", metrics=["mae"])),
    (residual_two_outputs, "two", ("Adam", {"learning_rate": 0.01}),
     dict(loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.5, 2.0])),
    (small_cnn, "images", ("Adam", {"learning_rate": 0.01}),
     dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])),
]  # fmt: skip
ROW32_BN = (bn_net_no_bias, *ROWS[2][1:])
CASES = [(row, "float64") for row in ROWS] + [(ROWS[0], "float32"), (ROW32_BN, "float32"),
                                              (ROWS[4], "float32")]  # fmt: skip
TOL = {"float64": 1e-9, "float32": 1e-5}


def _pair(row, dtype):
    build, kind, (opt, opt_kw), compile_kw = row
    k_model, r_model = build(keras, dtype), build(reference, dtype)
    r_model.set_weights(k_model.get_weights())
    k_model.compile(optimizer=getattr(keras.optimizers, opt)(**opt_kw), **compile_kw)
    r_model.compile(optimizer=getattr(reference.optimizers, opt)(**opt_kw), **compile_kw)
    return k_model, r_model, kind


def _close(actual, desired, rtol, what):
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol, err_msg=what)


def _case_id(case) -> str:
    (build, _, (opt, opt_kw), _), dtype = case
    return f"{build.__name__}-{opt}-{'-'.join(opt_kw)}-{dtype}"


@pytest.mark.parametrize("row, dtype", CASES, ids=[_case_id(c) for c in CASES])
def test_fit_matches_keras(row, dtype):
    rtol = TOL[dtype]
    with floatx(dtype):
        k_model, r_model, kind = _pair(row, dtype)
        rng = np.random.default_rng(0)
        x, y = _data(kind, rng)
        val = _data(kind, rng, 20)
        fit = dict(batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0, validation_data=val)
        k_hist = k_model.fit(x, y, **fit).history
        r_hist = r_model.fit(x, y, **fit).history
        assert list(r_hist) == list(k_hist)  # every key, per-output losses included
        for key in r_hist:
            _close(r_hist[key], k_hist[key], rtol, key)
        for k, r in zip(k_model.weights, r_model.weights, strict=True):
            _close(r.numpy(), k.numpy(), rtol, k.path)
        k_vars, r_vars = k_model.optimizer.variables, r_model.optimizer.variables
        assert [v.name for v in r_vars] == [v.name for v in k_vars]
        for k, r in zip(k_vars, r_vars, strict=True):
            _close(r.numpy(), k.numpy(), rtol, k.path)
        k_eval = k_model.evaluate(*val, verbose=0, return_dict=True)
        r_eval = r_model.evaluate(*val, verbose=0, return_dict=True)
        _close(r_eval["loss"], k_eval["loss"], rtol, "evaluate")
        for k, r in zip(keras.tree.flatten(k_model.predict(val[0], verbose=0)),
                        reference.nest.flatten(r_model.predict(val[0])), strict=True):  # fmt: skip
            _close(r, k, rtol, "predict")


def test_train_and_test_on_batch_match_keras():
    with floatx("float64"):
        k_model, r_model, kind = _pair(ROWS[0], "float64")
        x, y = _data(kind, np.random.default_rng(1))
        for i in range(3):
            k = k_model.train_on_batch(x[i * 10 : i * 10 + 10], y[i * 10 : i * 10 + 10])
            r = r_model.train_on_batch(x[i * 10 : i * 10 + 10], y[i * 10 : i * 10 + 10])
            _close(r, k, 1e-9, f"train_on_batch {i}")
        _close(r_model.test_on_batch(x[:20], y[:20]), k_model.test_on_batch(x[:20], y[:20]),
               1e-9, "test_on_batch")  # fmt: skip
        for k, r in zip(k_model.weights, r_model.weights, strict=True):
            _close(r.numpy(), k.numpy(), 1e-9, k.path)
