"""Random numbers as Keras 3 draws them on TensorFlow: stateless Philox4x32-10, bit for bit.

The one place `reference` draws random bits. Keras 3 on TF turns a seed into `[s, k]`, takes
`floormod(., 2**31 - 2)` of both words (`_cast_seed`), and calls TF's stateless kernels
(`tf.random.stateless_uniform/normal/truncated_normal`, `tf.nn.experimental.stateless_dropout`).
This module reproduces those kernels in vectorized NumPy (docs/random.md):

- Philox4x32-10: counter (c0, c1, c2, c3), key (k0, k1); ten rounds of
  (c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)),
  the key bumped by (W0, W1) between rounds.
- TF's seed scramble (GenerateKey): one Philox call with key (0x3ec8f720, 0x02461e29) on
  counter (s0, 0, s1, 0) gives `mix`; the stream's key is mix[0:2], its counter (0, 0, mix[2:4]).
- Element layout: the kernels consume the stream's 32-bit words in order (word j of call i is
  word 4 i + j); float32 takes one word per value, float64 two, normal values two (float32) or
  four (float64) words per pair (Box-Muller), truncated normals restart every group of outputs
  at a fixed offset (256 calls for float32/float16, 128 for float64).

Uniform and normal values are bit-exact on x86-64 glibc (normal float32 values through
_libm32, glibc's logf/sincosf); see docs/random.md for what is not reproduced (XLA, GPU, other
C libraries).

Keras: keras.random.{uniform, normal, truncated_normal, randint, dropout, SeedGenerator}.
"""

from __future__ import annotations

import random as _py_random
import sys
from collections.abc import Sequence

import numpy as np

from . import _libm32, _threads

_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_SEED_KEY = (0x3EC8F720, 0x02461E29)
_MASK32 = np.uint64(0xFFFFFFFF)
_SEED_MODULUS = 2**31 - 2  # Keras's _cast_seed: floormod(seed, int32.max - 1)
_TRUNCATE = 2.0
# Philox calls per vectorized block: its (2, n) arrays (three uint64, two uint32: 4 MiB) stay in
# L2/L3, and blocks are few enough that the threads seldom wait for the GIL between NumPy calls
# (with 2**12-call blocks, a 10M draw took 6x longer on 2 cores).
_CHUNK = 1 << 16
_LO, _HI = (0, 1) if sys.byteorder == "little" else (1, 0)  # halves of a uint64 as two uint32s

_M = np.array([[0xD2511F53], [0xCD9E8D57]], np.uint64)  # (M0, M1) as a column


def _round_keys(key: tuple[int, int]) -> np.ndarray:
    """The ten round keys as uint32 columns (k0, k1), the key bumped by (W0, W1) after each."""
    k0, k1 = int(key[0]), int(key[1])
    out = np.empty((10, 2, 1), np.uint32)
    for r in range(10):
        out[r] = [[k0], [k1]]
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return out


def _rounds(a: np.ndarray, b: np.ndarray, key: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Philox4x32-10 on a = (c0, c2), a (2, n) uint64 array holding 32-bit values (overwritten),
    and b = (c1, c3), (2, n) uint32. Returns (x0, x2) and (x1, x3), the second a uint32 view.

    One round is three whole-array operations, whatever n: p = a * (M0, M1), exact in 64 bits;
    then, reading p's 64-bit products as pairs of 32-bit halves with its rows swapped (c0' reads
    M1 c2), a = hi ^ b ^ key and b = lo, the low halves read in place (p alternates between two
    buffers so that b survives the next product).
    """
    n = a.shape[1]
    products = (np.empty((2, n), np.uint64), np.empty((2, n), np.uint64))
    t = np.empty((2, n), np.uint32)
    for r, k in enumerate(_round_keys(key)):
        p = products[r & 1]
        np.multiply(a, _M, out=p)
        halves = p.view(np.uint32).reshape(2, n, 2)[::-1]
        np.bitwise_xor(halves[:, :, _HI], b, out=t)
        np.bitwise_xor(t, k, out=a)
        b = halves[:, :, _LO]
    return a, b


def philox(counter: np.ndarray, key: tuple[int, int]) -> np.ndarray:
    """Philox4x32-10 of each counter row: (n, 4) uint32 counters -> (n, 4) uint32 outputs."""
    counter = np.asarray(counter, np.uint32)
    a = counter[:, 0::2].T.astype(np.uint64)
    a, b = _rounds(a, np.ascontiguousarray(counter[:, 1::2].T), key)
    return _interleave(a, b, np.empty((len(counter), 4), np.uint32))


def _interleave(a: np.ndarray, b: np.ndarray, words: np.ndarray) -> np.ndarray:
    """words[:, (0, 2)] = a, words[:, (1, 3)] = b, column by column: assigning the transposes at
    once runs NumPy's inner loop over the axis of length 2 (5x slower)."""
    words[:, 0], words[:, 2], words[:, 1], words[:, 3] = a[0], a[1], b[0], b[1]
    return words


def key_counter(seed: Sequence[int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """TF's GenerateKey for a stateless seed (s0, s1): the stream's key, and the high half
    (c2, c3) of its starting counter (the low half starts at 0)."""
    s0, s1 = (int(s) & 0xFFFFFFFFFFFFFFFF for s in seed)  # int32 seeds sign-extend, as in TF
    counter = np.array([[s0 & 0xFFFFFFFF, s0 >> 32, s1 & 0xFFFFFFFF, s1 >> 32]], np.uint32)
    mix = philox(counter, _SEED_KEY)[0]
    return (int(mix[0]), int(mix[1])), (int(mix[2]), int(mix[3]))


def _counters(high: tuple[int, int], calls: np.ndarray) -> np.ndarray:
    """Counter rows for stream positions `calls` (uint64): (calls lo, calls hi, c2, c3)."""
    out = np.empty((calls.size, 4), np.uint32)
    out[:, 0], out[:, 1] = calls & _MASK32, calls >> np.uint64(32)
    out[:, 2], out[:, 3] = high
    return out


def _stream_block(key, high, start: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Philox of the stream's calls start .. start + m - 1, as _rounds returns it."""
    a, b = np.empty((2, m), np.uint64), np.empty((2, m), np.uint32)
    calls = np.arange(start, start + m, dtype=np.uint64)
    if start + m <= 1 << 32:  # the call number's high word is 0
        a[0], b[0] = calls, 0
    else:
        a[0], b[0] = calls & _MASK32, calls >> np.uint64(32)
    a[1], b[1] = high
    return _rounds(a, b, key)


def random_words(seed: Sequence[int], n_calls: int, offset: int = 0, out=None, finish=None):
    """The stream's words for Philox calls offset .. offset + n_calls - 1: (n_calls, 4) uint32.

    Blocks of _CHUNK calls keep the temporaries in cache (about 3x faster than one block); large
    draws spread the blocks over a few threads (NumPy releases the GIL in its loops). Each block
    depends only on its position in the stream, so the words are the same either way. `out`
    (an (n_calls, 4) uint32 array or view) receives the words; `finish(words)` then runs on each
    block's rows in place while they are in cache (the float conversion of a uniform draw)."""
    key, high = key_counter(seed)
    out = np.empty((n_calls, 4), np.uint32) if out is None else out

    def block(i: int) -> None:
        a, b = _stream_block(key, high, offset + i, min(_CHUNK, n_calls - i))
        words = _interleave(a, b, out[i : i + a.shape[1]])
        if finish is not None:
            finish(words)

    _threads.map_blocks(lambda a, _: block(a), n_calls, _CHUNK)
    return out


# -- words to values, as TF's random_distributions.h ----------------------------------------
def _unit_float32(w: np.ndarray) -> np.ndarray:
    """[0, 1): 23 random mantissa bits under exponent 127, minus one (Uint32ToFloat)."""
    return ((w & np.uint32(0x7FFFFF)) | np.uint32(0x3F800000)).view(np.float32) - np.float32(1)


def _unit_float64(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """[0, 1): 52 mantissa bits, 20 from `hi` and 32 from `lo` (Uint64ToDouble)."""
    man = (hi.astype(np.uint64) & np.uint64(0xFFFFF)) << np.uint64(32) | lo.astype(np.uint64)
    return (man | np.uint64(1023 << 52)).view(np.float64) - 1.0


def _unit_float16(w: np.ndarray) -> np.ndarray:
    """[0, 1): 10 mantissa bits of the word's low half (Uint16ToHalf)."""
    bits = (w.astype(np.uint16) & np.uint16(0x3FF)) | np.uint16(15 << 10)
    return bits.view(np.float16) - np.float16(1)


def _box_muller32(x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BoxMullerFloat: two float32 normals from two words.

    TF computes `2.0f * M_PI * u` in double (M_PI is a double) and rounds once to float, then
    calls the C library's logf and sincosf, which glibc does not round correctly: _libm32
    repeats glibc's float32 algorithms step for step, so the values are bit-exact on glibc
    (docs/random.md).
    """
    u1 = np.maximum(_unit_float32(x0), np.float32(1e-7))
    v1 = (2.0 * np.pi * _unit_float32(x1).astype(np.float64)).astype(np.float32)
    u2 = np.sqrt(np.float32(-2.0) * _libm32.logf(u1))
    sin, cos = _libm32.sincosf(v1)
    return sin * u2, cos * u2


def _box_muller64(x0, x1, x2, x3) -> tuple[np.ndarray, np.ndarray]:
    """BoxMullerDouble: two float64 normals from four words."""
    u1 = np.maximum(_unit_float64(x0, x1), 1e-7)
    v1 = 2.0 * np.pi * _unit_float64(x2, x3)
    u2 = np.sqrt(-2.0 * np.log(u1))
    return np.sin(v1) * u2, np.cos(v1) * u2


def _stream(seed, n_values: int, per_call: int) -> np.ndarray:
    """The words of enough calls for n_values values of `per_call` values each."""
    return random_words(seed, -(-n_values // per_call))


def stateless_uniform_unit(shape, seed, dtype) -> np.ndarray:
    """[0, 1) in `dtype`, as tf.random.stateless_uniform's kernel (before the range; the range
    [0, 1) leaves it unchanged: u * 1 + 0 is exact)."""
    return stateless_uniform(shape, seed, 0.0, 1.0, dtype)


def stateless_uniform(shape, seed, minval=0.0, maxval=1.0, dtype="float32") -> np.ndarray:
    """tf.random.stateless_uniform: unit * (maxval - minval) + minval in `dtype`; integers as
    minval + word % (maxval - minval) (int64: two words per value, low word first)."""
    dtype, n = np.dtype(dtype), int(np.prod(shape, dtype=np.int64))
    if dtype.kind == "i":
        lo, hi = int(minval), int(maxval)
        if lo >= hi:
            raise ValueError(f"Need minval < maxval, got {lo} >= {hi}")
        if dtype == np.int64:
            w = _stream(seed, n, 2)
            bits = w[:, 0::2].ravel().astype(np.uint64) | w[:, 1::2].ravel().astype(
                np.uint64
            ) << np.uint64(32)
        else:
            bits = _stream(seed, n, 4).ravel().astype(np.uint64)
        values = (bits % np.uint64(hi - lo)).astype(np.int64) + lo
        return values[:n].astype(dtype).reshape(shape)
    lo, hi = dtype.type(minval), dtype.type(maxval)
    if dtype == np.float64:
        w = _stream(seed, n, 2)
        unit64 = _unit_float64(w[:, 0::2].ravel(), w[:, 1::2].ravel())
        return (unit64 * (hi - lo) + lo)[:n].reshape(shape)
    if dtype == np.float32:
        out = np.empty((-(-n // 4), 4), np.float32)

        def finish(w: np.ndarray) -> None:  # _unit_float32 in place, then the range
            w &= np.uint32(0x7FFFFF)
            w |= np.uint32(0x3F800000)
            f = w.view(np.float32)
            f -= np.float32(1)
            if (lo, hi) != (0, 1):  # u * 1 + 0 is u: skipped, exactly
                f *= hi - lo
                f += lo

        random_words(seed, len(out), out=out.view(np.uint32), finish=finish)
        return out.ravel()[:n].reshape(shape)
    words = _stream(seed, n, 4).ravel()
    out = np.empty(words.size, dtype)
    unit = _unit_float16 if dtype == np.float16 else _unit_float32

    def fill(a: int, b: int) -> None:  # elementwise, so block by block is the same
        out[a:b] = unit(words[a:b]) * (hi - lo) + lo

    _threads.map_blocks(fill, words.size, 4 * _CHUNK)
    return out[:n].reshape(shape)


def _normal_unit(n: int, seed, dtype: np.dtype) -> np.ndarray:
    if dtype == np.float64:
        w = _stream(seed, n, 2)
        f0, f1 = _box_muller64(w[:, 0], w[:, 1], w[:, 2], w[:, 3])
        return np.stack([f0, f1], axis=1).ravel()[:n]
    w = _stream(seed, n, 4)
    f = [_box_muller32(w[:, 2 * i], w[:, 2 * i + 1]) for i in range(2)]
    out = np.stack([f[0][0], f[0][1], f[1][0], f[1][1]], axis=1).ravel()[:n]
    return out.astype(dtype)  # float16: the float32 pair rounded, as TF


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype="float32") -> np.ndarray:
    """tf.random.stateless_normal: Box-Muller values * stddev + mean in `dtype`."""
    dtype = np.dtype(dtype)
    z = _normal_unit(int(np.prod(shape, dtype=np.int64)), seed, dtype).reshape(shape)
    return z * dtype.type(stddev) + dtype.type(mean)


def _truncated_unit(n: int, seed, dtype: np.dtype) -> np.ndarray:
    """TF's TruncatedNormalDistribution: each group of outputs (4 values; 2 for float64) reads
    its own stretch of the stream, starting `skip` calls after the previous group's start,
    taking Box-Muller pairs in order and keeping the values with |z| < 2."""
    group = 2 if dtype == np.float64 else 4
    skip = group * 256 // 4
    n_groups = -(-n // group)
    out = np.empty((n_groups, group), np.float64 if dtype == np.float64 else np.float32)
    filled = np.zeros(n_groups, np.int64)
    key, high = key_counter(seed)
    rows = np.arange(n_groups)
    pending = rows
    call = 0  # calls consumed by every pending group so far
    while pending.size:
        calls = pending.astype(np.uint64) * np.uint64(skip) + np.uint64(call)
        w = philox(_counters(high, calls), key)
        if dtype == np.float64:
            pairs = [_box_muller64(w[:, 0], w[:, 1], w[:, 2], w[:, 3])]
        else:
            pairs = [_box_muller32(w[:, 0], w[:, 1]), _box_muller32(w[:, 2], w[:, 3])]
        for f0, f1 in pairs:
            for f in (f0, f1):
                keep = (np.abs(f) < _TRUNCATE) & (filled[pending] < group)
                g = pending[keep]
                out[g, filled[g]] = f[keep]
                filled[g] += 1
        call += 1
        pending = rows[filled < group]
    return out.ravel()[:n].astype(dtype)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype="float32") -> np.ndarray:
    """tf.random.stateless_truncated_normal: |z| < 2 normals * stddev + mean in `dtype`."""
    dtype = np.dtype(dtype)
    z = _truncated_unit(int(np.prod(shape, dtype=np.int64)), seed, dtype).reshape(shape)
    return z * dtype.type(stddev) + dtype.type(mean)


# -- Keras's seeds ------------------------------------------------------------------------------
class SeedGenerator:
    """A seed state [seed, counter] that advances by [0, 1] at each draw.

    Computes: next() returns the state, then state <- state + [0, 1].
    Keras: keras.random.SeedGenerator(seed=None, name=None); an unseeded one takes
    Python's random.randint(1, 10**9), as Keras.
    """

    def __init__(self, seed: int | None = None, name: str | None = None):
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self.name = name or "seed_generator"
        self.state = np.array([seed, 0], dtype=np.int64)

    def next(self, ordered: bool = True) -> np.ndarray:
        seed = self.state.copy()
        if ordered:
            self.state = self.state + np.array([0, 1], np.int64)
        else:  # Keras's rule for its global generator
            self.state = (self.state + 1) * 5387 % 933199
        return seed

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}


_GLOBAL: list[SeedGenerator | None] = [None]


def make_default_seed() -> int:
    return _py_random.randint(1, int(1e9))


def global_seed_generator() -> SeedGenerator:
    if _GLOBAL[0] is None:
        _GLOBAL[0] = SeedGenerator()
    return _GLOBAL[0]


def draw_seed(seed) -> tuple[int, int]:
    """The stateless TF seed Keras derives: [seed, 0] (an int), the generator's next state
    (a SeedGenerator), the global generator's (None); then floormod(., 2**31 - 2)."""
    if isinstance(seed, SeedGenerator):
        pair = seed.next()
    elif isinstance(seed, int) and not isinstance(seed, bool):
        pair = np.array([seed, 0], np.int64)
    elif seed is None:
        pair = global_seed_generator().next(ordered=False)
    else:
        raise ValueError(
            "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    return tuple(int(s) % _SEED_MODULUS for s in pair)


def set_global_seed_generator(gen: SeedGenerator | None) -> None:
    _GLOBAL[0] = gen


# -- keras.random ---------------------------------------------------------------------------
def _dtype(dtype) -> np.dtype:
    from .config import floatx

    return np.dtype(dtype or floatx())


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> np.ndarray:
    """keras.random.uniform: U[minval, maxval) in `dtype` (floatx by default).

    Differences from tf.random.stateless_uniform: Keras passes the bounds through
    `tf.cast(bound, dtype)`, which makes a Python float a float32 constant first, so a float64
    draw uses float32-rounded bounds (as Keras's float64 GlorotUniform kernels do).
    """
    dtype = _dtype(dtype)
    if dtype.kind == "f":
        minval, maxval = (np.float32(v) if isinstance(v, float) else v for v in (minval, maxval))
    return stateless_uniform(tuple(shape), draw_seed(seed), minval, maxval, dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> np.ndarray:
    """keras.random.normal: N(mean, stddev^2) in `dtype`."""
    return stateless_normal(tuple(shape), draw_seed(seed), mean, stddev, _dtype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> np.ndarray:
    """keras.random.truncated_normal: N(mean, stddev^2) restricted to |z| < 2, in `dtype`."""
    return stateless_truncated_normal(tuple(shape), draw_seed(seed), mean, stddev, _dtype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> np.ndarray:
    """keras.random.randint: integers in [minval, maxval)."""
    inter = dtype if np.dtype(dtype).name in ("int32", "int64") else "int64"
    out = stateless_uniform(tuple(shape), draw_seed(seed), minval, maxval, inter)
    return out.astype(dtype)


def dropout_mask(shape, rate: float, dtype, seed) -> np.ndarray:
    """The keep mask of tf.nn.experimental.stateless_dropout: U[0, 1) in dtype >= rate."""
    dtype = np.dtype(dtype)
    return stateless_uniform_unit(tuple(shape), draw_seed(seed), dtype) >= dtype.type(rate)


def dropout(inputs, rate: float, noise_shape=None, seed=None) -> np.ndarray:
    """keras.random.dropout (tf.nn.experimental.stateless_dropout): inputs / (1 - rate) where the
    mask keeps them, 0 elsewhere; the mask has `noise_shape` (None entries: the input's)."""
    x = np.asarray(inputs)
    if rate == 1.0:
        return np.zeros_like(x)
    if rate == 0.0:
        return x
    shape = x.shape if noise_shape is None else tuple(
        n if s is None else s for s, n in zip(noise_shape, x.shape, strict=True)
    )  # fmt: skip
    keep = dropout_mask(shape, rate, x.dtype, seed)
    return np.where(keep, x * x.dtype.type(1.0 / (1.0 - rate)), x.dtype.type(0))
