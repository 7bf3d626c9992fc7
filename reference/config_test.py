"""NumPy-only tests of reference.config: defaults, setters, errors, and the readers of floatx.

The Keras side of the same settings (the dtype policy fixed at the first layer, a user layer
without `dtype=` in float64 against its Keras twin) is parity_tests/test_seed_layer_keras.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference import config, examples, initializers


@pytest.fixture(autouse=True)
def _restore_config():
    saved = config.floatx(), config.epsilon(), config.image_data_format(), config._DTYPE_POLICY
    yield
    config.set_floatx(saved[0])
    config.set_epsilon(saved[1])
    config.set_image_data_format(saved[2])
    config._DTYPE_POLICY = saved[3]  # None again if no layer had fixed it


def test_defaults_are_keras_defaults() -> None:
    assert (config.floatx(), config.epsilon(), config.image_data_format()) == (
        "float32",
        1e-7,
        "channels_last",
    )


SETTINGS = [
    # (setter, getter, value given, value read back)
    ("set_floatx", "floatx", "float64", "float64"),
    ("set_floatx", "floatx", "float16", "float16"),
    ("set_epsilon", "epsilon", 1e-5, 1e-5),
    ("set_epsilon", "epsilon", 0, 0.0),
    ("set_image_data_format", "image_data_format", "channels_first", "channels_first"),
    ("set_image_data_format", "image_data_format", "CHANNELS_LAST", "channels_last"),
    ("set_dtype_policy", "dtype_policy", "float64", "float64"),
    ("set_dtype_policy", "dtype_policy", np.dtype("float16"), "float16"),
]


@pytest.mark.parametrize("setter, getter, value, expected", SETTINGS)
def test_setters_round_trip(setter, getter, value, expected) -> None:
    getattr(config, setter)(value)
    assert getattr(config, getter)() == expected


BAD = [
    # (setter, value, error type, a fragment of the message)
    ("set_floatx", "bfloat16", ValueError, "NumPy has no bfloat16"),
    ("set_floatx", "float8", ValueError, "Received: value='float8'"),
    ("set_floatx", "int32", ValueError, "Expected one of ['float16', 'float32', 'float64']"),
    ("set_floatx", None, ValueError, "Received: value=None"),
    ("set_epsilon", "1e-3", TypeError, "set_epsilon: expected a real number"),
    ("set_epsilon", True, TypeError, "of type bool"),
    ("set_epsilon", -1e-7, ValueError, "finite number >= 0"),
    ("set_epsilon", float("nan"), ValueError, "Received: value=nan"),
    ("set_image_data_format", "nchw", ValueError, "Received: data_format=nchw"),
    ("set_image_data_format", None, ValueError, "Received: data_format=none"),
    ("set_dtype_policy", "mixed_float16", ValueError, "Received: policy='mixed_float16'"),
    ("set_dtype_policy", None, ValueError, "set_dtype_policy: expected the name of a float"),
]


@pytest.mark.parametrize("setter, value, error, fragment", BAD)
def test_bad_values_raise_and_change_nothing(setter, value, error, fragment) -> None:
    def state():
        return config.floatx(), config.epsilon(), config.image_data_format(), config.dtype_policy()

    before = state()
    with pytest.raises(error) as info:
        getattr(config, setter)(value)
    assert fragment in str(info.value)
    assert state() == before


@pytest.mark.parametrize(
    "data_format, expected",
    [(None, "channels_first"), ("Channels_Last", "channels_last")],
)
def test_standardize_data_format(data_format, expected) -> None:
    config.set_image_data_format("channels_first")
    assert config.standardize_data_format(data_format) == expected


# Every reader of the default float dtype: (description, thunk). Layers read the dtype policy
# (fixed from floatx at its first read), the others read floatx() itself, as in Keras 3.
LAYER_READERS = [
    ("Layer().dtype", lambda: reference.Layer().dtype),
    ("Layer().compute_dtype", lambda: reference.Layer().compute_dtype),
    ("add_weight default", lambda: reference.Layer().add_weight(shape=(2,)).dtype),
    ("Dense output", lambda: reference.layers.Dense(2)(np.ones((1, 3), "float32")).dtype.name),
    ("seed layer kernel", lambda: _built_seed_layer().kernel.dtype),
]
FLOATX_READERS = [
    ("Variable(initializer)", lambda: reference.Variable(initializers.Zeros(), shape=(2,)).dtype),
    ("initializer()", lambda: initializers.GlorotUniform(seed=1)((2, 2)).dtype.name),
    ("initializer(dtype=float)", lambda: initializers.Zeros()((2,), dtype=float).dtype.name),
]


def _built_seed_layer():
    layer = examples.CustomDense(2, activation="tanh")
    layer(np.ones((1, 3), "float32"))
    return layer


@pytest.mark.parametrize("floatx", ["float16", "float32", "float64"])
@pytest.mark.parametrize(
    "what, read", LAYER_READERS + FLOATX_READERS, ids=[r[0] for r in LAYER_READERS + FLOATX_READERS]
)
def test_floatx_set_before_any_layer_is_the_default_dtype_everywhere(what, read, floatx) -> None:
    config._DTYPE_POLICY = None  # a fresh process: no layer has read the policy yet
    config.set_floatx(floatx)
    assert read() == floatx


@pytest.mark.parametrize("what, read", LAYER_READERS, ids=[r[0] for r in LAYER_READERS])
def test_layers_keep_the_policy_fixed_by_the_first_layer(what, read) -> None:
    config._DTYPE_POLICY = None
    first = reference.Layer()  # fixes the policy at float32, as Keras 3's first layer does
    config.set_floatx("float64")
    assert first.dtype == "float32" and read() == "float32"
    assert initializers.Zeros()((2,)).dtype == np.float64  # floatx() readers follow at once
    config.set_dtype_policy("float64")
    assert read() == "float64"


def test_python_numbers_stay_float32_whatever_floatx_is() -> None:
    # Keras: keras.Variable(1.0) is float32 even under set_floatx("float64") (TF converts the
    # Python float to a float32 tensor first); the reference follows.
    config.set_floatx("float64")
    assert reference.Variable(1.0).dtype == "float32"
