"""`.keras` archives written by the reference (`model.save`) and read by stock Keras.

A reference model saved with `model.save` loads with `keras.models.load_model` into a model
with the same classes, bit-identical weights and the same predictions; its config.json is
the one Keras writes for the same model (Keras's `shared_object_id` bookkeeping aside); a
compiled model's optimizer state comes back so that Keras's next training step is the
reference's. Saving is atomic: a save killed mid-write leaves the previous file whole.

Tolerances as test_saving_keras.py: weights exact, float32 predictions atol 1e-5, the
float64 next step rtol 1e-10.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import reference  # noqa: E402
from parity_tests.harness import floatx as harness_floatx  # noqa: E402
from parity_tests.test_saving_keras import (  # noqa: E402
    _L,
    _compiled,
    _randomize,
    _x,
    conv_rnn,
    functional,
    nested,
    seed_layer,
    sequential,
)


@pytest.fixture(autouse=True)
def _fresh_session():
    keras.backend.clear_session()
    reference.naming._uids.clear()


def multi_io(lib):
    """Two inputs, two outputs (one of them an inner tensor), a layer shared by two calls."""
    L = _L(lib)
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    shared = L.Dense(3, activation="tanh")
    h = shared(shared(a))
    return lib.Model([a, b], [L.Dense(1)(L.Concatenate()([h, b])), h], name="multi")


def nested_functional(lib):
    """A functional model called twice inside another (its nodes count from 1 in Keras)."""
    L = _L(lib)
    x = lib.Input((3,))
    inner = lib.Model(x, L.Dense(3, activation="relu")(x), name="inner")
    y = lib.Input((3,))
    return lib.Model(y, L.Dense(2)(inner(inner(y))), name="outer")


def token_ids(lib):
    """An int32 Input of token ids into an Embedding (an InputLayer whose dtype is not float)."""
    L = _L(lib)
    ids = lib.Input((5,), dtype="int32", name="ids")
    h = L.GlobalAveragePooling1D()(L.Embedding(10, 4)(ids))
    return lib.Model(ids, L.Dense(2)(h), name="tokens")


ROWS = [sequential, functional, multi_io, nested, nested_functional, conv_rnn, seed_layer,
        token_ids]  # fmt: skip


def _inputs(model, rng):
    if any(np.dtype(x.dtype).kind == "i" for x in model.inputs):
        return [rng.integers(0, 10, (4, *x.shape[1:])).astype(x.dtype) for x in model.inputs]
    if len(model.inputs) == 1:
        return _x(model, rng)
    return [rng.standard_normal((4, *x.shape[1:])).astype("float32") for x in model.inputs]


def _config(path):
    def strip(c):
        if isinstance(c, dict):
            return {k: strip(v) for k, v in c.items() if k != "shared_object_id"}
        return [strip(v) for v in c] if isinstance(c, list) else c

    return strip(json.loads(zipfile.ZipFile(path).read("config.json")))


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_reference_archive_loads_into_keras(build, tmp_path):
    rng = np.random.default_rng(10)
    r_model = build(reference)
    _randomize(r_model, rng)
    r_model.save(tmp_path / "r.keras")
    k_model = keras.models.load_model(tmp_path / "r.keras")
    assert type(k_model).__name__ == type(r_model).__name__
    assert [type(x).__name__ for x in k_model.layers] == [type(x).__name__ for x in r_model.layers]
    x = _inputs(r_model, rng)
    for a, b in zip(r_model.get_weights(), k_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for y_r, y_k in zip(r_model.predict(x), k_model.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(y_r, y_k, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_config_json_is_the_one_keras_writes(build, tmp_path):
    build(keras).save(tmp_path / "k.keras")
    reference.naming._uids.clear()
    build(reference).save(tmp_path / "r.keras")
    ours, theirs = _config(tmp_path / "r.keras"), _config(tmp_path / "k.keras")
    # A built Keras Sequential makes an internal functional model that takes the name
    # "functional", so an outer model's default name is "functional_1" there (reference.models
    # names it "functional"): the top-level name is the models' naming, not the format.
    assert ours["config"].pop("name").startswith("functional") or build is not nested
    theirs["config"].pop("name")
    assert ours == theirs
    with zipfile.ZipFile(tmp_path / "r.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert json.loads(archive.read("metadata.json"))["keras_version"] == keras.__version__


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_reference_round_trip(build, tmp_path):
    rng = np.random.default_rng(11)
    model = build(reference)
    _randomize(model, rng)
    model.save(tmp_path / "r.keras")
    again = reference.saving.load_model(tmp_path / "r.keras")
    x = _inputs(model, rng)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.predict(x), again.predict(x), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("build", [multi_io, nested_functional], ids=lambda f: f.__name__)
def test_keras_archive_of_the_new_rows_loads_into_reference(build, tmp_path):
    """The other direction for the rows test_saving_keras.py does not have (a functional
    model's node indices: arguments count from 0, input/output layers from 1)."""
    rng = np.random.default_rng(13)
    k_model = build(keras)
    _randomize(k_model, rng)
    k_model.save(tmp_path / "k.keras")
    r_model = reference.saving.load_model(tmp_path / "k.keras")
    x = _inputs(k_model, rng)
    for a, b in zip(r_model.get_weights(), k_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for y_r, y_k in zip(r_model.predict(x), k_model.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(y_r, y_k, rtol=1e-5, atol=1e-5)


def test_compiled_reference_archive_resumes_training_in_keras(tmp_path):
    """The reference trains 3 steps and saves; Keras loads the archive (compiled from its
    compile_config, optimizer state from the file) and its 4th step is the reference's."""
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal((8, 5)), rng.standard_normal((8, 2))
    with harness_floatx("float64"):
        r_model = _compiled(reference)
        for _ in range(3):
            r_model.train_on_batch(x, y)
        r_model.save(tmp_path / "r.keras")
        k_model = keras.models.load_model(tmp_path / "r.keras")
        assert int(k_model.optimizer.iterations) == 3
        for a, b in zip(r_model.optimizer.variables, k_model.optimizer.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), np.asarray(b))
        r_model.train_on_batch(x, y)
        k_model.train_on_batch(x, y)
        for a, b in zip(r_model.get_weights(), k_model.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_killed_save_leaves_the_previous_archive(tmp_path):
    """A process is SIGKILLed in the middle of model.save (after config.json was written,
    while the weights are written): the archive at the path is still the whole previous save
    (byte for byte, and it loads), and the only other file is the temporary one."""
    path = tmp_path / "m.keras"
    script = textwrap.dedent(f"""
        import time, numpy as np, reference
        from reference import layers as rl
        m = reference.Sequential([reference.Input((3,)), rl.Dense(4), rl.Dense(2)])
        m.set_weights([np.full(w.shape, 1.5, w.dtype) for w in m.weights])
        m.save({str(path)!r})
        print("saved", flush=True)
        m.set_weights([np.full(w.shape, 2.5, w.dtype) for w in m.weights])

        def stall():  # the second layer's kernel: reached while model.weights.h5 is written
            print("mid-save", flush=True)
            time.sleep(60)

        m.layers[1].kernel.numpy = stall
        m.save({str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saved"
        before = path.read_bytes()
        assert proc.stdout.readline().strip() == "mid-save"
    finally:
        proc.kill()
        proc.wait()
    assert path.read_bytes() == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != path.name]
    assert len(leftovers) == 1 and leftovers[0].startswith(".m.keras.")
    assert leftovers[0].endswith(".tmp")
    model = reference.saving.load_model(path)
    assert all((w == 1.5).all() for w in model.get_weights())


BAD_SAVES = {
    "suffix": (dict(filepath="m.h5"), ValueError, r"save_model: the filename must end in `.keras`"),
    "zipped": (dict(zipped=False), ValueError, r"save_model: only zipped"),
    "overwrite": (dict(overwrite=False), FileExistsError, r"save_model: .* overwrite=False"),
}  # fmt: skip


@pytest.mark.parametrize("kwargs, error, message", BAD_SAVES.values(), ids=BAD_SAVES.keys())
def test_bad_saves_raise_and_change_nothing(kwargs, error, message, tmp_path):
    model = sequential(reference)
    model.save(tmp_path / "m.keras")
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    kwargs = {"filepath": "m.keras", **kwargs}
    kwargs["filepath"] = tmp_path / kwargs["filepath"]
    with pytest.raises(error, match=message):
        model.save(**kwargs)
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before
