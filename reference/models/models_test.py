"""Models, training and callbacks in NumPy only: graph building, errors, callbacks' effects."""

from __future__ import annotations

import io

import numpy as np
import pytest

import reference as R
from reference import callbacks, optimizers
from reference.layers import Activation, BatchNormalization, Dense

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype("float32")
Y = RNG.integers(0, 3, 40)


def mlp(name=None):
    inp = R.Input((4,), name="x")
    return R.Model(inp, Dense(3, activation="softmax", name="out")(Dense(5, name="h")(inp)),
                   name=name)  # fmt: skip


def compiled(model=None, **kw):
    model = model or mlp()
    model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], **kw)  # fmt: skip
    return model


def test_functional_graph_shared_residual_nested_and_get_layer():
    inp = R.Input((4,))
    shared = Dense(4, activation="tanh", name="shared")
    h = shared(shared(inp)) + inp  # shared layer twice, residual connection
    inner = mlp("inner")
    a, b = inner(h), Dense(2, name="b")(h)
    model = R.Model(inp, [a, b])
    assert model.get_layer("inner") is inner and model.get_layer("shared") is shared
    assert model.get_layer(index=1) is shared
    assert [w.path for w in model.weights][:2] == ["shared/kernel", "shared/bias"]
    ya, yb = model(X)
    s = np.tanh(np.tanh(X @ shared.kernel.value + shared.bias.value) @ shared.kernel.value
                + shared.bias.value) + X  # fmt: skip
    np.testing.assert_allclose(ya, inner(s), rtol=1e-6)
    np.testing.assert_allclose(yb, s @ model.get_layer("b").kernel.value, rtol=1e-5, atol=1e-6)
    assert model.output_shape == [(None, 3), (None, 2)]


def test_multiple_inputs_by_list_and_dict():
    a, b = R.Input((2,), name="a"), R.Input((3,), name="b")
    model = R.Model([a, b], Dense(1)(Dense(2)(a) + Dense(2)(b)))
    xa, xb = X[:, :2], X[:, :3]
    np.testing.assert_array_equal(model([xa, xb]), model({"a": xa, "b": xb}))


def test_sequential_add_pop_and_deferred_build():
    model = R.Sequential([Dense(5), Dense(2)])
    assert not model.built
    model(X)
    assert model.built and model.input_shape == (None, 4)
    assert [w.path for w in model.weights][0].startswith(model.name + "/")
    model.add(Dense(3))
    model(X)
    assert model(X).shape == (40, 3)
    popped = model.pop()
    assert isinstance(popped, Dense) and model(X).shape == (40, 2)


def test_subclassed_model_trains():
    class Net(R.Model):
        def __init__(self):
            super().__init__()
            self.h, self.out = Dense(8, activation="relu"), Dense(3)

        def call(self, x, training=None):
            return self.out(self.h(x))

    net = Net()
    net.compile(optimizer="adam", loss=R.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = net.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 3 and len(net.trainable_weights) == 4


def test_summary_lists_layers_shapes_and_counts():
    lines = []
    model = R.Sequential([R.Input((4,)), Dense(5), BatchNormalization(), Activation("relu")])
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "dense" in text and "(None, 5)" in text and "BatchNormalization" in text
    assert "Total params: 45" in text and "Non-trainable params: 10" in text


def _unchanged(model, before):
    for w, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)


BAD = [
    ("x and y lengths", lambda m: m.fit(X, Y[:-1], verbose=0), "cardinality"),
    ("label out of range", lambda m: m.fit(X, np.full(40, 3), verbose=0), r"\[0, 3\)"),
    ("wrong input shape", lambda m: m.fit(X[:, :3], Y, verbose=0), "incompatible"),
    ("labels of the wrong shape", lambda m: m.fit(X, np.zeros((40, 2)), verbose=0), "shape"),
    ("fit before compile", lambda m: m.fit(X, Y, verbose=0), "compile"),
]


@pytest.mark.parametrize("name, action, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_and_changes_nothing(name, action, message):
    model = mlp() if name == "fit before compile" else compiled()
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        action(model)
    _unchanged(model, before)


def test_optimizer_rejects_a_gradient_of_the_wrong_shape():
    v = R.Variable(np.ones((2, 3)), name="w")
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=r"'w' has shape \(3, 2\).*\(2, 3\)"):
        opt.apply_gradients([(np.ones((3, 2)), v)])
    np.testing.assert_array_equal(v.numpy(), np.ones((2, 3)))
    assert opt.iterations == 0


def test_terminate_on_nan_stops_with_a_message(capsys):
    model = compiled()
    bad = X.copy()
    bad[20:] = np.nan
    history = model.fit(bad, Y, batch_size=10, epochs=5, verbose=0, shuffle=False,
                        callbacks=[callbacks.TerminateOnNaN()])  # fmt: skip
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert model.optimizer.iterations == 3 and len(history.history["loss"]) == 1


def test_early_stopping_restores_best_weights():
    model = compiled()
    snapshots = []

    class Snap(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    val = (X[:10], Y[:10])
    model.compile(optimizer=optimizers.SGD(2.0), loss="sparse_categorical_crossentropy")
    stop = callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    history = model.fit(X, Y, epochs=30, verbose=0, validation_data=val, callbacks=[Snap(), stop])
    best = int(np.argmin(history.history["val_loss"]))
    _unchanged(model, snapshots[best])
    assert len(history.history["loss"]) < 30


def test_learning_rate_callbacks_and_csv_logger(tmp_path):
    model = compiled()
    path = tmp_path / "log.csv"
    cbs = [callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)),
           callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0),
           callbacks.CSVLogger(str(path))]  # fmt: skip
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=cbs)
    # the scheduler sets 0.1/(epoch+1) at each epoch start; the logs get the rate of the epoch,
    # then the plateau callback halves it (Keras logs before reducing)
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    np.testing.assert_allclose(model.optimizer.learning_rate, 0.1 / 6, rtol=1e-6)
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,accuracy,learning_rate,loss" and len(rows) == 4


@pytest.mark.parametrize("verbose, marker", [(1, "━"), (2, "ms/step")])
def test_progress_output(verbose, marker):
    model = compiled()
    buffer = io.StringIO()
    cb = callbacks.ProgbarLogger(verbose, epochs=2, steps=2, stream=buffer)
    model.fit(X, Y, batch_size=20, epochs=2, verbose=0, callbacks=[cb])
    out = buffer.getvalue()
    assert "Epoch 2/2" in out and marker in out and "loss:" in out and "accuracy:" in out
