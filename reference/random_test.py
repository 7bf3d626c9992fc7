"""reference.random without TensorFlow: Philox's published answers, Keras's seed rules, the
stream's layout and the distributions' properties. (Bit-exactness against TF itself is
parity_tests/test_random_keras.py.)"""

import random

import numpy as np
import pytest

import reference
from reference import random as R

# Known-answer vectors of Philox4x32-10 published with Random123 (kat_vectors).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]  # fmt: skip


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_philox_matches_the_published_known_answers(counter, key, expected):
    out = R.philox(np.array([counter], np.uint32), key)
    assert tuple(int(v) for v in out[0]) == expected


def test_the_stream_is_one_sequence_whatever_the_block_sizes():
    seed = (5, 9)
    whole = R.random_words(seed, 3 * R._CHUNK + 7)
    np.testing.assert_array_equal(R.random_words(seed, 10, offset=R._CHUNK - 3),
                                  whole[R._CHUNK - 3 : R._CHUNK + 7])  # fmt: skip
    # float32 element i is word i % 4 of call i // 4: a prefix of a longer draw is the draw
    long = R.stateless_uniform((1001,), seed, dtype="float32")
    np.testing.assert_array_equal(R.stateless_uniform((5, 3), seed, dtype="float32").ravel(),
                                  long[:15])  # fmt: skip


def test_seed_generator_advances_by_0_1_and_draw_seed_floormods():
    gen = R.SeedGenerator(2**31 + 5)
    assert R.draw_seed(gen) == (7, 0)  # floormod(2**31 + 5, 2**31 - 2)
    assert R.draw_seed(gen) == (7, 1)
    assert tuple(gen.state) == (2**31 + 5, 2)
    assert R.draw_seed(42) == R.draw_seed(42) == (42, 0)
    with pytest.raises(ValueError, match="seed"):
        R.draw_seed(1.5)
    with pytest.raises(ValueError, match="seed"):
        R.SeedGenerator("a")


def test_unseeded_generators_follow_pythons_random_as_keras():
    random.seed(11)
    a = R.SeedGenerator().state.copy()
    random.seed(11)
    b = R.SeedGenerator().state.copy()
    np.testing.assert_array_equal(a, b)
    assert 1 <= a[0] <= 10**9 and a[1] == 0


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_distributions_have_their_ranges_and_moments(dtype):
    n = 200_000
    u = R.uniform((n,), -2.0, 3.0, dtype=dtype, seed=1)
    assert u.dtype == dtype and u.min() >= -2.0 and u.max() < 3.0
    assert abs(float(u.astype(np.float64).mean()) - 0.5) < 0.03
    z = R.normal((n,), 1.0, 2.0, dtype=dtype, seed=2).astype(np.float64)  # float16 sums overflow
    assert abs(float(z.mean()) - 1.0) < 0.03 and abs(float(z.std()) - 2.0) < 0.03
    t = R.truncated_normal((n,), 0.0, 1.0, dtype=dtype, seed=3).astype(np.float64)
    # the |z| < 2 test runs in float32; float16 may round a kept 1.9995 up to 2.0 (TF alike)
    assert np.abs(t).max() < 2.0 or dtype == "float16" and np.abs(t).max() == 2.0
    assert abs(float(t.std()) - 0.8796) < 0.01


def test_integer_uniform_and_randint_stay_in_range():
    v = R.randint((10_000,), -3, 5, seed=4)
    assert v.dtype == np.int32 and set(np.unique(v)) == set(range(-3, 5))
    with pytest.raises(ValueError, match="minval < maxval"):
        R.randint((2,), 5, 5, seed=1)


def test_dropout_keeps_and_scales_as_tf():
    x = np.ones((400, 500), np.float32)
    y = R.dropout(x, 0.3, seed=7)
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_array_equal(y[kept], np.float32(1 / 0.7))
    np.testing.assert_array_equal(R.dropout(x, 0.0, seed=7), x)
    assert not R.dropout(x, 1.0, seed=7).any()
    rows = R.dropout(x, 0.5, noise_shape=(None, 1), seed=7)
    assert all(len(set(r)) == 1 for r in rows[:20])  # one mask value per row


def test_set_random_seed_makes_unseeded_layers_reproducible():
    def kernel():
        dense = reference.layers.Dense(4)
        dense(np.zeros((1, 3), np.float32))
        return dense.kernel.numpy()

    reference.utils.set_random_seed(3)
    a = kernel()
    reference.utils.set_random_seed(3)
    np.testing.assert_array_equal(kernel(), a)
    with pytest.raises(ValueError, match="integer"):
        reference.utils.set_random_seed(1.0)


def _glibc_libm():
    """This machine's libm as ctypes functions, where it is glibc 2.28+ (the logf/sincosf that
    TF's Box-Muller calls and reference._libm32 transcribes); None elsewhere."""
    import ctypes
    import platform

    name, version = platform.libc_ver()
    if name != "glibc" or tuple(int(v) for v in version.split(".")[:2]) < (2, 28):
        return None
    libm = ctypes.CDLL("libm.so.6")
    libm.logf.restype, libm.logf.argtypes = ctypes.c_float, [ctypes.c_float]
    libm.sincosf.restype = None
    libm.sincosf.argtypes = [ctypes.c_float, *[ctypes.POINTER(ctypes.c_float)] * 2]
    return libm


def test_libm32_repeats_glibcs_logf_and_sincosf_bit_for_bit():
    """On a sample of the Box-Muller inputs (checked on all 2**23 of them once: no difference),
    including the values where glibc's rounding is not the correctly rounded one."""
    import ctypes

    from reference import _libm32

    libm = _glibc_libm()
    if libm is None:
        pytest.skip("the C library here is not glibc 2.28+")
    words = np.random.default_rng(0).integers(0, 2**32, 20_000, dtype=np.uint32)
    u = R._unit_float32(words)
    u1 = np.maximum(u, np.float32(1e-7))
    v1 = (2.0 * np.pi * u.astype(np.float64)).astype(np.float32)
    v1[:4] = [0.0, 2.0**-13, 0.75, np.float32(np.pi)]  # the tiny, small and reduced paths
    s, c = ctypes.c_float(), ctypes.c_float()
    want_log = np.empty_like(u1)
    want_sin, want_cos = np.empty_like(v1), np.empty_like(v1)
    for i, (a, v) in enumerate(zip(u1.tolist(), v1.tolist(), strict=True)):
        want_log[i] = libm.logf(a)
        libm.sincosf(v, ctypes.byref(s), ctypes.byref(c))
        want_sin[i], want_cos[i] = s.value, c.value
    got_sin, got_cos = _libm32.sincosf(v1)
    np.testing.assert_array_equal(_libm32.logf(u1).view(np.uint32), want_log.view(np.uint32))
    np.testing.assert_array_equal(got_sin.view(np.uint32), want_sin.view(np.uint32))
    np.testing.assert_array_equal(got_cos.view(np.uint32), want_cos.view(np.uint32))
    # and the reason the module exists: float64 evaluation rounded once is not glibc
    assert np.any(np.log(u1.astype(np.float64)).astype(np.float32) != want_log)
    assert np.any(np.sin(v1.astype(np.float64)).astype(np.float32) != want_sin)
