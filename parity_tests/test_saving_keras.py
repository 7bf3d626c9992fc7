"""`.weights.h5` files both ways with stock Keras: a file Keras writes loads into the reference
(weights bit-identical, predictions equal to float32 rounding), a file the reference writes
loads into Keras, both write the same layout (paths, dataset names, shapes, dtypes), and a
compiled model's optimizer state crosses over so that the next training step agrees.

Tolerances: the weights are compared exactly (a load copies bits). Predictions are float32 and
computed by two libraries: atol 1e-5 on outputs of magnitude ~1 (a few ulps after a few
GEMMs; measured 6.6e-7). The next-step check runs in float64 (harness.floatx): rtol 1e-10.
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

import h5py  # noqa: E402
import hypothesis  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras.src.saving import saving_lib  # noqa: E402

import reference  # noqa: E402
from parity_tests.harness import floatx as harness_floatx  # noqa: E402
from reference import examples as ref_examples  # noqa: E402
from reference import layers as rl  # noqa: E402
from tf_layers import examples as tf_examples  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    keras.backend.clear_session()
    reference.naming._uids.clear()


def _L(lib):
    return keras.layers if lib is keras else rl


def _base(lib):
    return keras.layers.Layer if lib is keras else reference.Layer


def _my_scale(lib):
    """A user layer with a sub-layer attribute, a list of sub-layers, an own trainable weight
    and an own non-trainable scalar, of the same class name in both libraries."""
    L = _L(lib)

    class MyScale(_base(lib)):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.proj = L.Dense(units)
            self.blocks = [L.Dense(units), L.Dense(units)]

        def build(self, input_shape):
            self.alpha = self.add_weight(shape=(self.proj.units,), name="alpha")
            self.count = self.add_weight(shape=(), name="count", trainable=False)

        def call(self, x):
            return self.blocks[1](self.blocks[0](self.proj(x))) * self.alpha + self.count

    return MyScale


def _many(lib):
    """Twelve own weights of distinct shapes: datasets "10" and "11" must sort after "9"."""

    class Many(_base(lib)):
        def build(self, input_shape):
            self.ws = [self.add_weight(shape=(i + 1,), name=f"w{i}") for i in range(12)]

        def call(self, x):
            return x + sum(w[:1] for w in self.ws)

    return Many


def sequential(lib):
    L = _L(lib)
    return lib.Sequential([lib.Input((5,)), L.Dense(4), L.BatchNormalization(),
                           L.Activation("relu"), L.Dropout(0.1), L.Dense(2)])  # fmt: skip


def functional(lib):
    L = _L(lib)
    x = lib.Input((3,))
    h = L.Dense(4)(x)
    h2 = L.LayerNormalization()(L.BatchNormalization()(h))
    return lib.Model(x, L.Dense(2)(L.Concatenate()([h, h2])))


def nested(lib):
    L = _L(lib)
    inner = lib.Sequential([lib.Input((3,)), L.Dense(4), L.Dense(3)])
    x = lib.Input((3,))
    shared = L.Dense(3)
    return lib.Model(x, L.Dense(1)(shared(inner(shared(x)))))


def custom(lib):
    return lib.Sequential([lib.Input((3,)), _L(lib).Dense(2), _my_scale(lib)(2), _many(lib)()])


def conv_rnn(lib):
    L = _L(lib)
    return lib.Sequential([lib.Input((6, 6, 2)), L.Conv2D(3, 3), L.MaxPooling2D(),
                           L.Reshape((4, 3)), L.LSTM(2, return_sequences=True), L.GRU(2),
                           L.Dense(1)])  # fmt: skip


def subclassed(lib):
    L = _L(lib)

    class Sub(lib.Model):
        def __init__(self):
            super().__init__()
            self.b = L.Dense(1)
            self.a = L.Dense(2)

        def call(self, x):
            return self.b(self.a(x))

    model = Sub()
    model(np.ones((1, 3), "float32"))
    return model


ROWS = [sequential, functional, nested, custom, conv_rnn, subclassed]


def _randomize(model, rng):
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.get_weights()])


def _x(model, rng, n=4):
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else (None, 3)
    return rng.standard_normal((n, *shape[1:])).astype("float32")


def _layout(path):
    """Every member of the file: (name, shape, dtype) for datasets, (name,) for groups."""
    out = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.append((n, o.shape, str(o.dtype)) if hasattr(o, "shape")
                                             else (n,)))  # fmt: skip
    return out


def _check_same(r_model, k_model, x):
    assert len(r_model.weights) == len(k_model.weights)
    for a, b in zip(r_model.get_weights(), k_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    y_r = r_model.predict(x, verbose=0)
    y_k = k_model.predict(x, verbose=0)
    np.testing.assert_allclose(y_r, y_k, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_keras_file_loads_into_reference(build, tmp_path):
    rng = np.random.default_rng(0)
    k_model, r_model = build(keras), build(reference)
    _randomize(k_model, rng)
    k_model.save_weights(tmp_path / "k.weights.h5")
    r_model.load_weights(tmp_path / "k.weights.h5")
    _check_same(r_model, k_model, _x(k_model, rng))


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_reference_file_loads_into_keras(build, tmp_path):
    rng = np.random.default_rng(1)
    k_model, r_model = build(keras), build(reference)
    _randomize(r_model, rng)
    r_model.save_weights(tmp_path / "r.weights.h5")
    k_model.load_weights(tmp_path / "r.weights.h5")
    _check_same(r_model, k_model, _x(k_model, rng))


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_same_layout_as_keras(build, tmp_path):
    build(keras).save_weights(tmp_path / "k.weights.h5")
    build(reference).save_weights(tmp_path / "r.weights.h5")
    assert _layout(tmp_path / "r.weights.h5") == _layout(tmp_path / "k.weights.h5")


LAYER_ROWS = {
    "Dense": lambda L: L.Dense(3),
    "BatchNormalization": lambda L: L.BatchNormalization(),
    "LSTM": lambda L: L.LSTM(2),
}


@pytest.mark.parametrize("make", LAYER_ROWS.values(), ids=LAYER_ROWS.keys())
def test_layer_files_both_ways(make, tmp_path):
    """A single layer's file: the reference's Layer.save_weights/load_weights and Keras's
    saving_lib.save_weights_only/load_weights_only (Keras layers have no save_weights)."""
    rng = np.random.default_rng(2)
    shape = (2, 5, 3) if isinstance(make(rl), rl.LSTM) else (2, 3)
    k_layer, r_layer = make(keras.layers), make(rl)
    k_layer.build(shape)
    r_layer.build(shape)
    for source, target, save, load in (
        (k_layer, r_layer, saving_lib.save_weights_only, type(r_layer).load_weights),
        (r_layer, k_layer, type(r_layer).save_weights, saving_lib.load_weights_only),
    ):
        source.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                            for w in source.get_weights()])  # fmt: skip
        save(source, str(tmp_path / "l.weights.h5"))
        load(target, str(tmp_path / "l.weights.h5"))
        for a, b in zip(source.get_weights(), target.get_weights(), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _compiled(lib):
    # No Dropout: its masks depend on how many steps each side's seed generator has taken (the
    # seed state is not in the file, in Keras either). No bias before BatchNormalization: its
    # exact gradient is 0, so each side's is rounding noise (~1e-17) that Adam normalizes into
    # steps of about +-lr (measured: 2e-2..3.5e-1 relative apart after one step, 25 of 25 runs;
    # test_training_keras.py has the same row for the same reason).
    L = _L(lib)
    model = lib.Sequential([lib.Input((5,)), L.Dense(4, use_bias=False), L.BatchNormalization(),
                            L.Activation("relu"), L.Dense(2)])  # fmt: skip
    model.compile(optimizer=lib.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model


@pytest.mark.parametrize("direction", ["keras_to_reference", "reference_to_keras"])
def test_optimizer_state_crosses_and_training_resumes(direction, tmp_path):
    """Keras trains 3 steps and saves (or the reference does); the other side loads the file
    into a compiled model with a built optimizer; the optimizer variables (iterations, learning
    rate, Adam's m and v) are identical, and one more step gives the same weights."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 5)), rng.standard_normal((8, 2))
    with harness_floatx("float64"):
        k_model, r_model = _compiled(keras), _compiled(reference)
        source, target = (
            (k_model, r_model) if direction == "keras_to_reference" else (r_model, k_model)
        )
        for _ in range(3):
            source.train_on_batch(x, y)
        target.optimizer.build(target.trainable_variables)
        source.save_weights(tmp_path / "m.weights.h5")
        target.load_weights(tmp_path / "m.weights.h5")
        assert [np.asarray(v).shape for v in r_model.optimizer.variables] == [
            tuple(v.shape) for v in k_model.optimizer.variables
        ]
        for a, b in zip(r_model.optimizer.variables, k_model.optimizer.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), np.asarray(b))
        _check_same(r_model, k_model, x)
        r_model.train_on_batch(x, y)
        k_model.train_on_batch(x, y)
        assert r_model.optimizer.iterations == int(k_model.optimizer.iterations) == 4
        for a, b in zip(r_model.get_weights(), k_model.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# -- .keras archives: keras.Model.save -> reference.saving.load_model ---------------------------


def _seed_port(base):
    """The seed layer, taking the `trainable` and `dtype` that Keras writes in its config: the
    verbatim seed's __init__(units, activation) rejects them, and Keras 3 itself then cannot
    reload its own file (measured: "Sequential could not be deserialized properly")."""

    def __init__(self, units, activation=None, **kwargs):
        base.__init__(self, units, activation)

    return type("CustomDense", (base,), {"__init__": __init__})


keras.saving.get_custom_objects().pop("seed>CustomDense", None)  # a re-import registers again
reference.saving.registry._CUSTOM.pop("seed>CustomDense", None)
_KerasSeed = keras.saving.register_keras_serializable("seed")(_seed_port(tf_examples.CustomDense))
_RefSeed = reference.saving.register_serializable("seed")(_seed_port(ref_examples.CustomDense))


def seed_layer(lib):
    layer = _KerasSeed(4, "selu") if lib is keras else _RefSeed(4, "selu")
    return lib.Sequential([lib.Input((5,)), layer, _L(lib).Dense(2)])


ARCHIVE_ROWS = [sequential, functional, nested, conv_rnn, seed_layer]


@pytest.mark.parametrize("build", ARCHIVE_ROWS, ids=lambda f: f.__name__)
def test_keras_archive_loads_into_reference(build, tmp_path):
    rng = np.random.default_rng(4)
    k_model = build(keras)
    _randomize(k_model, rng)
    k_model.save(tmp_path / "m.keras")
    r_model = reference.saving.load_model(tmp_path / "m.keras")
    assert type(r_model).__name__ == type(k_model).__name__
    assert [type(x).__name__ for x in r_model.layers] == [type(x).__name__ for x in k_model.layers]
    _check_same(r_model, k_model, _x(k_model, rng))


def test_compiled_archive_resumes_training(tmp_path):
    """Keras trains 3 steps and saves the model; the reference loads it (optimizer rebuilt from
    compile_config, its state from the file) and the 4th step agrees with Keras's."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((8, 5)), rng.standard_normal((8, 2))
    with harness_floatx("float64"):
        k_model = _compiled(keras)
        for _ in range(3):
            k_model.train_on_batch(x, y)
        k_model.save(tmp_path / "m.keras")
        r_model = reference.saving.load_model(tmp_path / "m.keras")
        for a, b in zip(r_model.optimizer.variables, k_model.optimizer.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), np.asarray(b))
        r_model.train_on_batch(x, y)
        k_model.train_on_batch(x, y)
        for a, b in zip(r_model.get_weights(), k_model.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_archive_loads_where_tensorflow_cannot_be_imported(tmp_path):
    """The loader runs in a subprocess in which importing tensorflow, keras or tf_keras fails."""
    rng = np.random.default_rng(6)
    k_model = functional(keras)
    _randomize(k_model, rng)
    k_model.save(tmp_path / "m.keras")
    x = _x(k_model, rng)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import numpy as np, reference
        model = reference.saving.load_model({str(tmp_path / "m.keras")!r})
        np.save({str(tmp_path / "y.npy")!r}, model.predict(np.load({str(tmp_path / "x.npy")!r})))
        assert not any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=os.getcwd())
    y = np.load(tmp_path / "y.npy", allow_pickle=False)
    np.testing.assert_allclose(y, k_model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def _rewrite(src, dst, change):
    """Copy the archive `src` to `dst`, passing each member through change(name, data)."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for info in a.infolist():
            out = change(info.filename, a.read(info))
            if out is not None:
                b.writestr(info.filename, out[0], compress_type=out[1])


def _edit_config(edit):
    def change(name, data):
        if name != "config.json":
            return data, zipfile.ZIP_STORED
        config = json.loads(data)
        edit(config)
        return json.dumps(config).encode(), zipfile.ZIP_STORED

    return change


def _set_class(config, class_name, module="keras.layers"):
    config["config"]["layers"][1].update(class_name=class_name, module=module)


ARCHIVE_ERRORS = {
    "missing member": (lambda n, d: None if n == "model.weights.h5" else (d, 0),
                       r"has no member 'model.weights.h5'"),
    "zip bomb": (lambda n, d: (d + b" " * 50_000_000 if n == "config.json" else d,
                               zipfile.ZIP_DEFLATED), r"member 'config.json' declares .* zip bomb"),
    "bad json": (lambda n, d: (d[:-5] if n == "config.json" else d, 0), r"not valid JSON"),
    "unknown class": (_edit_config(lambda c: _set_class(c, "Frobnicate")),
                      r"could not locate class 'Frobnicate'.*register_serializable"),
    "custom module": (_edit_config(lambda c: _set_class(c, "Dense", "evil.module")),
                      r"could not locate class 'Dense'.*module 'evil.module'"),
    "lambda": (_edit_config(lambda c: _set_class(c, "Lambda")),
               r"deserialization of a `Lambda` layer .* `safe_mode=False`"),
    "wrong units": (_edit_config(lambda c: c["config"]["layers"][1]["config"].update(units=5)),
                    r"layers/dense/vars/0 .*shape mismatch.*\(5, 4\)"),
    "bad weights": (lambda n, d: (d[: len(d) // 2] if n == "model.weights.h5" else d, 0),
                    r"model.weights.h5"),
}  # fmt: skip


@pytest.mark.parametrize("change, message", ARCHIVE_ERRORS.values(), ids=ARCHIVE_ERRORS.keys())
def test_bad_archives_raise_clear_errors(change, message, tmp_path):
    sequential(keras).save(tmp_path / "good.keras")
    _rewrite(tmp_path / "good.keras", tmp_path / "bad.keras", change)
    with pytest.raises(ValueError, match=message) as info:
        reference.saving.load_model(tmp_path / "bad.keras")
    assert "bad.keras" in str(info.value)


def test_lambda_needs_custom_objects_even_without_safe_mode(tmp_path):
    sequential(keras).save(tmp_path / "good.keras")
    _rewrite(tmp_path / "good.keras", tmp_path / "bad.keras",
             _edit_config(lambda c: _set_class(c, "Lambda")))  # fmt: skip
    with pytest.raises(ValueError, match=r"could not locate class 'Lambda'"):
        reference.saving.load_model(tmp_path / "bad.keras", safe_mode=False)


@pytest.fixture(scope="module")
def keras_archive(tmp_path_factory):
    keras.backend.clear_session()
    path = tmp_path_factory.mktemp("archive") / "good.keras"
    model = functional(keras)
    _randomize(model, np.random.default_rng(7))
    model.save(path)
    return path, model


@hypothesis.settings(max_examples=100, deadline=None, derandomize=True)
@hypothesis.given(data=hypothesis.strategies.data())
def test_fuzzed_archives_load_or_raise_value_error(keras_archive, tmp_path_factory, data):
    """Bytes of a real `.keras` archive flipped, or the archive truncated: load_model either
    returns a model or raises ValueError (the zip's CRC-32 catches flips inside a member)."""
    st = hypothesis.strategies
    path, k_model = keras_archive
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans(), "truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), "cut")]
    else:
        for _ in range(data.draw(st.integers(1, 4), "flips")):
            raw[data.draw(st.integers(0, len(raw) - 1), "at")] ^= data.draw(st.integers(1, 255))
    bad = tmp_path_factory.mktemp("fuzz") / "bad.keras"
    bad.write_bytes(bytes(raw))
    try:
        model = reference.saving.load_model(bad)
    except ValueError:
        return
    for a, b in zip(model.get_weights(), k_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # a load that succeeds is a whole, correct load
