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


def _recorder(lib):
    """A callback of `lib` that records every batch hook: (hook, step, logs)."""

    class Recorder(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def _record(self, hook, batch, logs):
            logs = dict(logs)
            if "outputs" in logs:
                logs["outputs"] = np.asarray(logs["outputs"])
            self.events.append((hook, batch, logs))

    for hook in ("train", "test", "predict"):
        for end in ("begin", "end"):
            name = f"on_{hook}_batch_{end}"
            setattr(Recorder, name, lambda self, batch, logs=None, _n=name: self._record(
                _n, batch, logs))  # fmt: skip
    return Recorder()


def _assert_same_events(r_events, k_events):
    assert [e[:2] for e in r_events] == [e[:2] for e in k_events]
    for (hook, step, r_logs), (_, _, k_logs) in zip(r_events, k_events, strict=True):
        assert list(r_logs) == list(k_logs), (hook, step)
        for key in k_logs:
            np.testing.assert_allclose(r_logs[key], k_logs[key], rtol=RTOL, err_msg=(hook, step))


# (steps_per_execution, fit kwargs): 37 samples in batches of 4 are 10 batches, so an
# execution can be cut short by the end of the data; with steps_per_epoch=3 and 4 steps per
# execution, Keras still runs 4 steps an epoch (its train function loops until 4 steps or the
# end of the data), numbered 0..3
SPE_ROWS = [
    (1, dict(epochs=2)),
    (3, dict(epochs=2)),
    (4, dict(epochs=2)),
    (4, dict(epochs=3, steps_per_epoch=3)),
    (2, dict(epochs=2, steps_per_epoch=4, validation_steps=1)),
]


@pytest.mark.parametrize("spe, fit_kw", SPE_ROWS, ids=[f"{s}-{sorted(k)}" for s, k in SPE_ROWS])
def test_steps_per_execution_runs_callbacks_once_per_execution_as_keras(spe, fit_kw):
    """compile(steps_per_execution=N): batch hooks fire once per N steps with (begin_step,
    end_step) and the logs after the execution's last step, in fit, its validation, evaluate
    and predict (whose hook gets the execution's outputs, concatenated); training itself is
    unchanged. Compared against Keras: every hook call, the history, weights and outputs."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((37, 6)), rng.integers(0, 3, 37)
    val = (x[:9], y[:9])
    results = []
    with floatx("float64"):
        k_model, r_model = mlp(keras), mlp(reference)
        r_model.set_weights(k_model.get_weights())
        for lib, model in ((keras, k_model), (reference, r_model)):
            model.compile(optimizer=lib.optimizers.SGD(0.05), steps_per_execution=spe, **SCCE)
            rec = _recorder(lib)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # steps_per_epoch rows run out of data
                hist = model.fit(x, y, batch_size=4, shuffle=False, verbose=0, callbacks=[rec],
                                 validation_data=val, **fit_kw).history  # fmt: skip
                model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[rec])
                out = model.predict(x, batch_size=8, verbose=0, callbacks=[rec])
            results.append((rec.events, hist, [np.array(w) for w in model.get_weights()], out))
    (k_events, k_hist, k_w, k_out), (r_events, r_hist, r_w, r_out) = results
    _assert_same_events(r_events, k_events)
    assert list(r_hist) == list(k_hist)
    for key in k_hist:
        np.testing.assert_allclose(r_hist[key], k_hist[key], rtol=RTOL, err_msg=key)
    for r, k in zip(r_w, k_w, strict=True):
        np.testing.assert_allclose(r, k, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(r_out, k_out, rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("spe", [0, -1, 1.5, True, "2"])
def test_steps_per_execution_that_is_not_a_positive_integer_fails_at_compile(spe):
    """Keras accepts these at compile and fails or misbehaves in fit (0: 'range() arg 3 must
    not be zero'; -1: fit runs no step; 1.5: a TypeError); the reference refuses them at
    compile, before anything about the model changes."""
    model = mlp(reference)
    with pytest.raises(ValueError, match="steps_per_execution` must be a positive integer"):
        model.compile("sgd", "sparse_categorical_crossentropy", steps_per_execution=spe)
    assert not model.compiled
