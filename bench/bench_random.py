"""reference.random against NumPy's own generator and TF's stateless kernels: 10M float32 draws.

Each implementation timed in its own block (median of `--repeats` calls), `--rounds` rounds
(the first one rotating); prints the medians and the per-round ratio reference /
numpy.random.Generator.random as median [min-max] (issue 13's target: at most 2), with the load
average, which on a shared 2-core machine decides most of the figure.

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
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-tf", action="store_true")
    args = p.parse_args(argv)
    n, seed = args.n, (1, 0)
    gen = np.random.default_rng(0)
    fns = {
        "reference uniform f32": lambda: R.stateless_uniform((n,), seed),
        "numpy Generator.random f32": lambda: gen.random(n, dtype=np.float32),
        "reference normal f32": lambda: R.stateless_normal((n,), seed),
        "numpy standard_normal f32": lambda: gen.standard_normal(n, dtype=np.float32),
    }
    if not args.no_tf:
        import tensorflow as tf

        s = tf.constant(seed, tf.int32)
        fns["tf stateless_uniform f32"] = lambda: tf.random.stateless_uniform((n,), s).numpy()
    print(f"load average at start {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    per_round: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            per_round[name].append(block(fns[name], args.repeats))
    rows = {name: statistics.median(t) for name, t in per_round.items()}
    for name, t in rows.items():
        print(f"{name:<30} {t * 1e3:9.1f} ms")
    ratios = [
        a / b
        for a, b in zip(
            per_round["reference uniform f32"], per_round["numpy Generator.random f32"], strict=True
        )
    ]
    print(
        f"reference uniform / numpy Generator.random: {statistics.median(ratios):.2f}x "
        f"[{min(ratios):.2f}-{max(ratios):.2f}] (target <= 2); load average at end "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    return rows


if __name__ == "__main__":
    main()
