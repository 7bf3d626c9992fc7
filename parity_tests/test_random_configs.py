"""Property-based parity: random configurations and shapes against stock Keras, in float64.

The case table covers chosen rows; this draws the rest (derandomized, so CI is repeatable).
float64 keeps the tight tolerance meaningful even where a gradient cancels to ~1e-4 of its
terms (BatchNormalization on two samples), which would swamp float32's rounding.
"""

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity_tests import assert_parity
from reference import activations, layers

# Keras and the reference both warn about a softmax over an axis of size 1, which shapes here
# may have.
pytestmark = pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
NAMES = sorted(set(activations._BY_NAME) - {"glu", "threshold"})  # glu: even sizes; see below
SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
shapes = st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple)


def check(name, config, shape, training, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * 2.0
    ours = getattr(layers, name)(**config, dtype="float64")
    theirs = getattr(keras.layers, name)(**config, dtype="float64")
    assert_parity(ours, theirs, x, training=training, seed=seed)


@SETTINGS
@given(
    units=st.integers(1, 6),
    activation=st.sampled_from([None, *NAMES]),
    use_bias=st.booleans(),
    shape=shapes,
    seed=st.integers(0, 2**16),
)
def test_dense(units, activation, use_bias, shape, seed):
    config = dict(units=units, activation=activation, use_bias=use_bias)
    check("Dense", config, shape, False, seed)


@SETTINGS
@given(
    data=st.data(),
    shape=shapes,
    center=st.booleans(),
    scale=st.booleans(),
    momentum=st.sampled_from([0.99, 0.9, 0.5]),
    epsilon=st.sampled_from([1e-3, 1e-5, 0.1]),
    training=st.sampled_from([True, False, None]),
    trainable=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_batch_normalization(data, shape, center, scale, momentum, epsilon, training, trainable,
                             seed):  # fmt: skip
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    if training and np.prod(shape) == shape[axis]:  # one sample per feature: variance 0
        shape = (2, *shape)
        axis = axis if axis < 0 else axis + 1
    config = dict(axis=axis, center=center, scale=scale, momentum=momentum, epsilon=epsilon,
                  trainable=trainable)  # fmt: skip
    check("BatchNormalization", config, shape, training, seed)


@SETTINGS
@given(activation=st.sampled_from([*NAMES, "glu"]), shape=shapes, seed=st.integers(0, 2**16))
def test_activation(activation, shape, seed):
    if activation == "glu":
        shape = (*shape[:-1], 2 * shape[-1])
    check("Activation", dict(activation=activation), shape, False, seed)
