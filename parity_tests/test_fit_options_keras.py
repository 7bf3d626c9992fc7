"""fit's options against stock Keras 3.15, in float64: class_weight, sample_weight (also per
output and in validation triples), steps_per_epoch, validation_steps/_batch_size/_freq,
initial_epoch, weighted_metrics, and multi-output logs.

Each row builds one model in Keras and in the reference (Keras's initial weights copied),
compiles both alike and fits with shuffle=False. Compared: the history's keys in Keras's order
(the logs are sorted by key, validation keys after), its values, every weight, and `evaluate`
as a dict and as Keras's ordered list. rtol 1e-9, as the training parity (summation order only).
"""

from __future__ import annotations

import os
import warnings

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import reference  # noqa: E402
from parity_tests.harness import floatx  # noqa: E402
from reference import layers as rl  # noqa: E402

N, RTOL = 50, 1e-9


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    keras.backend.clear_session()  # see test_training_keras.py
    reference.naming._uids.clear()


def mlp(lib):
    L = keras.layers if lib is keras else rl
    inp = lib.Input((6,))
    h = L.Dense(8, activation="tanh")(inp)
    return lib.Model(inp, L.Dense(3, activation="softmax")(h))


def two_outputs(lib):
    L = keras.layers if lib is keras else rl
    inp = lib.Input((6,))
    h = L.Dense(6, activation="tanh", name="hid")(inp)
    return lib.Model(inp, [L.Dense(1, name="reg")(h), L.Dense(3, activation="softmax",
                                                              name="cls")(h)])  # fmt: skip


def _data(build, rng, n):
    x = rng.standard_normal((n, 6))
    if build is mlp:
        return x, rng.integers(0, 3, n)
    return x, [rng.standard_normal((n, 1)), rng.integers(0, 3, n)]


SCCE = dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
TWO = dict(loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.5, 2.0],
           metrics=[["mae", "mse"], ["accuracy"]],
           weighted_metrics=[["mae"], ["accuracy"]])  # fmt: skip
W = np.linspace(0.1, 2.0, N)  # a per-sample weight
# (name, builder, compile kwargs, fit kwargs; "sw"/"val_sw" mark per-sample weights to pass)
ROWS = [
    ("class_weight-steps_per_epoch-validation_options", mlp, SCCE,
     dict(class_weight={0: 0.5, 1: 2.0}, steps_per_epoch=3,  # 5 batches a pass: 3, 2, 3, 2
          validation_freq=2, validation_steps=2, validation_batch_size=7)),
    ("sample_weight-triple-repeated_metrics-freq_list-initial_epoch", mlp,
     dict(SCCE, metrics=["accuracy", "accuracy"], weighted_metrics=["accuracy"]),
     dict(sw=True, val_sw=True, validation_freq=[2, 4], initial_epoch=1)),
    ("steps_per_epoch_sets_batch_size", mlp, SCCE, dict(steps_per_epoch=2, batch_size=None)),
    ("two_outputs", two_outputs, TWO, dict(sw=True, val_sw=True)),
    ("two_outputs_weight_per_output", two_outputs, TWO, dict(sw="per_output")),
]  # fmt: skip


def _fit_kwargs(row_fit, build, rng):
    fit = dict(batch_size=10, epochs=4, shuffle=False, verbose=0)
    fit.update({k: v for k, v in row_fit.items() if k not in ("sw", "val_sw")})
    sw = row_fit.get("sw")
    if sw == "per_output":
        fit["sample_weight"] = [W, W[::-1].copy()]
    elif sw:
        fit["sample_weight"] = W
    val = _data(build, rng, 20)
    fit["validation_data"] = (*val, np.linspace(2.0, 0.5, 20)) if row_fit.get("val_sw") else val
    return fit


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_fit_option_matches_keras(row):
    _, build, compile_kw, row_fit = row
    with floatx("float64"):
        k_model, r_model = build(keras), build(reference)
        r_model.set_weights(k_model.get_weights())
        k_model.compile(optimizer=keras.optimizers.Adam(0.01), **compile_kw)
        r_model.compile(optimizer=reference.optimizers.Adam(0.01), **compile_kw)
        rng = np.random.default_rng(0)
        x, y = _data(build, rng, N)
        fit = _fit_kwargs(row_fit, build, rng)
        with warnings.catch_warnings(record=True) as k_warn:
            warnings.simplefilter("always")
            k_hist = k_model.fit(x, y, **fit).history
        with warnings.catch_warnings(record=True) as r_warn:
            warnings.simplefilter("always")
            r_hist = r_model.fit(x, y, **fit).history
        ran_out = [sum("ran out of data" in str(w.message) for w in ws) for ws in (k_warn, r_warn)]
        assert ran_out[1] == ran_out[0]  # Keras's out-of-data warnings, as many
        assert list(r_hist) == list(k_hist)
        for key in k_hist:
            np.testing.assert_allclose(r_hist[key], k_hist[key], rtol=RTOL, err_msg=key)
        for k, r in zip(k_model.weights, r_model.weights, strict=True):
            np.testing.assert_allclose(r.numpy(), k.numpy(), rtol=RTOL, atol=RTOL, err_msg=k.path)
        val = fit["validation_data"]
        ev = dict(sample_weight=val[2] if len(val) == 3 else None, verbose=0)
        k_dict = k_model.evaluate(*val[:2], return_dict=True, **ev)
        r_dict = r_model.evaluate(*val[:2], return_dict=True, **ev)
        assert list(r_dict) == list(k_dict)
        for key in k_dict:
            np.testing.assert_allclose(r_dict[key], k_dict[key], rtol=RTOL, err_msg=key)
        k_list, r_list = (m.evaluate(*val[:2], **ev) for m in (k_model, r_model))
        np.testing.assert_allclose(r_list, k_list, rtol=RTOL)


def test_fit_option_errors_match_keras():
    rng = np.random.default_rng(0)
    x, y = _data(mlp, rng, N)
    model = mlp(reference)
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        model.fit(x, y, class_weight={0: 2.0}, sample_weight=W, verbose=0)
    with pytest.raises(ValueError, match="Expected `validation_freq` to be a list or int"):
        model.fit(x, y, validation_data=(x, y), validation_freq="2", verbose=0)
    two = two_outputs(reference)
    two.compile("sgd", ["mse", "sparse_categorical_crossentropy"])
    x2, y2 = _data(two_outputs, rng, N)
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        two.fit(x2, y2, class_weight={0: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="one scalar score per sample"):
        two.fit(x2, y2, sample_weight=np.ones((N, 2)), verbose=0)
    for w, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)
