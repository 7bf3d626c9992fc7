"""Benchmark: BatchNormalization training forward+backward on (64, 16, 16, 64) float32 (NHWC).

Not a test. Four implementations of one training step's layer work -- the output, the moving
statistics update and the gradients for the input, gamma and beta under a random upstream
gradient -- on the same inputs and weights, each timed in its own block (bench/common.py):

    floor       the training-mode formulas by hand in NumPy, no tape, over the N = 64*16*16
                rows of x (C = 64 features):
                  forward:  mean = sum(x) / N;  xc = x - mean;  var = sum(xc^2) / N;
                            rstd = 1 / sqrt(var + eps);  y = xc * (gamma * rstd) + beta;
                            moving <- moving * momentum + stat * (1 - momentum)
                  backward: dbeta = sum(dy);  dgamma = sum(dy * xc) * rstd;
                            dx = gamma * rstd / N * (N * dy - dbeta - xc * rstd * dgamma)
    reference   reference.layers.BatchNormalization called with training=True under
                reference.GradientTape, then tape.gradient (public API only)
    TF eager    stock keras.layers.BatchNormalization under tf.GradientTape
    tf.function the same step traced once with tf.function

Before timing, every implementation's output and gradients are checked against a float64 floor.
Target (issue 7): reference at or below tf.function (median of per-round ratios).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_batchnorm.py [--json PATH]
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

SHAPE = (64, 16, 16, 64)
MOMENTUM, EPSILON = 0.99, 1e-3  # Keras's defaults
IMPLS = ("floor", "reference", "TF eager", "tf.function")


def floor_step(x, gamma, beta, moving_mean, moving_var, dy):
    """BatchNormalization training forward and backward by hand; updates the moving stats."""
    c = x.shape[-1]
    x2, dy2 = x.reshape(-1, c), dy.reshape(-1, c)
    n = x2.shape[0]
    mean = x2.sum(axis=0) / n
    xc = x2 - mean
    var = np.einsum("ij,ij->j", xc, xc) / n
    rstd = 1.0 / np.sqrt(var + EPSILON)
    y = xc * (gamma * rstd) + beta
    moving_mean *= MOMENTUM
    moving_mean += mean * (1.0 - MOMENTUM)
    moving_var *= MOMENTUM
    moving_var += var * (1.0 - MOMENTUM)
    dbeta = dy2.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dy2, xc) * rstd
    dx = (gamma * rstd / n) * (n * dy2 - dbeta - xc * (rstd * dgamma))
    return y.reshape(x.shape), dx.reshape(x.shape), dgamma, dbeta


def make_case(tf, keras, seed: int, shape=SHAPE, dtype=np.float32) -> dict:
    """The four step functions on shared inputs and weights, and the float64 truth."""
    rng = np.random.default_rng(seed)
    c = shape[-1]
    x = (2.0 + 3.0 * rng.standard_normal(shape)).astype(dtype)  # a mean and a scale to remove
    gamma = (1.0 + 0.2 * rng.standard_normal(c)).astype(dtype)
    beta = (0.1 * rng.standard_normal(c)).astype(dtype)
    moving_mean = (0.1 * rng.standard_normal(c)).astype(dtype)
    moving_var = (1.0 + 0.1 * rng.random(c)).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)  # random: all-ones would make dx exactly 0
    weights = [gamma, beta, moving_mean, moving_var]

    ref = reference.layers.BatchNormalization()
    ref.build(shape)
    ref.set_weights(weights)
    ref_sources = [ref.gamma, ref.beta]
    tfl = keras.layers.BatchNormalization()
    tfl.build(shape)
    tfl.set_weights(weights)
    x_tf, dy_tf = tf.constant(x), tf.constant(dy)
    floor_state = [moving_mean.copy(), moving_var.copy()]

    def reference_step():
        with reference.GradientTape() as tape:
            xt = tape.watch(x)
            y = ref(xt, training=True)
        return (y, *tape.gradient(y, [xt, *ref_sources], output_gradients=dy))

    def eager_step(xs=x_tf, dys=dy_tf):
        with tf.GradientTape() as tape:
            tape.watch(xs)
            y = tfl(xs, training=True)
        return (y, *tape.gradient(y, [xs, *tfl.trainable_weights], output_gradients=dys))

    traced = tf.function(eager_step)
    fns = {
        "floor": lambda: floor_step(x, gamma, beta, *floor_state, dy),
        "reference": reference_step,
        "TF eager": eager_step,
        "tf.function": lambda: traced(x_tf, dy_tf),
    }
    f64 = [a.astype(np.float64) for a in (x, gamma, beta, moving_mean, moving_var, dy)]
    return {"fns": fns, "truth": list(floor_step(*f64))}


def run(rounds: int, block_s: float, warmup_s: float, shape=SHAPE, threads=None) -> dict:
    tf, keras = common.import_tf(threads)
    env = common.environment(tf)
    common.print_environment(env)
    case = make_case(tf, keras, 0, shape)
    outputs = {name: fn() for name, fn in case["fns"].items()}
    worst = common.check_against("BatchNormalization", outputs, case["truth"], 1e-4)
    per_round = common.run_rounds(case["fns"], rounds, block_s, warmup_s)
    ref = per_round["reference"]
    return {
        "env": env,
        "shape": shape,
        "rounds": rounds,
        "block_s": block_s,
        "check_max_scaled_error": worst,
        "times_s": {name: common.spread(t) for name, t in per_round.items()},
        "ratios": {
            f"reference/{other}": common.ratio_stats(ref, per_round[other])
            for other in ("floor", "tf.function", "TF eager")
        },
        "per_round_s": per_round,
    }


def report(payload: dict) -> None:
    print(
        f"\nBatchNormalization training fwd+bwd, {payload['shape']} float32: median of "
        f"{payload['rounds']} rounds of {payload['block_s']} s blocks [min-max over rounds]; "
        f"sanity check max scaled error {payload['check_max_scaled_error']:.1e}"
    )
    for name in IMPLS:
        t = payload["times_s"][name]
        print(
            f"  {name:>12}: {common.fmt_time(t['median'])} "
            f"[{common.fmt_time(t['min'])}-{common.fmt_time(t['max'])}]"
        )
    print("ratios, median of per-round ratios [min-max]")
    for name, r in payload["ratios"].items():
        print(f"  {name:>22}: {common.fmt_ratio(r)}")
    ok = payload["ratios"]["reference/tf.function"]["median"] <= 1.0
    print(f"target (issue 7): {'MET' if ok else 'MISSED'} reference <= tf.function")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=int, nargs=4, default=list(SHAPE))
    common.add_arguments(parser, rounds=7, block_s=0.5, warmup_s=0.1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(args.rounds, args.block_s, args.warmup_s, tuple(args.shape), args.threads)
    report(payload)
    payload["target_met"] = payload["ratios"]["reference/tf.function"]["median"] <= 1.0
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
