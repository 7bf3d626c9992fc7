"""Benchmark: how much NumPy and TensorFlow slow each other down when their calls alternate.

Not a test; run once to document the effect (bench/README.md). On the Dense(512, relu) fwd+bwd
step of bench_dense.py it times, per round:

    blocks       the NumPy side alone (a block of calls), then tf.function alone (bench/common.py)
    interleaved  the two alternating call by call (numpy, tf, numpy, tf, ...), each call timed
                 on its own, after the same warm-up

and prints interleaved / block, per side, as the median of per-round ratios. The NumPy side is
the floor (pure OpenBLAS work) and the reference (what bench_dense.py times). Both libraries keep
their default thread pools: OpenBLAS one thread per core, TF intra- and inter-op pools.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_interleave.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import bench_dense, common  # noqa: E402


def interleaved(fn_a, fn_b, seconds: float, warmup_s: float) -> tuple[float, float]:
    """Median seconds per call of fn_a and of fn_b when their calls alternate."""
    perf = time.perf_counter
    start = perf()
    while perf() - start < warmup_s:
        fn_a()
        fn_b()
    times_a: list[float] = []
    times_b: list[float] = []
    start = perf()
    while len(times_a) < 5 or perf() - start < seconds:
        t0 = perf()
        fn_a()
        t1 = perf()
        fn_b()
        times_b.append(perf() - t1)
        times_a.append(t1 - t0)
    return statistics.median(times_a), statistics.median(times_b)


def run(batches, sides, rounds: int, block_s: float, warmup_s: float, threads=None) -> dict:
    tf, keras = common.import_tf(threads)
    env = common.environment(tf)
    common.print_environment(env)
    results = {}
    for batch in batches:
        fns = bench_dense.make_case(batch, tf, keras, seed=batch)["fns"]
        for side in sides:
            slow_np, slow_tf = [], []
            for _ in range(rounds):
                alone_np = common.time_block(fns[side], block_s, warmup_s)
                alone_tf = common.time_block(fns["tf.function"], block_s, warmup_s)
                mixed_np, mixed_tf = interleaved(
                    fns[side], fns["tf.function"], 2 * block_s, warmup_s
                )
                slow_np.append(mixed_np / alone_np)
                slow_tf.append(mixed_tf / alone_tf)
            results[f"batch {batch}, {side} with tf.function"] = {
                f"{side} interleaved/block": common.spread(slow_np),
                "tf.function interleaved/block": common.spread(slow_tf),
            }
    return {"env": env, "rounds": rounds, "block_s": block_s, "results": results}


def report(payload: dict) -> None:
    print(
        f"\nDense(512, relu) fwd+bwd, calls alternating with tf.function vs in blocks: "
        f"interleaved/block time per call, median of {payload['rounds']} rounds [min-max]"
    )
    for case, slowdowns in payload["results"].items():
        cells = ", ".join(f"{k} {common.fmt_ratio(v)}" for k, v in slowdowns.items())
        print(f"  {case}: {cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 1024])
    parser.add_argument("--sides", nargs="+", default=["floor", "reference"])
    common.add_arguments(parser, rounds=5, block_s=0.5, warmup_s=0.1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(args.batches, args.sides, args.rounds, args.block_s, args.warmup_s, args.threads)
    report(payload)
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
