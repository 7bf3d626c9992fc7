"""Keras 2 HDF5 files written by tf_keras during the test run, read by the reference.

Whole models (`model.save("m.h5")`: config mapped from Keras 2 spellings, weights by topology,
the optimizer state of a compiled model) and weight files (`save_weights("w.h5")`: by topology,
`by_name=True`, `skip_mismatch`). Untrusted files: links, virtual datasets, wrong dtypes,
missing or extra variables, truncation each raise a ValueError that names the file, the layer
path and the variable, and leave the target's weights exactly as they were.

Tolerances: weights are compared exactly (a load copies bits). Predictions are float32 from two
libraries: rtol/atol 1e-5 on outputs of magnitude ~1 (a few ulps after a few GEMMs, as in
test_saving_keras.py). The next-step check runs in float64: rtol 1e-10.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tf_keras  # noqa: E402

import reference  # noqa: E402
from parity_tests.harness import floatx as harness_floatx  # noqa: E402
from reference import layers as rl  # noqa: E402

K = tf_keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")


@pytest.fixture(autouse=True)
def _fresh_session():
    tf_keras.backend.clear_session()
    reference.naming._uids.clear()


class LegacyDense(K.Layer):
    """The seed layer in tf_keras, registered: its file names it `legacy_seed>LegacyDense`."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, tf_keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", shape=[input_shape[-1], self.units])
        self.bias = self.add_weight("bias", shape=[self.units], initializer="zeros")

    def call(self, x):
        return self.activation(x @ self.kernel + self.bias)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": tf_keras.activations.serialize(self.activation)}  # fmt: skip


tf_keras.saving.get_custom_objects().pop("legacy_seed>LegacyDense", None)
tf_keras.saving.register_keras_serializable("legacy_seed")(LegacyDense)


class RefLegacyDense(reference.Layer):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, reference.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", shape=[input_shape[-1], self.units])
        self.bias = self.add_weight("bias", shape=[self.units], initializer="zeros")

    def call(self, x):
        return self.activation(np.matmul(x, self.kernel) + self.bias)


reference.saving.registry._CUSTOM.pop("legacy_seed>LegacyDense", None)
reference.saving.register_serializable("legacy_seed", "LegacyDense")(RefLegacyDense)


def sequential():
    # Keras 2's usual first layer with `input_shape=`: the config has `batch_input_shape`.
    return tf_keras.Sequential([K.Dense(4, input_shape=(5,), activation="relu"),
                                K.BatchNormalization(), K.Dropout(0.2), K.Dense(2)])  # fmt: skip


def functional():
    x = K.Input((3,))
    h = K.Dense(4, activation="tanh")(x)
    h2 = K.LayerNormalization()(K.BatchNormalization()(h))
    return tf_keras.Model(x, K.Dense(2)(K.Concatenate()([h, h2])))


def conv_rnn():
    # LSTM/GRU configs carry Keras 2's `implementation` and `time_major`.
    return tf_keras.Sequential([K.Input((6, 6, 2)), K.Conv2D(3, 3), K.MaxPooling2D(),
                                K.Reshape((4, 3)), K.LSTM(2, return_sequences=True),
                                K.GRU(2, return_sequences=True), K.SimpleRNN(2),
                                K.Dense(1)])  # fmt: skip


def nested():
    # tf_keras counts a nested Sequential's (with an input) and a nested Model's calls from 1.
    inner = tf_keras.Sequential([K.Input((3,)), K.Dense(4), K.Dense(3)])
    i = K.Input((3,))
    inner2 = tf_keras.Model(i, K.Dense(3)(i))
    x = K.Input((3,))
    shared = K.Dense(3)
    return tf_keras.Model(x, K.Dense(1)(inner2(shared(inner(shared(x))))))


def nested_deferred():
    # A nested Sequential without an input: its calls count from 0.
    inner = tf_keras.Sequential([K.Dense(4), K.Dense(3)])
    x = K.Input((3,))
    return tf_keras.Model(x, K.Dense(1)(inner(x)))


def two_inputs():
    a, b = K.Input((3,), name="a"), K.Input((2,), name="b")
    h = K.Add()([K.Dense(4)(a), K.Dense(4)(b)])
    return tf_keras.Model([a, b], [K.Dense(1)(h), K.Dense(2, activation="softmax")(h)])


def text():
    # Embedding's Keras 2 `input_length` (and `batch_input_shape`)
    return tf_keras.Sequential([K.Embedding(20, 4, input_length=6), K.Conv1D(3, 2),
                                K.GlobalMaxPooling1D(), K.Dense(1)])  # fmt: skip


def wrappers():
    # layers nested in TimeDistributed/Bidirectional configs carry Keras 2 spellings too (the
    # Dense has no bias, so zero steps stay zero and Masking masks them)
    return tf_keras.Sequential([K.Input((5, 3)), K.TimeDistributed(K.Dense(3, use_bias=False)),
                                K.Masking(0.0), K.Bidirectional(K.LSTM(2, return_sequences=True)),
                                K.GRU(2, reset_after=False), K.Dense(1)])  # fmt: skip


def separable():
    # tf_keras's SeparableConv2D config repeats its base class's unused kernel_* arguments
    return tf_keras.Sequential([K.Input((8, 8, 2)), K.SeparableConv2D(3, 3), K.PReLU(),
                                K.DepthwiseConv2D(2), K.GroupNormalization(groups=3),
                                K.GlobalAveragePooling2D(), K.Dense(2)])  # fmt: skip


def custom():
    return tf_keras.Sequential([K.Input((5,)), LegacyDense(4, "selu"), K.Dense(2)])


ROWS = [
    sequential,
    functional,
    conv_rnn,
    nested,
    nested_deferred,
    two_inputs,
    text,
    wrappers,
    separable,
    custom,
]


def _randomize(model, rng):
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.get_weights()])


def _inputs(model, rng, n=4):
    if isinstance(model.layers[0], K.Embedding):  # token ids
        return [rng.integers(0, 20, (n, *model.inputs[0].shape[1:])).astype("float32")]
    xs = [rng.standard_normal((n, *t.shape[1:])).astype("float32") for t in model.inputs]
    if any(isinstance(layer, K.Masking) for layer in model.layers):
        xs[0][0, 3:] = 0.0  # the first sequence's last two steps are masked
    return xs


def _same_weights(r_model, k_model):
    """Every layer's variables, matched by layer name, bit for bit."""
    k_layers = {layer.name: layer for layer in k_model.layers}
    assert len(r_model.layers) == len(k_model.layers)
    for layer in r_model.layers:
        want = [np.asarray(w) for w in k_layers[layer.name].weights]
        got = [np.asarray(w) for w in layer.weights]
        assert len(got) == len(want), layer.name
        for a, b in zip(sorted(got, key=np.shape), sorted(want, key=np.shape), strict=True):
            np.testing.assert_array_equal(a, b)


def _same_predictions(r_model, k_model, xs):
    y_r = r_model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    y_k = k_model(xs if len(xs) > 1 else xs[0], training=False)  # eager: no tf.function trace
    y_k = [y.numpy() for y in y_k] if isinstance(y_k, list) else y_k.numpy()
    for a, b in zip(y_r if isinstance(y_r, list) else [y_r],
                    y_k if isinstance(y_k, list) else [y_k], strict=True):  # fmt: skip
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_whole_model_h5_loads_into_reference(build, tmp_path):
    rng = np.random.default_rng(0)
    k_model = build()
    _randomize(k_model, rng)
    k_model.save(tmp_path / "m.h5")
    r_model = reference.saving.load_model(tmp_path / "m.h5")
    assert [type(x).__name__ for x in r_model.layers] == [
        type(x).__name__.replace("LegacyDense", "RefLegacyDense") for x in k_model.layers
    ]
    _same_weights(r_model, k_model)
    _same_predictions(r_model, k_model, _inputs(k_model, rng))


@pytest.mark.parametrize("build", ROWS, ids=lambda f: f.__name__)
def test_weights_h5_loads_by_topology(build, tmp_path):
    """A fresh reference model of the same architecture (other layer names: topological
    loading ignores them) takes a tf_keras `save_weights("w.h5")` file."""
    rng = np.random.default_rng(1)
    k_model = build()
    k_model.save(tmp_path / "m.h5")
    r_model = reference.saving.load_model(tmp_path / "m.h5")  # same architecture, other weights
    for layer in r_model.layers:
        layer.name = f"renamed_{layer.name}"
    _randomize(k_model, rng)
    k_model.save_weights(tmp_path / "w.h5")
    r_model.load_weights(tmp_path / "w.h5")
    _same_predictions(r_model, k_model, _inputs(k_model, rng))


def _by_name_models():
    k_model = tf_keras.Sequential([K.Input((3,)), K.Dense(4, name="a"), K.Dense(2, name="b")])
    _randomize(k_model, np.random.default_rng(2))
    r_model = reference.Sequential([reference.Input((3,)), rl.Dense(4, name="a"),
                                    rl.Dense(5, name="other"), rl.Dense(2, name="c")])  # fmt: skip
    return k_model, r_model


def test_by_name_loads_matching_layers_only(tmp_path):
    k_model, r_model = _by_name_models()
    k_model.save_weights(tmp_path / "w.h5")
    before = [w.copy() for w in r_model.get_weights()]
    r_model.load_weights(tmp_path / "w.h5", by_name=True)
    for a, b in zip(r_model.layers[0].get_weights(), k_model.layers[0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(r_model.get_weights()[2:], before[2:], strict=True):  # no "b" in the model
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"layer count mismatch.*has 3 layers"):
        r_model.load_weights(tmp_path / "w.h5")  # by topology: 3 layers with weights, file 2


def test_by_name_mismatch_raises_or_skips(tmp_path):
    k_model, r_model = _by_name_models()
    k_model.layers[1]._name = "other"  # (4, 2) in the file, (4, 5) in the model
    k_model.save_weights(tmp_path / "w.h5")
    before = [w.copy() for w in r_model.get_weights()]
    message = r"w\.h5: /other/b/kernel:0 \(layer 'other', variable 'sequential/other/kernel'\)"
    with pytest.raises(ValueError, match=message):
        r_model.load_weights(tmp_path / "w.h5", by_name=True)
    for a, b in zip(r_model.get_weights(), before, strict=True):  # "a" came first: unchanged
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match=r"Skipping loading.*other/kernel.*shape mismatch"):
        r_model.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(r_model.layers[0].kernel.numpy(), k_model.layers[0].kernel)
    np.testing.assert_array_equal(r_model.layers[1].kernel.numpy(), before[2])
    # other/bias has shape (5,) vs (2,) too: skipped; nothing of "other" was assigned
    np.testing.assert_array_equal(r_model.layers[1].bias.numpy(), before[3])


def test_topological_skip_mismatch_skips_the_variable(tmp_path):
    k_model = tf_keras.Sequential([K.Input((3,)), K.Dense(4), K.Dense(2)])
    _randomize(k_model, np.random.default_rng(3))
    k_model.save_weights(tmp_path / "w.h5")
    r_model = reference.Sequential([reference.Input((3,)), rl.Dense(4), rl.Dense(3)])
    before = [w.copy() for w in r_model.get_weights()]
    with pytest.raises(ValueError, match=r"dense_1/kernel:0 .*shape mismatch"):
        r_model.load_weights(tmp_path / "w.h5")
    for a, b in zip(r_model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match=r"Skipping loading"):
        r_model.load_weights(tmp_path / "w.h5", skip_mismatch=True)
    np.testing.assert_array_equal(r_model.layers[0].kernel.numpy(), k_model.layers[0].kernel)
    np.testing.assert_array_equal(r_model.layers[1].kernel.numpy(), before[2])


def test_compiled_model_resumes_training(tmp_path):
    """tf_keras trains 3 steps with Adam and saves `m.h5`; the reference rebuilds the model,
    compiles it from training_config, restores the optimizer state (iteration, m, v) and its
    4th step agrees with tf_keras's. (Keras 3.15 itself cannot load this file: "Could not
    deserialize 'keras.metrics.mse'"; with compile=False it starts a fresh optimizer.)"""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((8, 5)), rng.standard_normal((8, 2))
    with harness_floatx("float64"):
        k_model = tf_keras.Sequential([K.Input((5,)), K.Dense(4, use_bias=False),
                                       K.BatchNormalization(), K.Activation("relu"),
                                       K.Dense(2)])  # fmt: skip
        k_model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate=0.01), loss="mse")
        for _ in range(3):
            k_model.train_on_batch(x, y)
        k_model.save(tmp_path / "m.h5")
        r_model = reference.saving.load_model(tmp_path / "m.h5")
        opt = r_model.optimizer
        assert type(opt).__name__ == "Adam" and opt.iterations == 3
        np.testing.assert_allclose(float(opt.learning_rate), 0.01, rtol=1e-7)
        k_slots = [np.asarray(v) for v in k_model.optimizer.variables()[1:]]
        r_slots = [v.numpy() for v in opt.variables[2:]]
        assert len(r_slots) == len(k_slots) == 10
        for a, b in zip(r_slots, k_slots, strict=True):
            np.testing.assert_array_equal(a, b)
        r_model.train_on_batch(x, y)
        k_model.train_on_batch(x, y)
        for a, b in zip(r_model.trainable_weights, k_model.trainable_weights, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
        # tf_keras's BatchNormalization rounds its decay 1 - momentum to float32 (it converts
        # the Python float to a float32 tensor, then casts it to float64: batch_normalization.py
        # line 867), Keras 3 and the reference do not: each update of the moving statistics
        # differs by (float32(0.01) - 0.01) / 0.01 = 2.2e-8 of itself (measured 5.8e-9 relative
        # on the moving mean; the trainable weights agree to 2e-16).
        for a, b in zip(r_model.non_trainable_weights, k_model.non_trainable_weights, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-12)


COMPILED = {
    "sparse ce, accuracy, rmsprop": (lambda: "sparse_categorical_crossentropy",
                                     lambda: ["accuracy"], lambda: "rmsprop", "labels"),
    "mse object, mae + rmse, sgd momentum": (
        lambda: tf_keras.losses.MeanSquaredError(),
        lambda: ["mae", tf_keras.metrics.RootMeanSquaredError()],
        lambda: tf_keras.optimizers.SGD(0.1, momentum=0.9), "targets"),
    "ce from logits, categorical accuracy, adam": (
        lambda: tf_keras.losses.CategoricalCrossentropy(from_logits=True),
        lambda: ["categorical_accuracy"], lambda: "adam", "one hot"),
}  # fmt: skip


@pytest.mark.parametrize("loss, metrics, optimizer, y_kind", COMPILED.values(), ids=COMPILED.keys())
def test_training_config_losses_and_metrics(loss, metrics, optimizer, y_kind, tmp_path):
    """tf_keras's training_config spellings (MeanMetricWrapper, loss objects with reduction
    "auto", `Custom>` optimizers): after loading, one more step gives tf_keras's loss, metrics
    and weights (float32: rtol 1e-5, as the predictions)."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 4)).astype("float32")
    labels = rng.integers(0, 3, 6)
    y = {"labels": labels, "one hot": np.eye(3)[labels], "targets": rng.standard_normal((6, 3))}
    y = y[y_kind].astype("float32")
    k_model = tf_keras.Sequential([K.Input((4,)), K.Dense(5, activation="relu"), K.Dense(3)])
    k_model.compile(optimizer=optimizer(), loss=loss(), metrics=metrics())
    k_model.train_on_batch(x, y)
    k_model.save(tmp_path / "m.h5")
    r_model = reference.saving.load_model(tmp_path / "m.h5")
    got, want = r_model.train_on_batch(x, y), k_model.train_on_batch(x, y)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for a, b in zip(r_model.get_weights(), k_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_legacy_model_loads_where_tensorflow_cannot_be_imported(tmp_path):
    rng = np.random.default_rng(5)
    k_model = conv_rnn()
    _randomize(k_model, rng)
    k_model.save(tmp_path / "m.h5")
    (x,) = _inputs(k_model, rng)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import numpy as np, reference
        model = reference.saving.load_model({str(tmp_path / "m.h5")!r})
        np.save({str(tmp_path / "y.npy")!r}, model.predict(np.load({str(tmp_path / "x.npy")!r})))
        assert not any(m.split(".")[0] in ("tensorflow", "keras", "tf_keras") for m in sys.modules)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=os.getcwd())
    y = np.load(tmp_path / "y.npy", allow_pickle=False)
    np.testing.assert_allclose(y, k_model(x, training=False).numpy(), rtol=1e-5, atol=1e-5)


def _older_spellings(config):
    """The same model in the spellings of older Keras 2 releases: a Sequential config that is a
    bare list of layers without an InputLayer (Keras <= 2.2.2), a functional model's class
    named "Model" (Keras < 2.4)."""
    if config["class_name"] == "Sequential":
        return {"class_name": "Sequential", "config": config["config"]["layers"][1:]}
    return {**config, "class_name": "Model"}


@pytest.mark.parametrize("build", [sequential, functional], ids=lambda f: f.__name__)
def test_older_keras2_spellings_load(build, tmp_path):
    """A real tf_keras file whose model_config is rewritten in older Keras 2 spellings."""
    rng = np.random.default_rng(7)
    k_model = build()
    _randomize(k_model, rng)
    k_model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        config = json.loads(f.attrs["model_config"])
        f.attrs["model_config"] = json.dumps(_older_spellings(config)).encode()
    r_model = reference.saving.load_model(tmp_path / "m.h5")
    _same_weights(r_model, k_model)
    _same_predictions(r_model, k_model, _inputs(k_model, rng))


# -- refused configs ------------------------------------------------------------------------


def _lambda_model():
    x = K.Input((3,))
    return tf_keras.Model(x, K.Lambda(lambda t: t * 2)(K.Dense(2)(x)))


def _tf_op_model():
    x = K.Input((3,))
    return tf_keras.Model(x, K.Dense(2)(x) * 2.0)  # a TFOpLambda layer


def _time_major():
    return tf_keras.Sequential([K.Input((4, 3)), K.LSTM(2, time_major=True)])


def _mixed():
    tf_keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        return tf_keras.Sequential([K.Input((3,)), K.Dense(2)])
    finally:  # None: back to the default policy, which follows floatx (not a fixed float32)
        tf_keras.mixed_precision.set_global_policy(None)


REFUSED = {
    "lambda": (_lambda_model, {}, r"deserialization of a `Lambda` layer .* `safe_mode=False`"),
    "lambda unsafe": (_lambda_model, {"safe_mode": False}, r"could not locate class 'Lambda'"),
    "tf op": (_tf_op_model, {}, r"could not locate class 'TFOpLambda'.*register_serializable"),
    "time major": (_time_major, {}, r"lstm: time_major=True is not supported"),
    # Keras 2's dtype {"class_name": "Policy", ...} is mapped to its name, which the reference
    # (no mixed precision) refuses
    "mixed precision": (_mixed, {}, r"Invalid dtype: 'mixed_float16'"),
}


@pytest.mark.parametrize("build, kwargs, message", REFUSED.values(), ids=REFUSED.keys())
def test_unsupported_configs_are_refused(build, kwargs, message, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf_keras warns about saving a lambda
        build().save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=message) as info:
        reference.saving.load_model(tmp_path / "m.h5", **kwargs)
    assert "m.h5" in str(info.value)


# -- untrusted files: a clear error, and the target's weights exactly as they were -------------


@pytest.fixture
def weights_file(tmp_path):
    """A tf_keras weights file of three Dense layers and the reference model it loads into."""
    k_model = tf_keras.Sequential([K.Input((3,)), K.Dense(4), K.Dense(4), K.Dense(2)])
    _randomize(k_model, np.random.default_rng(6))
    k_model.save_weights(tmp_path / "w.h5")
    r_model = reference.Sequential([reference.Input((3,)), rl.Dense(4), rl.Dense(4), rl.Dense(2)])
    return tmp_path / "w.h5", r_model


def _replace(name, make):
    """Replace dataset `name` (under dense_2, the LAST layer: an eager loader would already have
    assigned the first two) with what make(f, path, value) creates."""

    def mutate(f):
        path = f"dense_2/dense_2/{name}"
        value = f[path][()]
        del f[path]
        make(f, path, value)

    return mutate


def _external(f, path, value):
    with h5py.File(f.filename + ".other.h5", "w") as g:
        g["x"] = value
    f[path] = h5py.ExternalLink(os.path.basename(f.filename) + ".other.h5", "/x")


def _virtual(f, path, value):
    with h5py.File(f.filename + ".other.h5", "w") as g:
        g["x"] = value
    layout = h5py.VirtualLayout(shape=value.shape, dtype=value.dtype)
    layout[...] = h5py.VirtualSource(f.filename + ".other.h5", "x", shape=value.shape)
    f.create_virtual_dataset(path, layout)


def _set_attr(group, name, value):
    def mutate(f):
        f[group].attrs[name] = value

    return mutate


HOSTILE = {
    "external link": (_replace("kernel:0", _external),
                      r"refusing ExternalLink '/dense_2/dense_2/kernel:0'"),
    "virtual dataset": (_replace("kernel:0", _virtual),
                        r"refusing dataset '/dense_2/dense_2/kernel:0'.*virtual"),
    "soft link": (_replace("bias:0", lambda f, p, v: f.__setitem__(p, h5py.SoftLink("/x"))),
                  r"refusing SoftLink '/dense_2/dense_2/bias:0'"),
    "string dtype": (_replace("bias:0", lambda f, p, v: f.__setitem__(p, np.array([b"a", b"b"]))),
                     r"/dense_2/dense_2/bias:0 \(layer 'dense_2', variable '.*dense_2/bias'\): "
                     r"dtype mismatch"),
    "complex dtype": (_replace("kernel:0", lambda f, p, v: f.__setitem__(p, v.astype("c8"))),
                      r"/dense_2/dense_2/kernel:0 .*variable '.*dense_2/kernel'.*dtype mismatch"),
    "wrong shape": (_replace("kernel:0", lambda f, p, v: f.__setitem__(p, v[:2])),
                    r"/dense_2/dense_2/kernel:0 .*variable '.*dense_2/kernel'.*shape mismatch"),
    "missing variable": (_replace("bias:0", lambda f, p, v: None),
                         r"dense_2: variable 'dense_2/bias:0' is listed in weight_names but is "
                         r"missing"),
    "extra variable": (lambda f: f.__setitem__("dense_2/dense_2/extra:0", np.ones(2, "f4")),
                       r"dense_2: datasets \['dense_2/extra:0'\] are not listed"),
    "fewer names": (lambda f: (f.__delitem__("dense_2/dense_2/bias:0"),
                               _set_attr("dense_2", "weight_names", [b"dense_2/kernel:0"])(f)),
                    r"weight count mismatch for layer 'dense_2'.*has 2 variables"),
    "extra layer": (lambda f: (f.copy("dense_2", "dense_3"), f.attrs.__setitem__(
                        "layer_names", [b"dense", b"dense_1", b"dense_2", b"dense_3"])),
                    r"layer count mismatch"),
    "missing layer group": (lambda f: f.__delitem__("dense_2"),
                            r"layer 'dense_2' is listed in layer_names but has no group"),
    "listed twice": (_set_attr("dense_2", "weight_names", [b"dense_2/kernel:0"] * 2),
                     r"dense_2: weight_names lists \['dense_2/kernel:0'\] more than once"),
    "number names": (_set_attr("/", "layer_names", np.arange(3)),
                     r"expected a string attribute, found int"),
    "scalar names": (lambda f: (f.__delitem__("dense_2/dense_2/bias:0"),
                                _set_attr("dense_2", "weight_names", b"dense_2/kernel:0")(f)),
                     r"weight count mismatch for layer 'dense_2'"),
}  # fmt: skip


@pytest.mark.parametrize("mutate, message", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_weights_file_raises_and_changes_nothing(weights_file, mutate, message):
    path, r_model = weights_file
    with h5py.File(path, "r+") as f:
        mutate(f)
    before = [w.copy() for w in r_model.get_weights()]
    with pytest.raises(ValueError, match=message) as info:
        r_model.load_weights(path)
    assert str(path) in str(info.value)
    for a, b in zip(r_model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_weights_file_raises_and_changes_nothing(weights_file, cut):
    path, r_model = weights_file
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * cut)])
    before = [w.copy() for w in r_model.get_weights()]
    with pytest.raises(ValueError, match=r"w\.h5") as info:
        r_model.load_weights(path)
    assert str(path) in str(info.value)
    for a, b in zip(r_model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_reordered_weight_names_load_by_name(weights_file):
    """A file that lists a layer's variables in another order (bias before kernel) loads each
    value into the variable of its name (Keras, by position, would refuse the shapes here, and
    load crossed values when the shapes agree)."""
    path, r_model = weights_file
    with h5py.File(path, "r+") as f:
        f["dense_2"].attrs["weight_names"] = [b"dense_2/bias:0", b"dense_2/kernel:0"]
        kernel, bias = f["dense_2/dense_2/kernel:0"][()], f["dense_2/dense_2/bias:0"][()]
    r_model.load_weights(path)
    np.testing.assert_array_equal(r_model.layers[2].kernel.numpy(), kernel)
    np.testing.assert_array_equal(r_model.layers[2].bias.numpy(), bias)


BAD_CALLS = {
    "no such file": (lambda p: reference.saving.load_model(p.parent / "nope.h5"),
                     FileNotFoundError, r"load_model: no such file: .*nope\.h5"),
    "weights only": (lambda p: reference.saving.load_model(p),
                     ValueError, r"w\.h5 has no model_config: it holds weights only"),
    "layer target": (lambda p: rl.Dense(2).load_weights(p),
                     ValueError, r"w\.h5: a Keras 2 `\.h5` weights file loads into a model"),
    "by_name on .weights.h5": (lambda p: rl.Dense(2).load_weights(p.parent / "x.weights.h5",
                                                                 by_name=True),
                               ValueError, r"`by_name` only supports loading legacy"),
    "not hdf5": (lambda p: (p.write_bytes(b"not an hdf5 file"),
                            reference.saving.load_model(p)),
                 ValueError, r"w\.h5 is not a readable HDF5 file"),
}  # fmt: skip


@pytest.mark.parametrize("call, error, message", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_calls(weights_file, call, error, message):
    with pytest.raises(error, match=message):
        call(weights_file[0])
