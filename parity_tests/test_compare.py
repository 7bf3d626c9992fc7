"""compare_models: per-layer parity of a whole model, the first diverging layer and its hint.

Each bug row injects one porting bug into the reference side (a port's subclass, a setting or
a weight transform) and checks that the report names the right layer and the right hint.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import keras
import numpy as np
import pytest

import reference
from parity_tests import compare_models
from reference import layers as L

SHAPE = (8, 8, 3)


def keras_model() -> Any:
    """Conv2D -> BatchNormalization -> LeakyReLU -> GlobalAveragePooling2D -> Dense (square)."""
    keras.utils.set_random_seed(0)
    inp = keras.Input(SHAPE)
    h = keras.layers.Conv2D(3, 3, padding="same", name="conv")(inp)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.LeakyReLU(name="act")(h)
    h = keras.layers.GlobalAveragePooling2D(name="pool")(h)
    model = keras.Model(inp, keras.layers.Dense(3, name="head")(h))
    rng = np.random.default_rng(0)  # non-degenerate weights; positive variances stay positive
    model.set_weights([_fresh(w, rng) for w in model.get_weights()])
    return model


def _fresh(w, rng):
    if np.all(w > 0):
        return (w * rng.uniform(0.5, 1.5, w.shape)).astype(w.dtype)
    return (w + rng.normal(0.0, 0.5, w.shape)).astype(w.dtype)


class EdgePaddedConv(L.Conv2D):
    """A port that pads with copies of the edge instead of zeros (built with padding="valid")."""

    def call(self, inputs, training=None):
        x = np.concatenate([inputs[:, :1], inputs, inputs[:, -1:]], axis=1)
        x = np.concatenate([x[:, :, :1], x, x[:, :, -1:]], axis=2)
        return super().call(x)


class TransposedDense(L.Dense):
    """A port that reads the kernel as (out, in)."""

    def call(self, inputs, training=None):
        return np.matmul(inputs, np.transpose(self.kernel)) + self.bias


LAYERS = {
    "conv": (L.Conv2D, (3, 3), {"padding": "same"}),
    "bn": (L.BatchNormalization, (), {}),
    "act": (L.LeakyReLU, (), {}),
    "pool": (L.GlobalAveragePooling2D, (), {}),
    "head": (L.Dense, (3,), {}),
}


def reference_model(k_model, port: dict | None = None, weights=None) -> Any:
    """The same model in the reference, with a port's classes or settings where `port` says."""
    h = inp = reference.Input(SHAPE)
    for name, (cls, args, kwargs) in LAYERS.items():
        cls, extra = (port or {}).get(name, (cls, {}))
        h = cls(*args, name=name, **{**kwargs, **extra})(h)
    model = reference.Model(inp, h)
    values = k_model.get_weights()
    model.set_weights(weights(values) if weights else values)
    return model


def _transpose_conv_kernel(values):
    return [values[0].transpose(0, 1, 3, 2), *values[1:]]


@dataclasses.dataclass
class Bug:
    id: str
    layer: str  # the layer the report must name first
    hint: str  # a word its hint must contain
    port: dict = dataclasses.field(default_factory=dict)
    weights: Any = None
    training: bool = False


BUGS = [
    Bug("edge padding", "conv", "padding", {"conv": (EdgePaddedConv, {"padding": "valid"})}),
    Bug("kernel loaded transposed", "conv", "layout", weights=_transpose_conv_kernel),
    Bug("kernel read transposed", "head", "layout", {"head": (TransposedDense, {})}),
    Bug("BN epsilon 1e-5", "bn", "epsilon", {"bn": (L.BatchNormalization, {"epsilon": 1e-5})}),
    Bug(
        "BN momentum 0.9",
        "bn",
        "momentum",
        {"bn": (L.BatchNormalization, {"momentum": 0.9})},
        training=True,
    ),
    Bug("LeakyReLU slope 0.2", "act", "scale", {"act": (L.LeakyReLU, {"negative_slope": 0.2})}),
]


@pytest.fixture(scope="module")
def k_model():
    return keras_model()


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(1).standard_normal((2, *SHAPE)).astype("float32")


@pytest.mark.parametrize("training", [False, True])
def test_a_faithful_port_agrees_everywhere_and_nothing_changes(k_model, x, training):
    r_model = reference_model(k_model)
    before = [k_model.get_weights(), r_model.get_weights()]
    report = compare_models(r_model, k_model, x, training=training)
    assert report.ok and report.first_divergence is None, report.table()
    assert [r.name for r in report.rows] == list(LAYERS)
    assert all(r.status == "ok" and r.parity is not None for r in report.rows)
    assert report.end_to_end < 1e-5
    for old, new in zip(before, [k_model.get_weights(), r_model.get_weights()], strict=True):
        for a, b in zip(old, new, strict=True):
            np.testing.assert_array_equal(a, b)  # neither model was modified
    data = json.loads(json.dumps(report.as_dict()))
    assert data["ok"] and data["first_divergence"] is None
    assert [row["class"] for row in data["layers"]] == [
        "Conv2D",
        "BatchNormalization",
        "LeakyReLU",
        "GlobalAveragePooling2D",
        "Dense",
    ]


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_the_report_names_the_first_diverging_layer_and_the_cause(k_model, x, bug):
    r_model = reference_model(k_model, bug.port, bug.weights)
    report = compare_models(r_model, k_model, x, training=bug.training)
    first = report.first_divergence
    assert first is not None and first.name == bug.layer, report.table()
    assert bug.hint in first.hint, report.table()
    assert first.status == "FAIL" and not report.ok
    names = [r.name for r in report.rows]
    assert all(r.status == "ok" for r in report.rows[: names.index(bug.layer)])
    table = report.table()
    assert f">> {bug.layer}" in table and "hint: " in table
    assert json.loads(json.dumps(report.as_dict()))["first_divergence"] == bug.layer


def test_the_padding_bug_is_at_the_border_of_the_worst_tensor(k_model, x):
    port = {"conv": (EdgePaddedConv, {"padding": "valid"})}
    report = compare_models(reference_model(k_model, port), k_model, x)
    layer, tensor, err, failed, _ = report.worst
    assert (layer, tensor, failed) == ("conv", "output", True)
    spatial = err.max(axis=(0, 3))
    assert spatial[1:-1, 1:-1].max() < 1e-5 * spatial.max()  # the interior is clean


def test_layers_the_reference_lacks_get_a_row_not_a_crash(x):
    keras.utils.set_random_seed(0)
    inp = keras.Input((6,))
    h = keras.layers.Dense(4, name="d1")(inp)
    h = keras.layers.Rescaling(2.0, name="scale_up")(h)
    model = keras.Model(inp, keras.layers.Dense(2, name="d2")(h))
    x6 = np.random.default_rng(2).standard_normal((3, 6)).astype("float32")
    report = compare_models(None, model, x6)
    statuses = {r.name: r.status for r in report.rows}
    assert statuses == {"d1": "ok", "scale_up": "unsupported", "d2": "ok"}, report.table()
    row = report.rows[1]
    assert row.cls == "Rescaling" and "'scale_up' (Rescaling)" in row.detail
    assert not report.ok and report.first_divergence is None
    assert "scale_up" in report.table() and "unsupported" in report.table()


def test_integer_inputs_and_keras_recorded_mask_none():
    keras.utils.set_random_seed(0)
    tokens = keras.Input((6,), dtype="int32")
    h = keras.layers.GlobalAveragePooling1D(name="gap")(keras.layers.Embedding(5, 4)(tokens))
    model = keras.Model(tokens, keras.layers.Dense(3, name="out")(h))
    ids = np.random.default_rng(3).integers(0, 5, (2, 6)).astype("int32")
    report = compare_models(None, model, ids)  # Keras passes gap mask=None: not a failure
    assert report.ok and len(report.rows) == 3, report.table()


@pytest.mark.parametrize(
    "inputs, message",
    [
        (np.zeros((2, 8, 8, 4), "float32"), "expects shape"),
        ([np.zeros((2, *SHAPE)), np.zeros((2, *SHAPE))], "takes 1 input(s), received 2"),
        ({"nope": np.zeros((2, *SHAPE))}, "inputs lack"),
    ],
)
def test_bad_inputs_are_a_clear_error(k_model, inputs, message):
    with pytest.raises(ValueError, match="compare_models") as e:
        compare_models(reference_model(k_model), k_model, inputs)
    assert message in str(e.value)


def test_a_subclassed_keras_model_is_refused_clearly(x):
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, inputs):
            return self.d(inputs)

    with pytest.raises(ValueError, match="subclassed model, or a Sequential built without"):
        compare_models(None, Sub(), x)
    with pytest.raises(ValueError, match="has no graph"):
        compare_models(None, keras.Sequential([keras.layers.Dense(2)]), x)
