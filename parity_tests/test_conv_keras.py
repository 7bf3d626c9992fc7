"""Convolution and pooling against stock Keras beyond the case table (issue 8):

- hypothesis-drawn Conv1D/Conv2D configurations and small shapes (derandomized), float64 and
  float32, through the harness's one verdict;
- TF's max-pool tie rule on inputs full of ties, gradient for gradient;
- 3D pooling in float32 (TF has no float64 3D pooling kernel, so the table rows cannot use
  stock Keras there);
- bilinear UpSampling2D: TF's ResizeBilinear computes in float32 whatever the input dtype.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reference
from parity_tests import assert_parity
from reference import layers

# Draws per dtype: grouped draws make stock Keras compile with XLA (~1 s each on 2 busy cores),
# so this is what the suite's time allows.
SETTINGS = settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(
    rank=st.sampled_from([1, 2]),
    data=st.data(),
    padding=st.sampled_from(["valid", "same"]),
    groups=st.sampled_from([1, 2]),
    filters_per_group=st.integers(1, 3),
    channels_per_group=st.integers(1, 3),
    batch=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_random_conv_configurations(
    dtype, rank, data, padding, groups, filters_per_group, channels_per_group, batch, seed
):
    kernel = tuple(data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    strides = tuple(data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank)))
    dilation = (1,) * rank
    if max(strides) == 1:
        dilation = tuple(data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank)))
    sizes = tuple(data.draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank)))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    assume(padding == "same" or all(n >= s for n, s in zip(sizes, span, strict=True)))
    config = dict(
        filters=groups * filters_per_group,
        kernel_size=kernel,
        strides=strides,
        padding=padding,
        dilation_rate=dilation,
        groups=groups,
    )
    shape = (batch, *sizes, groups * channels_per_group)
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    name = f"Conv{rank}D"
    ours = getattr(layers, name)(**config, dtype=dtype)
    theirs = getattr(keras.layers, name)(**config, dtype=dtype)
    assert_parity(ours, theirs, x, seed=seed)


TIED = [  # (layer config, input shape): inputs in {0, 1, 2} so that most windows have ties
    ("MaxPooling2D", dict(pool_size=3, strides=1, padding="same"), (2, 6, 5, 2)),
    ("MaxPooling2D", dict(pool_size=2), (1, 6, 6, 3)),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (1, 7, 7, 1)),
    ("MaxPooling1D", dict(pool_size=3, strides=1), (2, 9, 2)),
    ("MaxPooling3D", dict(pool_size=2, strides=1, padding="same"), (1, 3, 4, 4, 2)),
]


@pytest.mark.parametrize("name, config, shape", TIED, ids=str)
def test_max_pool_ties_route_as_tf(name, config, shape):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, shape).astype("float32")
    ours, theirs = getattr(layers, name)(**config), getattr(keras.layers, name)(**config)
    y_tf_shape = theirs.compute_output_shape(shape)
    dy = rng.integers(1, 4, y_tf_shape).astype("float32")  # small ints: sums are exact
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y_tf = theirs(xt)
    dx_tf = tape.gradient(y_tf, xt, output_gradients=dy).numpy()
    for use_layer_vjps in (True, False):
        with reference.GradientTape(use_layer_vjps=use_layer_vjps) as tape:
            tx = tape.watch(x)
            y = ours(tx)
        np.testing.assert_array_equal(np.asarray(tape.gradient(y, tx, dy)), dx_tf)
    np.testing.assert_array_equal(ours(x), y_tf.numpy())


POOL_3D = [
    ("MaxPooling3D", dict(pool_size=2, padding="same"), (2, 3, 5, 4, 2)),
    ("MaxPooling3D", dict(pool_size=(1, 2, 3), strides=(1, 1, 2)), (1, 3, 4, 7, 2)),
    (
        "AveragePooling3D",
        dict(pool_size=(2, 3, 2), strides=(1, 2, 2), padding="same"),
        (2, 3, 5, 4, 2),
    ),
    ("AveragePooling3D", dict(pool_size=2, data_format="channels_first"), (1, 2, 4, 4, 5)),
]


@pytest.mark.parametrize("name, config, shape", POOL_3D, ids=str)
def test_3d_pooling_float32_against_keras(name, config, shape):
    """Float32 only (no float64 kernel in TF). Max pooling selects: outputs are exact, and so are
    gradients where windows do not overlap. Averages, and gradients summed over overlapping
    windows, differ by summation order only: 1e-6 relative, ~8 float32 ulps."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype("float32")
    ours, theirs = getattr(layers, name)(**config), getattr(keras.layers, name)(**config)
    dy = rng.standard_normal(theirs.compute_output_shape(shape)).astype("float32")
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y_tf = theirs(xt)
    dx_tf = tape.gradient(y_tf, xt, output_gradients=dy).numpy()
    with reference.GradientTape() as tape:
        tx = tape.watch(x)
        y = ours(tx)
    dx = np.asarray(tape.gradient(y, tx, dy))
    exact = name.startswith("Max")
    overlapping = config.get("strides", config["pool_size"]) != config["pool_size"]
    tol = 0 if exact else 1e-6
    np.testing.assert_allclose(np.asarray(y), y_tf.numpy(), rtol=tol, atol=tol)
    tol = 0 if exact and not overlapping else 1e-6
    np.testing.assert_allclose(dx, dx_tf, rtol=tol, atol=tol)


def test_bilinear_weights_are_tfs_half_pixel_rule():
    """[0, 1] upsampled by 2 with half-pixel centers: u = (i + 0.5) / 2 - 0.5 = -0.25 (clamped
    to 0), 0.25, 0.75, 1.25 (clamped to 1)."""
    x = np.array([0.0, 1.0]).reshape(1, 2, 1, 1)
    y = layers.UpSampling2D((2, 1), interpolation="bilinear", dtype="float64")(x)
    np.testing.assert_array_equal(np.ravel(y), [0.0, 0.25, 0.75, 1.0])


@pytest.mark.parametrize(
    "config, shape",
    [
        (dict(size=(2, 3)), (2, 3, 4, 2)),
        (dict(size=(3, 2), data_format="channels_first"), (1, 2, 3, 4)),
        (dict(size=(4, 4)), (1, 5, 2, 3)),
    ],
    ids=str,
)
def test_bilinear_upsampling_float32_against_keras(config, shape):
    """TF rounds its interpolation weights and sums to float32 (also for float64 inputs): the
    reference in float32 is within a few float32 ulps of it (1e-6 relative)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype("float32")
    ours = layers.UpSampling2D(interpolation="bilinear", **config)
    theirs = keras.layers.UpSampling2D(interpolation="bilinear", **config)
    dy = rng.standard_normal(theirs.compute_output_shape(shape)).astype("float32")
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y_tf = theirs(xt)
    dx_tf = tape.gradient(y_tf, xt, output_gradients=dy).numpy()
    with reference.GradientTape() as tape:
        tx = tape.watch(x)
        y = ours(tx)
    dx = np.asarray(tape.gradient(y, tx, dy))
    np.testing.assert_allclose(np.asarray(y), y_tf.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, dx_tf, rtol=1e-6, atol=1e-6)
