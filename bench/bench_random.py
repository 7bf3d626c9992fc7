"""reference.random against NumPy's own generator and TF's stateless kernels: 10M float32 draws.

Each implementation timed in its own block (median of `--repeats` calls); prints seconds and
the ratio reference / numpy.random.Generator.random (issue 13's target: at most 2).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_random.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from reference import random as R  # noqa: E402


def block(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-tf", action="store_true")
    args = p.parse_args(argv)
    n, seed = args.n, (1, 0)
    gen = np.random.default_rng(0)
    rows = {
        "reference uniform f32": block(lambda: R.stateless_uniform((n,), seed), args.repeats),
        "numpy Generator.random f32": block(lambda: gen.random(n, dtype=np.float32), args.repeats),
        "reference normal f32": block(lambda: R.stateless_normal((n,), seed), args.repeats),
        "numpy standard_normal f32": block(
            lambda: gen.standard_normal(n, dtype=np.float32), args.repeats
        ),
    }
    if not args.no_tf:
        import tensorflow as tf

        s = tf.constant(seed, tf.int32)
        rows["tf stateless_uniform f32"] = block(
            lambda: tf.random.stateless_uniform((n,), s).numpy(), args.repeats
        )
    for name, t in rows.items():
        print(f"{name:<30} {t * 1e3:9.1f} ms")
    ratio = rows["reference uniform f32"] / rows["numpy Generator.random f32"]
    print(f"reference uniform / numpy Generator.random: {ratio:.2f}x (target <= 2)")
    return rows


if __name__ == "__main__":
    main()
