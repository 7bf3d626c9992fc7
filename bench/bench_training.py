"""Benchmark: training an MLP 784-512-512-10 (relu, softmax), float32, Adam, batch 128.

Not a test. Two measurements, each the reference against stock Keras (TF backend) in this one
process, on the same initial weights and data:

    step    one train_on_batch (forward, backward, Adam update) on a fixed batch; median over
            --rounds alternating blocks of --steps steps each
    epoch   one epoch of fit(shuffle=False, verbose=0) over --samples random samples

Targets (issue 11): reference step <= Keras train_on_batch; reference epoch <= Keras fit.
Prints seconds and the ratio reference / Keras (< 1: the reference is faster).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_training.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def build(lib, layers_mod):
    inp = lib.Input((784,))
    h = layers_mod.Dense(512, activation="relu")(inp)
    h = layers_mod.Dense(512, activation="relu")(h)
    model = lib.Model(inp, layers_mod.Dense(10, activation="softmax")(h))
    return model


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--fit-rounds", type=int, default=1, help="fit epochs timed per library")
    parser.add_argument(
        "--threads", type=int, help="cap BLAS and TF thread pools (default: library defaults)"
    )
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}, threads: {args.threads or 'default'}")

    from bench import common

    _, keras = common.import_tf(args.threads)

    import reference
    from reference import layers as rl

    k_model, r_model = build(keras, keras.layers), build(reference, rl)
    r_model.set_weights(k_model.get_weights())
    for model, lib in ((k_model, keras), (r_model, reference)):
        model.compile(optimizer=lib.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype("float32")
    y = rng.integers(0, 10, 128)
    for model in (k_model, r_model):  # warm-up: Keras traces its train function here
        for _ in range(3):
            model.train_on_batch(x, y)

    times = {"keras": [], "reference": []}
    for _ in range(args.rounds):
        for name, model in (("keras", k_model), ("reference", r_model)):
            start = time.perf_counter()
            for _ in range(args.steps):
                model.train_on_batch(x, y)
            times[name].append((time.perf_counter() - start) / args.steps)
    step = {k: float(np.median(v)) for k, v in times.items()}
    ratios = [r / k for r, k in zip(times["reference"], times["keras"], strict=True)]
    print(f"step  (batch 128): keras {step['keras'] * 1e3:.2f} ms, reference "
          f"{step['reference'] * 1e3:.2f} ms, ratio reference/keras {np.median(ratios):.2f} "
          f"(per round {min(ratios):.2f}..{max(ratios):.2f})")  # fmt: skip

    xs = rng.standard_normal((args.samples, 784)).astype("float32")
    ys = rng.integers(0, 10, args.samples)
    epochs = {"keras": [], "reference": []}
    for _ in range(args.fit_rounds):
        for name, model in (("keras", k_model), ("reference", r_model)):
            start = time.perf_counter()
            model.fit(xs, ys, batch_size=128, epochs=1, shuffle=False, verbose=0)
            epochs[name].append(time.perf_counter() - start)
    epoch = {k: float(np.median(v)) for k, v in epochs.items()}
    fit_ratios = [r / k for r, k in zip(epochs["reference"], epochs["keras"], strict=True)]
    print(f"epoch ({args.samples} samples): keras {epoch['keras']:.2f} s, reference "
          f"{epoch['reference']:.2f} s, ratio reference/keras {np.median(fit_ratios):.2f} "
          f"(per round {min(fit_ratios):.2f}..{max(fit_ratios):.2f})")  # fmt: skip
    print(f"load average at end: {os.getloadavg()}")
    return {"step": step, "step_ratio": float(np.median(ratios)), "epoch": epoch,
            "epoch_ratio": float(np.median(fit_ratios))}  # fmt: skip


if __name__ == "__main__":
    main()
