"""Callbacks side by side with stock Keras 3.15 (float64, fit with shuffle=False).

ModelCheckpoint: each row fits the same model in both frameworks with a checkpoint writing
into its own directory; the file names must be the same (epoch/batch/val_loss formatting,
save_best_only's choices, save_freq in batches), and every file the reference wrote must load
into Keras (keras.models.load_model / load_weights) with the weights of Keras's own file
(rtol 1e-9). EarlyStopping / ReduceLROnPlateau: mode="auto" resolves the direction from the
compiled metric as Keras 3 does (an AUC is maximised; Keras 2 guessed from "acc" in the name).
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


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    keras.backend.clear_session()  # see test_training_keras.py
    reference.naming._uids.clear()


def mlp(lib):
    L = keras.layers if lib is keras else rl
    inp = lib.Input((6,))
    h = L.Dense(8, activation="tanh")(inp)
    return lib.Model(inp, L.Dense(1, activation="sigmoid")(h))


def _pair(metrics=("accuracy",), lr=0.05):
    k_model, r_model = mlp(keras), mlp(reference)
    r_model.set_weights(k_model.get_weights())
    for lib, model in ((keras, k_model), (reference, r_model)):
        model.compile(lib.optimizers.Adam(lr), "binary_crossentropy", metrics=list(metrics))
    return k_model, r_model


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 6))
    y = (x[:, :1] + 0.5 * rng.standard_normal((50, 1)) > 0).astype("float64")
    return x, y


CHECKPOINTS = [
    ("epoch_val_loss_weights", "{epoch:02d}-{val_loss:.2f}.weights.h5",
     dict(save_weights_only=True)),
    ("best_model", "best-{epoch:02d}.keras", dict(save_best_only=True)),
    ("every_3_batches", "sub/w-{epoch:02d}-{batch:03d}.weights.h5",
     dict(save_weights_only=True, save_freq=3)),
    ("best_accuracy_threshold", "acc-{epoch}.weights.h5",
     dict(save_weights_only=True, save_best_only=True, monitor="val_accuracy",
          initial_value_threshold=0.6)),
    ("max_mode_loss", "max-{epoch}.weights.h5",
     dict(save_weights_only=True, save_best_only=True, monitor="loss", mode="max")),
]  # fmt: skip


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root)
                  for f in fs)  # fmt: skip


@pytest.mark.parametrize("row", CHECKPOINTS, ids=[r[0] for r in CHECKPOINTS])
def test_model_checkpoint_matches_keras(row, tmp_path):
    _, pattern, kwargs = row
    with floatx("float64"):
        k_model, r_model = _pair()
        x, y = _data()
        for lib, model in ((keras, k_model), (reference, r_model)):
            cb = lib.callbacks.ModelCheckpoint(str(tmp_path / lib.__name__ / pattern), **kwargs)
            model.fit(x, y, batch_size=10, epochs=4, shuffle=False, verbose=0,
                      validation_data=(x[:20], y[:20]), callbacks=[cb])  # fmt: skip
        k_files, r_files = _files(tmp_path / "keras"), _files(tmp_path / "reference")
        assert r_files == k_files and r_files
        for name in r_files:
            loaded = []
            for lib in ("keras", "reference"):
                path = str(tmp_path / lib / name)
                if path.endswith(".keras"):
                    loaded.append(keras.models.load_model(path).get_weights())
                else:
                    model = mlp(keras)
                    model.load_weights(path)
                    loaded.append(model.get_weights())
            for k, r in zip(*loaded, strict=True):
                np.testing.assert_allclose(r, k, rtol=1e-9, atol=1e-12, err_msg=name)


# An AUC on 20 samples takes few values, so epochs often tie; with min_delta=0 a tie is decided
# by the last ulp of each side's own summation order (the full suite once saw the two sides
# disagree there). min_delta > 0 keeps every decision far from ties.
MONITORED = [
    (
        "EarlyStopping",
        dict(monitor="val_auc", patience=1, restore_best_weights=True, min_delta=1e-4),
    ),
    ("EarlyStopping", dict(monitor="val_mse", patience=0, min_delta=1e-3)),
    ("ReduceLROnPlateau", dict(monitor="val_auc", patience=1, factor=0.5, min_delta=1e-4)),
    ("ReduceLROnPlateau", dict(monitor="val_loss", patience=1, factor=0.5, cooldown=1)),
]


@pytest.mark.parametrize("row", MONITORED, ids=[f"{r[0]}-{r[1]['monitor']}" for r in MONITORED])
def test_monitor_callbacks_auto_mode_match_keras(row):
    name, kwargs = row
    with floatx("float64"):
        k_model, r_model = _pair(metrics=[keras.metrics.AUC(name="auc"), "mse"], lr=0.2)
        r_model.compile(reference.optimizers.Adam(0.2), "binary_crossentropy",
                        metrics=[reference.metrics.AUC(name="auc"), "mse"])  # fmt: skip
        x, y = _data()
        hist = {}
        for lib, model in ((keras, k_model), (reference, r_model)):
            cb = getattr(lib.callbacks, name)(**kwargs)
            fit = dict(batch_size=10, epochs=6, shuffle=False, verbose=0, callbacks=[cb])
            hist[lib] = model.fit(x, y, validation_data=(x[:20], y[:20]), **fit).history
        assert list(hist[reference]) == list(hist[keras])
        for key in hist[keras]:
            np.testing.assert_allclose(hist[reference][key], hist[keras][key], rtol=1e-9,
                                       err_msg=key)  # fmt: skip
        for k, r in zip(k_model.get_weights(), r_model.get_weights(), strict=True):
            np.testing.assert_allclose(r, k, rtol=1e-9, atol=1e-12)


def test_checkpoint_and_monitor_errors():
    for lib in (keras, reference):
        with pytest.raises(ValueError, match="must end in `.weights.h5`"):
            lib.callbacks.ModelCheckpoint("w.keras", save_weights_only=True)
        with pytest.raises(ValueError, match="save_freq"):
            lib.callbacks.ModelCheckpoint("m.keras", save_freq="batch")
    with pytest.raises(ValueError, match="must end in `.keras`"):
        reference.callbacks.ModelCheckpoint("m.h5")
    with floatx("float64"):
        _, model = _pair()
        x, y = _data()
        with pytest.raises(ValueError, match="isn't able to automatically determine"):
            stop = reference.callbacks.EarlyStopping(monitor="val_custom")
            model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[stop])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            reference.callbacks.EarlyStopping(mode="maximum")
        assert "mode 'maximum' is unknown, fallback to auto mode" in str(w[0].message)
