"""The one object registry (NumPy only): registered names of every kind, unknown classes, and
nothing imported by a name read from a config."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import reference
from reference import activations, constraints, initializers, regularizers
from reference.saving import deserialize_keras_object, registry, serialize_keras_object


class HalfInit(initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return np.full(shape, 0.5, dtype)


class Penalty(regularizers.Regularizer):
    def __init__(self, a=1.0):
        self.a = a

    def __call__(self, x):
        return self.a * np.sum(np.abs(x))

    def get_config(self):
        return {"a": self.a}


class Clip(constraints.Constraint):
    def __call__(self, w):
        return np.clip(w, -1, 1)


class Twice(reference.Layer):
    def call(self, x):
        return 2 * x


def double(x):
    return 2 * x


# (kind's deserialize, the object, its registered name): one row per kind of object.
KINDS = {
    "initializer": (initializers.deserialize, HalfInit(), "Test>HalfInit"),
    "regularizer": (regularizers.deserialize, Penalty(0.5), "Test>Penalty"),
    "constraint": (constraints.deserialize, Clip(), "Test>Clip"),
    "layer": (deserialize_keras_object, Twice(name="twice"), "Test>Twice"),
}


@pytest.fixture(scope="module", autouse=True)
def _registered():
    for _, obj, _ in KINDS.values():
        registry.register_serializable("Test")(type(obj))
    registry.register_serializable("Test")(double)
    yield
    for key in ["Test>HalfInit", "Test>Penalty", "Test>Clip", "Test>Twice", "Test>double"]:
        registry._NAMES.pop(registry._CUSTOM.pop(key), None)


@pytest.mark.parametrize("kind", KINDS, ids=KINDS.keys())
def test_registered_classes_round_trip_without_custom_objects(kind):
    deserialize, obj, name = KINDS[kind]
    config = serialize_keras_object(obj)
    assert config["registered_name"] == name and config["class_name"] == type(obj).__name__
    assert config["module"] == __name__
    again = deserialize(config)
    assert type(again) is type(obj) and again.get_config() == obj.get_config()


def test_registered_function_as_activation():
    config = activations.serialize(double)
    assert config == {"module": "builtins", "class_name": "function", "config": "Test>double",
                      "registered_name": "function"}  # fmt: skip
    assert activations.get(config) is double
    dense = reference.layers.Dense(2, activation=double)
    assert deserialize_keras_object(serialize_keras_object(dense)).activation is double


BAD = {
    "unknown class": ({"module": "keras.layers", "class_name": "Frobnicate", "config": {}},
                      r"could not locate class 'Frobnicate'.*register_serializable"),
    "module named in the file": ({"module": "antigravity", "class_name": "Twice",
                                  "config": {}, "registered_name": None},
                                 r"could not locate class 'Twice'.*module 'antigravity'"),
    "unregistered package name": ({"module": __name__, "class_name": "Twice", "config": {},
                                   "registered_name": "Other>Twice"},
                                  r"registered name 'Other>Twice'.*custom_objects"),
}  # fmt: skip


@pytest.mark.parametrize("config, message", BAD.values(), ids=BAD.keys())
def test_unknown_classes_name_the_class_and_how_to_register(config, message):
    before = set(sys.modules)
    with pytest.raises(ValueError, match=message):
        deserialize_keras_object(config)
    assert set(sys.modules) == before  # nothing was imported by a name read from the config


def test_custom_objects_resolve_an_unregistered_class():
    config = {"module": "elsewhere", "class_name": "Other", "config": {"name": "o"}}
    assert type(deserialize_keras_object(config, custom_objects={"Other": Twice})) is Twice


def test_registering_twice_or_a_bad_package_is_refused():
    with pytest.raises(ValueError, match=r"'Test>Twice' has already been registered"):
        registry.register_serializable("Test", "Twice")(HalfInit)
    with pytest.raises(ValueError, match=r"without '>'.*package='a>b'"):
        registry.register_serializable("a>b")
    with pytest.raises(ValueError, match=r"does not implement `get_config\(\)`"):
        registry.register_serializable("Test")(type("NoConfig", (), {}))


def test_builtins_are_named_by_their_keras_module():
    names = {cls.__name__: module for cls, module in registry.builtins().items()}
    assert names["Dense"] == "keras.layers" and names["GlorotUniform"] == "keras.initializers"
    assert names["L2"] == "keras.regularizers" and names["MaxNorm"] == "keras.constraints"
    assert names["Adam"] == "keras.optimizers" and names["AUC"] == "keras.metrics"
    assert names["ExponentialDecay"] == "keras.optimizers.schedules"
    # one class name in two kinds: the module says which
    assert registry.builtin("keras.losses", "MeanSquaredError") is reference.losses.MeanSquaredError
    assert (
        registry.builtin("keras.metrics", "MeanSquaredError") is reference.metrics.MeanSquaredError
    )
