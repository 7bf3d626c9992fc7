"""reference.random against TensorFlow's stateless kernels and Keras 3's seeding, directly.

Uniform-family and normal-family values are bit-exact. TF's float32 Box-Muller calls glibc's
logf/sincosf, which are not correctly rounded (0.7% and 1.3% of their values are an ulp off the
correctly rounded ones); reference._libm32 repeats glibc's algorithms, so the normals are equal
too (before that, float32 values were within 3 ulp, 98.5% equal).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import reference  # noqa: E402
from parity_tests.harness import floatx  # noqa: E402
from reference import random as R  # noqa: E402

SEEDS = [(0, 0), (1, 0), (7, 3), (123456789, 0), (2**31 - 3, 5), (42, 2**31 - 3)]
SHAPES = [(1,), (3,), (5, 7), (4, 3, 2), (1001,)]
FLOATS = ["float16", "float32", "float64"]


def _tf_seed(seed):
    return tf.constant(seed, tf.int32)


@pytest.mark.parametrize("dtype", FLOATS + ["int32", "int64"])
@pytest.mark.parametrize("seed", SEEDS)
def test_stateless_uniform_is_bit_exact(seed, dtype):
    lo, hi = (-5, 1000) if "int" in dtype else (-0.3, 0.7)
    for shape in SHAPES:
        want = tf.random.stateless_uniform(shape, _tf_seed(seed), lo, hi, dtype=dtype).numpy()
        got = R.stateless_uniform(shape, seed, lo, hi, dtype)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["normal", "truncated_normal"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_stateless_normal_families_are_bit_exact(kind, dtype):
    tf_fn = getattr(tf.random, f"stateless_{kind}")
    ours = getattr(R, f"stateless_{kind}")
    for seed in SEEDS:
        want = tf_fn((2000,), _tf_seed(seed), mean=0.0, stddev=1.0, dtype=dtype).numpy()
        got = ours((2000,), seed, 0.0, 1.0, dtype)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed, mean, stddev", [((3, 1), 0.0, 1.0), ((2**31 - 3, 9), 0.5, 2.0)])
def test_a_large_float32_normal_draw_is_bit_exact(seed, mean, stddev):
    # 500,000 values; float64 evaluation rounded to float32 got about 7,000 of them 1-3 ulp off
    want = tf.random.stateless_normal((500, 1000), _tf_seed(seed), mean, stddev).numpy()
    np.testing.assert_array_equal(R.stateless_normal((500, 1000), seed, mean, stddev), want)


INITIALIZERS = [
    ("RandomUniform", dict(minval=-0.2, maxval=0.4)),
    ("GlorotUniform", {}),
    ("HeUniform", {}),
    ("LecunUniform", {}),
    ("VarianceScaling", dict(scale=2.0, mode="fan_out", distribution="uniform")),
    ("RandomNormal", dict(mean=0.1, stddev=0.3)),
    ("TruncatedNormal", dict(stddev=0.3)),
    ("GlorotNormal", {}),
    ("HeNormal", {}),
    ("LecunNormal", {}),
    ("VarianceScaling", dict(scale=0.5, mode="fan_avg", distribution="normal")),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, config", INITIALIZERS, ids=[f"{n}{c}" for n, c in INITIALIZERS])
def test_seeded_initializers_reproduce_keras(name, config, dtype):
    for seed, shape in [(7, (8, 5)), (2**31 + 9, (3, 3, 4, 6)), (0, (17,))]:
        want = getattr(keras.initializers, name)(seed=seed, **config)(shape, dtype=dtype)
        got = getattr(reference.initializers, name)(seed=seed, **config)(shape, dtype=dtype)
        np.testing.assert_array_equal(got, np.asarray(want))  # uniform and normal alike


def test_orthogonal_follows_the_same_normal_draw():
    want = np.asarray(keras.initializers.Orthogonal(seed=5)((6, 4)))
    got = reference.initializers.Orthogonal(seed=5)((6, 4))
    # Keras runs the QR in float32, the reference in float64 (its docstring says so)
    np.testing.assert_allclose(got, want, atol=2e-6)


def test_dense_layers_seeded_alike_start_identical():
    x = np.zeros((2, 5), np.float32)
    k = keras.layers.Dense(8, kernel_initializer=keras.initializers.GlorotUniform(seed=7))
    r = reference.layers.Dense(8, kernel_initializer=reference.initializers.GlorotUniform(seed=7))
    k(x), r(x)
    np.testing.assert_array_equal(r.kernel.numpy(), k.kernel.numpy())


# Unseeded noise layers take a seed from Python's `random` only when their rate/stddev is > 0,
# so a rate-0 layer between two Dense layers must not shift the second one's kernel.
NOISE_BETWEEN = [
    ("none", lambda lib: []),
    ("dropout_0", lambda lib: [lib.layers.Dropout(0.0)]),
    ("dropout_0.5", lambda lib: [lib.layers.Dropout(0.5)]),
    ("gaussian_noise_0", lambda lib: [lib.layers.GaussianNoise(0.0)]),
    ("gaussian_noise_0.1", lambda lib: [lib.layers.GaussianNoise(0.1)]),
    ("gaussian_dropout_0", lambda lib: [lib.layers.GaussianDropout(0.0)]),
    ("alpha_dropout_0", lambda lib: [lib.layers.AlphaDropout(0.0)]),
]


@pytest.mark.parametrize(
    "between", [c[1] for c in NOISE_BETWEEN], ids=[c[0] for c in NOISE_BETWEEN]
)
def test_set_random_seed_gives_the_same_initial_model_as_keras(between):
    x = np.zeros((2, 5), np.float32)

    def build(lib, utils):
        utils.set_random_seed(1234)
        layers = [lib.layers.Dense(6, activation="relu"), *between(lib), lib.layers.Dense(3)]
        h = x
        for layer in layers:
            h = layer(h)
        return [np.asarray(w) for layer in layers for w in layer.get_weights()]

    want = build(keras, keras.utils)
    got = build(reference, reference.utils)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_masks_and_values_match_keras_call_after_call(dtype):
    x = np.random.default_rng(0).standard_normal((16, 9)).astype(dtype)
    k_gen, r_gen = keras.random.SeedGenerator(3), R.SeedGenerator(3)
    for rate, noise_shape in [(0.3, None), (0.5, (16, 1)), (0.9, None), (0.3, (1, 9))]:
        want = np.asarray(keras.random.dropout(x, rate, noise_shape=noise_shape, seed=k_gen))
        got = R.dropout(x, rate, noise_shape=noise_shape, seed=r_gen)
        np.testing.assert_array_equal(got, want)


def test_the_random_benchmark_runs(capsys):
    from bench import bench_random

    rows = bench_random.main(["--n", "1000", "--repeats", "1"])
    assert all(t > 0 for t in rows.values()) and "target" in capsys.readouterr().out


def test_a_seeded_model_trained_with_dropout_keeps_matching_keras():
    """The end-to-end claim: seed both frameworks alike, build the same model (no weights
    copied), train it with Dropout active; initial weights, dropout masks and so every update
    agree. float64 so that only the random streams could make the two differ."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6))
    y = rng.standard_normal((40, 2))

    def train(lib, utils, dropout_seed=5):
        keras.backend.clear_session()
        with floatx("float64"):  # both libraries' floatx and dtype policy, restored after
            utils.set_random_seed(21)
            model = lib.Sequential(
                [
                    lib.Input((6,), dtype="float64"),
                    lib.layers.Dense(16, activation="relu", dtype="float64"),
                    lib.layers.Dropout(0.3, seed=dropout_seed, dtype="float64"),
                    lib.layers.Dense(2, dtype="float64"),
                ]
            )
            initial = [np.asarray(w) for w in model.get_weights()]
            model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
            history = model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0)
            return initial, [np.asarray(w) for w in model.get_weights()], history.history["loss"]

    k_init, k_final, k_loss = train(keras, keras.utils)
    r_init, r_final, r_loss = train(reference, reference.utils)
    for a, b in zip(r_init, k_init, strict=True):
        np.testing.assert_array_equal(a, b)  # same seeds, same kernels: nothing copied
    for a, b in zip(r_final, k_final, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r_loss, k_loss, rtol=1e-9)
    # the masks matter: another dropout seed (same initial weights) ends elsewhere
    _, other, _ = train(reference, reference.utils, dropout_seed=6)
    assert max(np.abs(a - b).max() for a, b in zip(other, k_final, strict=True)) > 1e-3
