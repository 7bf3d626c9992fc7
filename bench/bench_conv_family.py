"""Benchmark: the convolution family beyond bench_conv's Conv2D case, reference vs tf.function.

Not a test. Each layer in the reference and in stock Keras, on the same input and weights (Keras's
initial weights copied), timed in its own block: the forward pass, and forward+backward (the
input and every trainable weight, with a random upstream gradient). Outputs are first checked
against Keras. No targets (issue 8 sets them for Conv2D 3x3 only, in bench_conv); the ratios
show where the reference is slow.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_conv_family.py [--json PATH]

Measured (2-core AMD EPYC, first Zen generation, quiet; medians of 3 per-round ratios [min-max],
reference / tf.function, forward; forward+backward). Two runs: before and after the per-tap
col2im GEMMs (conv.py's _PER_TAP_BYTES) and the tap-view average pooling:

                                              before                      after
    Conv2D(64, 3, strides=2, same)            1.57; 2.38 [2.34-3.03]      1.29; 1.64 [1.07-2.30]
    Conv2D(32, 3, dilation_rate=2, same)      1.17; 2.01                  1.42; 1.99
    Conv2D(64, 1)                             1.26; 2.15                  1.28; 1.73
    Conv2D(32, 3, groups=4, same)             3.16; 0.12                  2.53; 0.11
    DepthwiseConv2D(3, same)                  2.24; 4.37                  2.48; 4.72
    SeparableConv2D(32, 3, same)              3.78; 4.38                  3.77; 3.84
    Conv2DTranspose(32, 3, strides=2, same)   2.60; 2.59                  1.87; 2.29
    Conv1D(64, 5, causal)                     1.31; 1.74                  0.94; 1.69
    Conv3D(16, 3, same)                       1.33; 1.39                  1.06; 1.32
    AveragePooling2D(3, 2, same)              2.96; 6.42                  1.95; 5.50
    UpSampling2D(2, bilinear)                 2.25; 3.33                  2.25; 2.78

Rows that no change touched moved by up to 0.4 between the runs (this host's noise). Before
the depthwise tap loop (conv_depthwise.py), DepthwiseConv2D took 17.3x / 37x and
SeparableConv2D 15.3x / 17.5x (a scratch run of the same cases). Where the rest goes: strided
convolutions copy an im2col and scatter the input gradient with strided adds; average pooling's
gradient is nine strided adds; grouped convolutions run one stacked matmul per group.
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

# name -> (layer factory on a layers module, input shape)
CASES = {
    "Conv2D(64, 3, strides=2, same)": (lambda L: L.Conv2D(64, 3, strides=2, padding="same"),
                                       (32, 32, 32, 32)),
    "Conv2D(32, 3, dilation_rate=2, same)": (
        lambda L: L.Conv2D(32, 3, dilation_rate=2, padding="same"), (32, 32, 32, 32)),
    "Conv2D(64, 1)": (lambda L: L.Conv2D(64, 1), (32, 32, 32, 32)),
    "Conv2D(32, 3, groups=4, same)": (lambda L: L.Conv2D(32, 3, padding="same", groups=4),
                                      (32, 32, 32, 32)),
    "DepthwiseConv2D(3, same)": (lambda L: L.DepthwiseConv2D(3, padding="same"),
                                 (32, 32, 32, 32)),
    "SeparableConv2D(32, 3, same)": (lambda L: L.SeparableConv2D(32, 3, padding="same"),
                                     (32, 32, 32, 32)),
    "Conv2DTranspose(32, 3, strides=2, same)": (
        lambda L: L.Conv2DTranspose(32, 3, strides=2, padding="same"), (32, 16, 16, 32)),
    "Conv1D(64, 5, causal)": (lambda L: L.Conv1D(64, 5, padding="causal"), (32, 256, 64)),
    "Conv3D(16, 3, same)": (lambda L: L.Conv3D(16, 3, padding="same"), (8, 16, 16, 16, 8)),
    "AveragePooling2D(3, 2, same)": (
        lambda L: L.AveragePooling2D(3, strides=2, padding="same"), (32, 32, 32, 32)),
    "UpSampling2D(2, bilinear)": (lambda L: L.UpSampling2D(2, interpolation="bilinear"),
                                  (32, 16, 16, 32)),
}  # fmt: skip


def _pair(tf, keras, make, shape, scale: int, rng):
    """(reference fwd, tf.function fwd, reference step, tf.function step, check error)."""
    shape = (max(1, shape[0] // scale), *shape[1:])
    x = rng.standard_normal(shape).astype("float32")
    ref, ker = make(reference.layers), make(keras.layers)
    ref.build(shape)
    ker.build(shape)
    if ker.get_weights():
        ref.set_weights(ker.get_weights())
    xt = tf.constant(x)
    want = ker(xt).numpy()
    dy = rng.standard_normal(want.shape).astype("float32")
    dyt = tf.constant(dy)
    error = common.max_scaled_error(ref(x), want)
    tf_fwd = tf.function(lambda a: ker(a))

    @tf.function
    def tf_step(a, g):
        with tf.GradientTape() as tape:
            tape.watch(a)
            y = ker(a)
        return tape.gradient(y, [a, *ker.trainable_weights], output_gradients=g)

    def ref_step():
        with reference.GradientTape() as tape:
            tx = tape.watch(x)
            y = ref(tx)
        return tape.gradient(y, [tx, *ref.trainable_weights], output_gradients=dy)

    return (lambda: ref(x)), (lambda: tf_fwd(xt)), ref_step, (lambda: tf_step(xt, dyt)), error


def run(rounds: int, block_s: float, warmup_s: float, threads=None, scale=1, seed=0) -> dict:
    tf, keras = common.import_tf(threads)
    env = common.environment(tf)
    common.print_environment(env)
    rng = np.random.default_rng(seed)
    results = {}
    print(f"\nmedian of {rounds} rounds [min-max], reference / tf.function:")
    for name, (make, shape) in CASES.items():
        ref_fwd, tf_fwd, ref_step, tf_step, error = _pair(tf, keras, make, shape, scale, rng)
        if error > 1e-4:  # float32 against Keras's float32: a few roundings
            raise AssertionError(f"{name}: reference and Keras differ by {error:.2e}")
        fwd = common.run_rounds({"reference": ref_fwd, "tf.function": tf_fwd}, rounds,
                                block_s, warmup_s)  # fmt: skip
        step = common.run_rounds({"reference": ref_step, "tf.function": tf_step}, rounds,
                                 block_s, warmup_s)  # fmt: skip
        results[name] = {
            "check_max_scaled_error": error,
            "times_s": {f"{k} fwd": common.spread(v) for k, v in fwd.items()}
            | {f"{k} fwd+bwd": common.spread(v) for k, v in step.items()},
            "ratio_fwd": common.ratio_stats(fwd["reference"], fwd["tf.function"]),
            "ratio_fwd_bwd": common.ratio_stats(step["reference"], step["tf.function"]),
        }
        r = results[name]
        print(f"  {name:42} fwd {common.fmt_ratio(r['ratio_fwd'])}  fwd+bwd "
              f"{common.fmt_ratio(r['ratio_fwd_bwd'])}  (reference fwd "
              f"{common.fmt_time(r['times_s']['reference fwd']['median'])})")  # fmt: skip
    return {"env": env, "rounds": rounds, "block_s": block_s, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="divide every batch size by this")
    common.add_arguments(parser, rounds=3, block_s=0.4, warmup_s=0.1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(args.rounds, args.block_s, args.warmup_s, args.threads, args.scale)
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
