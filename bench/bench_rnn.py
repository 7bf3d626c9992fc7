"""Benchmark: LSTM(128) over (32, 50, 64) float32 -- forward, forward+backward, batch-1 inference.

Not a test. The same weights and inputs in the reference and in stock Keras, each implementation
timed in its own block (bench/common.py):

    forward          reference.layers.LSTM(x) (no tape)    vs keras.layers.LSTM in tf.function
    forward+backward the reference under GradientTape, the gradients of x and the three weights
                     for a random upstream gradient          vs the same step in tf.function
    batch-1 infer.   the reference on x[:1]                  vs the Keras layer called eagerly

Before timing, every implementation's outputs (and gradients) are checked against the
reference's float64 run on the same values (a sanity check; parity is the parity suite's job).
Targets (issue 10): forward and forward+backward within 1.5x of tf.function; batch-1 inference
faster than TF eager.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m bench.bench_rnn [--json PATH]
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

SHAPE, UNITS = (32, 50, 64), 128
# (name, numerator, denominator, target: numerator / denominator below this)
TARGETS = [
    ("forward", "reference fwd", "tf.function fwd", 1.5),
    ("forward+backward", "reference fwd+bwd", "tf.function fwd+bwd", 1.5),
    ("batch-1 inference", "reference batch-1", "TF eager batch-1", 1.0),
]


def make_case(tf, keras, shape=SHAPE, units=UNITS) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    dy = rng.standard_normal((shape[0], units)).astype("float32")
    layers = {}
    for dtype in ("float32", "float64"):
        layers[dtype] = reference.layers.LSTM(units, dtype=dtype)
        layers[dtype].build(shape)
    k = keras.layers.LSTM(units)
    k.build(shape)
    values = [w.numpy() for w in k.weights]  # Keras's initial weights, in both
    for layer in layers.values():
        layer.set_weights(values)
    ref = layers["float32"]

    def ref_step(layer=ref, xs=x, dys=dy):
        with reference.GradientTape() as tape:
            xt = tape.watch(xs)
            y = layer(xt)
        return (y, *tape.gradient(y, [xt, *layer.weights], output_gradients=dys))

    x_tf, dy_tf, x1_tf = tf.constant(x), tf.constant(dy), tf.constant(x[:1])

    @tf.function
    def tf_forward(xs):
        return k(xs)

    @tf.function
    def tf_step(xs, dys):
        with tf.GradientTape() as tape:
            tape.watch(xs)
            y = k(xs)
        return (y, *tape.gradient(y, [xs, *k.weights], output_gradients=dys))

    fns = {
        "reference fwd": lambda: ref(x),
        "tf.function fwd": lambda: tf_forward(x_tf),
        "reference fwd+bwd": ref_step,
        "tf.function fwd+bwd": lambda: tf_step(x_tf, dy_tf),
        "reference batch-1": lambda: ref(x[:1]),
        "TF eager batch-1": lambda: k(x1_tf),
    }
    f64 = layers["float64"]
    full = ref_step(f64, x.astype("float64"), dy.astype("float64"))
    truths = {"fwd": [full[0]], "fwd+bwd": list(full), "batch-1": [f64(x[:1].astype("float64"))]}
    return {"fns": fns, "truths": truths}


def run(rounds: int, block_s: float, warmup_s: float, shape=SHAPE, threads=None) -> dict:
    tf, keras = common.import_tf(threads)
    env = common.environment(tf)
    common.print_environment(env)
    case = make_case(tf, keras, shape)
    worst = 0.0
    for kind, truth in case["truths"].items():
        outs = {n: fn() for n, fn in case["fns"].items() if n.endswith(kind)}
        outs = {n: v if isinstance(v, tuple | list) else [v] for n, v in outs.items()}
        worst = max(worst, common.check_against(f"LSTM {kind}", outs, truth, 1e-4))
    per_round = common.run_rounds(case["fns"], rounds, block_s, warmup_s)
    return {
        "env": env,
        "shape": shape,
        "units": UNITS,
        "rounds": rounds,
        "block_s": block_s,
        "check_max_scaled_error": worst,
        "times_s": {name: common.spread(t) for name, t in per_round.items()},
        "ratios": {
            f"{num}/{den}": common.ratio_stats(per_round[num], per_round[den])
            for _, num, den, _ in TARGETS
        },
        "per_round_s": per_round,
    }


def report(payload: dict) -> bool:
    print(
        f"\nLSTM({payload['units']}) over {payload['shape']} float32: median of "
        f"{payload['rounds']} rounds of {payload['block_s']} s blocks [min-max over rounds]; "
        f"sanity check max scaled error {payload['check_max_scaled_error']:.1e}"
    )
    for name, t in payload["times_s"].items():
        print(
            f"  {name:>20}: {common.fmt_time(t['median'])} "
            f"[{common.fmt_time(t['min'])}-{common.fmt_time(t['max'])}]"
        )
    met = True
    for label, num, den, limit in TARGETS:
        r = payload["ratios"][f"{num}/{den}"]
        ok = r["median"] < limit
        met &= ok
        print(f"  {label:>18}: {num} / {den} = {common.fmt_ratio(r)} "
              f"(target < {limit}: {'MET' if ok else 'MISSED'})")  # fmt: skip
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, default=list(SHAPE))
    common.add_arguments(parser, rounds=5, block_s=1.0, warmup_s=0.2)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(args.rounds, args.block_s, args.warmup_s, tuple(args.shape), args.threads)
    payload["targets_met"] = report(payload)
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
