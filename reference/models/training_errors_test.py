"""The issue's bad-input list beyond models_test.py's rows, and the new fit options' errors:
each a clear ValueError/TypeError before anything changes (weights, optimizer iterations)."""

from __future__ import annotations

import numpy as np
import pytest

import reference as R
from reference import optimizers
from reference.layers import Conv2D, Dense, Flatten

RNG = np.random.default_rng(1)
X = RNG.standard_normal((30, 4))
Y = RNG.integers(0, 3, 30)
IMAGES = RNG.standard_normal((30, 6, 6, 1))


def mlp():
    inp = R.Input((4,))
    model = R.Model(inp, Dense(3, activation="softmax")(Dense(5)(inp)))
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def two_outputs():
    inp = R.Input((4,))
    h = Dense(5, name="h")(inp)
    model = R.Model(inp, [Dense(1, name="reg")(h), Dense(3, activation="softmax", name="cls")(h)])
    model.compile(optimizers.Adam(), ["mse", "sparse_categorical_crossentropy"])
    return model


def cnn():
    model = R.Sequential([R.Input((6, 6, 1)), Conv2D(2, 3), Flatten(), Dense(3)])
    model.compile(optimizers.Adam(), "sparse_categorical_crossentropy")
    return model


Y2 = [RNG.standard_normal((30, 1)), Y]
BAD = [
    # (case, model, action, exception, message)
    ("negative sparse label", mlp, lambda m: m.fit(X, np.full(30, -1), verbose=0), ValueError,
     r"\[0, 3\)"),
    ("label >= classes in train_on_batch", mlp, lambda m: m.train_on_batch(X, np.full(30, 7)),
     ValueError, r"\[0, 3\)"),
    ("x and y lengths in train_on_batch", mlp, lambda m: m.train_on_batch(X, Y[:-2]),
     ValueError, "cardinality"),
    ("x and y lengths in evaluate", mlp, lambda m: m.evaluate(X[:-1], Y, verbose=0),
     ValueError, "cardinality"),
    ("validation x and y lengths", mlp,
     lambda m: m.fit(X, Y, validation_data=(X, Y[:-1]), verbose=0), ValueError, "cardinality"),
    ("validation_data not a tuple", mlp, lambda m: m.fit(X, Y, validation_data=X, verbose=0),
     ValueError, "validation_data"),
    ("sample_weight length", mlp, lambda m: m.fit(X, Y, sample_weight=np.ones(29), verbose=0),
     ValueError, "cardinality"),
    ("class_weight not a dict", mlp, lambda m: m.fit(X, Y, class_weight=[1.0, 2.0], verbose=0),
     TypeError, "class_weight"),
    ("predict on the wrong input shape", mlp, lambda m: m.predict(X[:, :3]), ValueError,
     "incompatible"),
    ("image of the wrong shape", cnn, lambda m: m.fit(IMAGES[:, :5], Y, verbose=0), ValueError,
     "incompatible"),
    ("image label out of range", cnn, lambda m: m.fit(IMAGES, Y + 1, verbose=0), ValueError,
     r"\[0, 3\)"),
    ("one y for two outputs", two_outputs, lambda m: m.fit(X, Y, verbose=0), ValueError,
     "2 outputs"),
    ("sample_weight per output, too few", two_outputs,
     lambda m: m.fit(X, Y2, sample_weight=[np.ones(30)], verbose=0), ValueError,
     "one `sample_weight` array per output"),
]  # fmt: skip


@pytest.mark.parametrize("case, build, action, error, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_and_changes_nothing(case, build, action, error, message):
    model = build()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(error, match=message):
        action(model)
    for w, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, b)
    assert model.optimizer.iterations == 0


def test_optimizer_rejects_a_gradient_count_mismatch():
    a, b = R.Variable(np.ones(3), name="a"), R.Variable(np.ones(2), name="b")
    opt = optimizers.Ftrl()
    with pytest.raises(ValueError, match="received 1 gradients for 2 variables"):
        opt.apply([np.ones(3)], [a, b])
    np.testing.assert_array_equal(a.numpy(), np.ones(3))
    assert opt.iterations == 0 and not opt.built
