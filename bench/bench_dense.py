"""Benchmark: Dense(512, relu) float32 forward+backward, 512 -> 512, batch 1, 32 and 1024.

Not a test. Four implementations of one training step's layer work -- the output and the
gradients for the input, the kernel and the bias under a random upstream gradient -- on the same
inputs and weights, each timed in its own block (bench/common.py):

    floor       the same math by hand in NumPy, no tape: z = x @ k + b; y = max(z, 0);
                dz = dy * (z > 0); dx = dz @ k.T; dk = x.T @ dz; db = sum(dz) (3 GEMMs)
    reference   reference.layers.Dense called under reference.GradientTape, then tape.gradient
                (public API only, so it measures whatever the layer and the tape do on main)
    TF eager    stock keras.layers.Dense under tf.GradientTape (the realistic baseline)
    tf.function the same step traced once with tf.function

Before timing, every implementation's output and gradients are checked against a float64 floor.
Targets (issue 7), as medians of per-round ratios: reference <= 1.15x floor and <= tf.function
at batch 32 and 1024; reference < TF eager at batch 1 (no malloc environment variable set).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_dense.py [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import reference  # noqa: E402
from bench import common  # noqa: E402

UNITS = IN_DIM = 512
IMPLS = ("floor", "reference", "TF eager", "tf.function")


def floor_step(x, kernel, bias, dy):
    """Dense(relu) forward and backward by hand: the fastest honest NumPy, no tape."""
    z = np.dot(x, kernel)
    z += bias
    y = np.maximum(z, 0)
    dz = dy * (z > 0)
    return y, np.dot(dz, kernel.T), np.dot(x.T, dz), dz.sum(axis=0)


def make_case(batch: int, tf, keras, seed: int, dtype=np.float32) -> dict:
    """The four step functions on shared inputs and weights, and the float64 truth."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, IN_DIM)).astype(dtype)
    limit = np.sqrt(6 / (IN_DIM + UNITS))  # glorot_uniform, as Keras's default
    kernel = rng.uniform(-limit, limit, (IN_DIM, UNITS)).astype(dtype)
    bias = (0.1 * rng.standard_normal(UNITS)).astype(dtype)  # non-zero, so the add matters
    dy = rng.standard_normal((batch, UNITS)).astype(dtype)
    # No upstream gradient where the pre-activation is within 1e-3 of relu's kink: float32
    # rounding in different GEMMs could flip the mask there and fail the sanity check.
    z64 = x.astype(np.float64) @ kernel.astype(np.float64) + bias
    dy[np.abs(z64) < 1e-3] = 0.0

    ref = reference.layers.Dense(UNITS, activation="relu")
    ref.build((batch, IN_DIM))
    ref.set_weights([kernel, bias])
    ref_sources = [ref.kernel, ref.bias]
    tfl = keras.layers.Dense(UNITS, activation="relu")
    tfl.build((None, IN_DIM))
    tfl.set_weights([kernel, bias])
    x_tf, dy_tf = tf.constant(x), tf.constant(dy)

    def reference_step():
        with reference.GradientTape() as tape:
            xt = tape.watch(x)
            y = ref(xt)
        return (y, *tape.gradient(y, [xt, *ref_sources], output_gradients=dy))

    def eager_step(xs=x_tf, dys=dy_tf):
        with tf.GradientTape() as tape:
            tape.watch(xs)
            y = tfl(xs)
        return (y, *tape.gradient(y, [xs, *tfl.trainable_weights], output_gradients=dys))

    traced = tf.function(eager_step)
    fns = {
        "floor": lambda: floor_step(x, kernel, bias, dy),
        "reference": reference_step,
        "TF eager": eager_step,
        "tf.function": lambda: traced(x_tf, dy_tf),
    }
    f64 = [a.astype(np.float64) for a in (x, kernel, bias, dy)]
    return {"fns": fns, "truth": list(floor_step(*f64))}


def run(batches, rounds: int, block_s: float, warmup_s: float, threads=None, seed=0) -> dict:
    tf, keras = common.import_tf(threads)
    env = common.environment(tf)
    common.print_environment(env)
    results = {}
    for batch in batches:
        case = make_case(batch, tf, keras, seed + batch)
        outputs = {name: fn() for name, fn in case["fns"].items()}
        worst = common.check_against(f"Dense b{batch}", outputs, case["truth"], 1e-4)
        per_round = common.run_rounds(case["fns"], rounds, block_s, warmup_s)
        ref = per_round["reference"]
        results[batch] = {
            "check_max_scaled_error": worst,
            "times_s": {name: common.spread(t) for name, t in per_round.items()},
            "ratios": {
                f"reference/{other}": common.ratio_stats(ref, per_round[other])
                for other in ("floor", "tf.function", "TF eager")
            },
            "per_round_s": per_round,
        }
    return {"env": env, "rounds": rounds, "block_s": block_s, "results": results}


def targets(results: dict) -> dict[str, bool]:
    out = {}
    for batch in (32, 1024):
        if batch in results:
            r = results[batch]["ratios"]
            out[f"batch {batch}: reference <= 1.15x floor"] = r["reference/floor"]["median"] <= 1.15
            out[f"batch {batch}: reference <= tf.function"] = (
                r["reference/tf.function"]["median"] <= 1.0
            )
    if 1 in results:
        out["batch 1: reference < TF eager"] = (
            results[1]["ratios"]["reference/TF eager"]["median"] < 1.0
        )
    return out


def report(payload: dict) -> None:
    results = payload["results"]
    print(
        f"\nDense(512, relu) float32 fwd+bwd: median of {payload['rounds']} rounds of "
        f"{payload['block_s']} s blocks [min-max over rounds]"
    )
    print(f"{'batch':>6} | " + " | ".join(f"{n:>26}" for n in IMPLS))
    for batch, r in results.items():
        cells = []
        for name in IMPLS:
            t = r["times_s"][name]
            cells.append(
                f"{common.fmt_time(t['median'])} "
                f"[{common.fmt_time(t['min'])}-{common.fmt_time(t['max'])}]"
            )
        print(f"{batch:>6} | " + " | ".join(f"{c:>26}" for c in cells))
    names = list(next(iter(results.values()))["ratios"])
    print("\nratios, median of per-round ratios [min-max]")
    print(f"{'batch':>6} | " + " | ".join(f"{n:>24}" for n in names))
    for batch, r in results.items():
        cells = (common.fmt_ratio(r["ratios"][n]) for n in names)
        print(f"{batch:>6} | " + " | ".join(f"{c:>24}" for c in cells))
    print("\ntargets (issue 7):")
    for name, ok in targets(results).items():
        print(f"  {'MET   ' if ok else 'MISSED'} {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 1024])
    common.add_arguments(parser, rounds=7, block_s=0.5, warmup_s=0.1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(args.batches, args.rounds, args.block_s, args.warmup_s, args.threads)
    report(payload)
    payload["targets"] = targets(payload["results"])
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
