"""Benchmark: Conv2D(32, 3, padding="same") and MaxPooling2D(2) on (32, 32, 32, 32) float32.

Not a test. The reference layers (public API: a layer call, and a call under
reference.GradientTape followed by tape.gradient) against stock Keras layers run eagerly and
inside tf.function, on the same inputs and weights, each timed in its own block
(bench/common.py). Every implementation's outputs and gradients are first checked against
TensorFlow in float64.

Targets (issue 8), as medians of per-round ratios:
    Conv2D forward           reference <= 1.3x tf.function
    Conv2D forward+backward  reference <= 1.5x tf.function
    Conv2D batch-1 forward   reference <  TF eager
    MaxPooling2D fwd+bwd     reference <= 1.5x tf.function

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_conv.py [--json PATH]

Measured (shared 2-core machine, load average 10-18 from other sessions, 5 rounds of 0.3 s;
medians of per-round ratios, one value per run), before (im2col everywhere, window-gather
pooling, commit 41e70a1) -> after (shifted GEMMs, tap-view pooling):

    --threads 1          forward       1.71 1.74 1.96 2.42 -> 1.40 1.47 1.53 1.58
                         fwd+bwd       1.90 1.93 2.07 2.17 -> 1.21 1.32 1.41 1.53
                         batch-1 fwd   0.08 0.11 0.13 0.31 -> 0.06 0.08 0.10 0.11 (x TF eager)
                         MaxPool2D     1.81 1.86 1.90 2.08 -> 0.48 0.49 0.50 0.58
    default (2) threads  forward       2.73 3.28           -> 5.51
                         fwd+bwd       3.09 4.39           -> 21.3
                         batch-1 fwd   2.67 2.79           -> 2.59 (x TF eager)
                         MaxPool2D     1.85 1.92           -> 0.48

With two BLAS threads on a machine whose cores are all busy, every multi-threaded BLAS call
waits for its helper thread's time slice (~100 ms each at load 15); shifted GEMMs make one call
per kernel tap (27 per forward+backward against im2col's 3), so there they lose. Run with
--threads 1 on a loaded machine (bench/README.md); small convolutions keep one GEMM (conv.py).
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


def _cases(tf, keras, shape, seed: int) -> dict:
    """name -> (implementations {name: fn}, float64 truth fn, tolerance)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype("float32")
    x1 = x[:1].copy()
    kernel = (0.1 * rng.standard_normal((3, 3, shape[-1], 32))).astype("float32")
    bias = (0.1 * rng.standard_normal(32)).astype("float32")
    dy = rng.standard_normal((*shape[:-1], 32)).astype("float32")
    dy_pool = rng.standard_normal((shape[0], shape[1] // 2, shape[2] // 2, shape[3]))
    dy_pool = dy_pool.astype("float32")

    ref_conv = reference.layers.Conv2D(32, 3, padding="same")
    ref_conv.build(shape)
    ref_conv.set_weights([kernel, bias])
    tf_conv = keras.layers.Conv2D(32, 3, padding="same")
    tf_conv.build(shape)
    tf_conv.set_weights([kernel, bias])
    ref_pool, tf_pool = reference.layers.MaxPooling2D(2), keras.layers.MaxPooling2D(2)
    xt, x1t, dyt, dypt = (tf.constant(a) for a in (x, x1, dy, dy_pool))

    def ref_step(layer, inputs, grad):
        with reference.GradientTape() as tape:
            tx = tape.watch(inputs)
            y = layer(tx)
        return (y, *tape.gradient(y, [tx, *layer.trainable_weights], output_gradients=grad))

    def tf_step(layer, inputs, grad):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            y = layer(inputs)
        return (y, *tape.gradient(y, [inputs, *layer.trainable_weights], output_gradients=grad))

    conv_fwd = tf.function(lambda a: tf_conv(a))
    conv_step = tf.function(lambda a, g: tf_step(tf_conv, a, g))
    pool_step = tf.function(lambda a, g: tf_step(tf_pool, a, g))

    def truth_conv(inputs, grad=None):
        a, k, b = (tf.constant(v, tf.float64) for v in (inputs, kernel, bias))
        with tf.GradientTape() as tape:
            tape.watch([a, k, b])
            y = tf.nn.conv2d(a, k, 1, "SAME") + b
        if grad is None:
            return [y]
        return [y, *tape.gradient(y, [a, k, b], output_gradients=tf.constant(grad, tf.float64))]

    def truth_pool():
        a = tf.constant(x, tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(a)
            y = tf.nn.max_pool2d(a, 2, 2, "VALID")
        return [y, tape.gradient(y, a, output_gradients=tf.constant(dy_pool, tf.float64))]

    return {
        "Conv2D forward": (
            {"reference": lambda: ref_conv(x), "tf.function": lambda: conv_fwd(xt)},
            lambda: truth_conv(x),
        ),
        "Conv2D forward+backward": (
            {
                "reference": lambda: ref_step(ref_conv, x, dy),
                "tf.function": lambda: conv_step(xt, dyt),
            },
            lambda: truth_conv(x, dy),
        ),
        "Conv2D batch-1 forward": (
            {"reference": lambda: ref_conv(x1), "TF eager": lambda: tf_conv(x1t)},
            lambda: truth_conv(x1),
        ),
        "MaxPooling2D forward+backward": (
            {
                "reference": lambda: ref_step(ref_pool, x, dy_pool),
                "tf.function": lambda: pool_step(xt, dypt),
            },
            truth_pool,
        ),
    }


TARGETS = {  # case -> (baseline, largest acceptable median ratio reference/baseline, strict)
    "Conv2D forward": ("tf.function", 1.3, False),
    "Conv2D forward+backward": ("tf.function", 1.5, False),
    "Conv2D batch-1 forward": ("TF eager", 1.0, True),
    "MaxPooling2D forward+backward": ("tf.function", 1.5, False),
}


def run(shape, rounds: int, block_s: float, warmup_s: float, threads=None, seed=0) -> dict:
    tf, keras = common.import_tf(threads)
    env = common.environment(tf)
    common.print_environment(env)
    results = {}
    for name, (fns, truth) in _cases(tf, keras, shape, seed).items():
        outputs = {impl: fn() for impl, fn in fns.items()}
        outputs = {k: v if isinstance(v, tuple) else (v,) for k, v in outputs.items()}
        # float32 against float64: a few roundings of sums over 288 terms
        worst = common.check_against(name, outputs, [t.numpy() for t in truth()], 1e-4)
        per_round = common.run_rounds(fns, rounds, block_s, warmup_s)
        baseline = TARGETS[name][0]
        results[name] = {
            "check_max_scaled_error": worst,
            "times_s": {impl: common.spread(t) for impl, t in per_round.items()},
            "ratio": common.ratio_stats(per_round["reference"], per_round[baseline]),
            "baseline": baseline,
        }
    return {
        "env": env,
        "shape": list(shape),
        "rounds": rounds,
        "block_s": block_s,
        "results": results,
    }


def targets(results: dict) -> dict[str, bool]:
    out = {}
    for name, (baseline, limit, strict) in TARGETS.items():
        if name in results:
            r = results[name]["ratio"]["median"]
            sign = "<" if strict else "<="
            out[f"{name}: reference {sign} {limit}x {baseline}"] = (
                r < limit if strict else r <= limit
            )
    return out


def report(payload: dict) -> None:
    print(
        f"\ninput {tuple(payload['shape'])} float32: median of {payload['rounds']} rounds "
        f"[min-max over rounds]"
    )
    for name, r in payload["results"].items():
        times = ", ".join(
            f"{impl} {common.fmt_time(t['median'])}" for impl, t in r["times_s"].items()
        )
        print(f"  {name:32} {times}; reference/{r['baseline']} {common.fmt_ratio(r['ratio'])}")
    print("\ntargets (issue 8):")
    for name, ok in targets(payload["results"]).items():
        print(f"  {'MET   ' if ok else 'MISSED'} {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=int, nargs=4, default=[32, 32, 32, 32])
    common.add_arguments(parser, rounds=7, block_s=0.5, warmup_s=0.1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(tuple(args.shape), args.rounds, args.block_s, args.warmup_s, args.threads)
    report(payload)
    payload["targets"] = targets(payload["results"])
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
