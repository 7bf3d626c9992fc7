"""Benchmark: the reference tape's per-call overhead, against the number of weights and tensor size.

Not a test. Issue 7: "no per-call overhead that scales with the number of weights, or with
tensor size, beyond the math". A tiny layer, `Scale`, owns `n_weights` scalar weights and uses
the first `n_used` of them: y = x * w_0 + ... + x * w_{n_used - 1}. One step is the call under
reference.GradientTape and tape.gradient for x and the used weights (public API only), with a
random upstream gradient dy. Its floor is the same math by hand in NumPy, no tape:

    y = sum_i x * w_i;  dx = sum_i dy * w_i;  dw_i = sum(dy * x) for each used i

Both are timed in blocks, alternately, for several rounds (bench/common.py); the overhead is
reference - floor per round, quoted as the median [min-max]. The peak memory one step allocates
(tracemalloc, which sees NumPy's buffers) is printed beside it: unlike time it does not depend
on the load of the machine, and extra full-size buffers are what makes overhead grow with tensor
size. Reading the table:

    1 used of 1 vs 1 used of 100 weights   overhead should not grow with weights the call ignores
    tiny x vs large x (same weights)       overhead should not grow with tensor size
    100 used of 100 vs 1 used of 1         overhead grows by the tape's cost per recorded op
                                           (2 ops per used weight): the math, not the weights

No TensorFlow here.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_tape_overhead.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import reference  # noqa: E402
from bench import common  # noqa: E402

TINY, LARGE = 4, 1 << 20  # elements of x: 16 bytes, 4 MiB in float32
CASES = (  # (label, n_weights, n_used, elements of x)
    ("1 of 1 weights, tiny x", 1, 1, TINY),
    ("1 of 100 weights, tiny x", 100, 1, TINY),
    ("100 of 100 weights, tiny x", 100, 100, TINY),
    ("1 of 1 weights, large x", 1, 1, LARGE),
    ("1 of 100 weights, large x", 100, 1, LARGE),
)


class Scale(reference.Layer):
    """y = x * w_0 + ... + x * w_{n_used - 1}, with n_weights scalar weights in all."""

    def __init__(self, n_weights: int, n_used: int, **kwargs):
        super().__init__(**kwargs)
        self.n_weights, self.n_used = n_weights, n_used

    def build(self, input_shape):
        self.ws = [
            self.add_weight(shape=(), initializer="ones", name=f"w{i}")
            for i in range(self.n_weights)
        ]

    def call(self, inputs):
        y = inputs * self.ws[0]
        for w in self.ws[1 : self.n_used]:
            y = y + inputs * w
        return y


def floor_step(x, ws, dy):
    """Scale's forward and backward by hand, op for op as the tape runs them."""
    y = x * ws[0]
    for w in ws[1:]:
        y = y + x * w
    dx = dy * ws[0]
    for w in ws[1:]:
        dx = dx + dy * w
    return y, dx, [np.sum(dy * x) for _ in ws]


def make_case(n_weights: int, n_used: int, size: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size).astype(np.float32)
    dy = rng.standard_normal(size).astype(np.float32)
    layer = Scale(n_weights, n_used)
    layer.build(x.shape)
    values = [np.float32(1.0 + 0.01 * i) for i in range(n_weights)]
    layer.set_weights(values)
    used = layer.ws[:n_used]

    def reference_step():
        with reference.GradientTape() as tape:
            xt = tape.watch(x)
            y = layer(xt)
        return (y, *tape.gradient(y, [xt, *used], output_gradients=dy))

    def floor():
        y, dx, dws = floor_step(x, values[:n_used], dy)
        return (y, dx, *dws)

    truth = floor_step(x.astype(np.float64), [float(v) for v in values[:n_used]], dy)
    return {
        "fns": {"floor": floor, "reference": reference_step},
        "truth": [truth[0], truth[1], *truth[2]],
    }


def peak_bytes(fn) -> int:
    """Peak bytes allocated while `fn()` runs, its result included (tracemalloc)."""
    fn()  # warm: first-call caches are not the step's cost
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def run(rounds: int, block_s: float, warmup_s: float, threads=None, cases=CASES) -> dict:
    common.limit_threads(threads)
    env = common.environment()
    common.print_environment(env)
    results = {}
    for label, n_weights, n_used, size in cases:
        case = make_case(n_weights, n_used, size)
        outputs = {name: fn() for name, fn in case["fns"].items()}
        # Sums of 2**20 float32 products: a few 1e-5 of their scale, far below any real bug.
        common.check_against(label, outputs, case["truth"], 1e-4)
        per_round = common.run_rounds(case["fns"], rounds, block_s, warmup_s)
        overhead = [r - f for r, f in zip(per_round["reference"], per_round["floor"], strict=True)]
        results[label] = {
            "n_weights": n_weights,
            "n_used": n_used,
            "x_elements": size,
            "times_s": {name: common.spread(t) for name, t in per_round.items()},
            "overhead_s": common.spread(overhead),
            "overhead_per_used_weight_s": statistics.median(overhead) / n_used,
            "peak_bytes": {name: peak_bytes(fn) for name, fn in case["fns"].items()},
        }
    return {"env": env, "rounds": rounds, "block_s": block_s, "results": results}


def report(payload: dict) -> None:
    print(
        f"\nScale layer fwd+bwd under reference.GradientTape: median of {payload['rounds']} "
        f"rounds of {payload['block_s']} s blocks [min-max]; overhead = reference - floor"
    )
    print(
        f"{'case':>28} | {'floor':>10} | {'reference':>10} | {'overhead':>28} | {'per used w':>10}"
        " | peak MiB floor / reference"
    )
    for label, r in payload["results"].items():
        o = r["overhead_s"]
        span = f"{common.fmt_time(o['median'])} [{o['min'] * 1e6:.0f}-{o['max'] * 1e6:.0f} us]"
        print(
            f"{label:>28} | {common.fmt_time(r['times_s']['floor']['median']):>10} | "
            f"{common.fmt_time(r['times_s']['reference']['median']):>10} | {span:>28} | "
            f"{common.fmt_time(r['overhead_per_used_weight_s']):>10} | "
            f"{r['peak_bytes']['floor'] / 2**20:.3f} / {r['peak_bytes']['reference'] / 2**20:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_arguments(parser, rounds=9, block_s=0.3, warmup_s=0.05)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(args.rounds, args.block_s, args.warmup_s, args.threads)
    report(payload)
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
