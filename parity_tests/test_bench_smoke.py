"""The benchmarks in bench/ still run: each `main` with a tiny repeat count (a smoke test only).

Benchmarks are not tests and nothing here judges a time: this only keeps them from rotting when
the layers or the tape change (bench/README.md). Each benchmark checks, before timing, that its
implementations agree with a float64 floor, so one that times wrong math fails here too.
"""

import json
import math

import pytest

from bench import (
    bench_attention,
    bench_batchnorm,
    bench_conv,
    bench_conv_family,
    bench_dense,
    bench_interleave,
    bench_saving,
    bench_tape_overhead,
)

TINY = ["--rounds", "1", "--block-s", "0.001", "--warmup-s", "0"]


def _floats(tree) -> list[float]:
    if isinstance(tree, dict):
        return [v for value in tree.values() for v in _floats(value)]
    if isinstance(tree, list):
        return [v for value in tree for v in _floats(value)]
    return [tree] if isinstance(tree, float) else []


ROWS = [  # (module, extra arguments, the timings and ratios of its JSON, all positive)
    (bench_dense, ["--batches", "1"], lambda p: [r["times_s"] for r in p["results"].values()]
     + [r["ratios"] for r in p["results"].values()]),
    (bench_batchnorm, ["--shape", "4", "3", "3", "8"], lambda p: [p["times_s"], p["ratios"]]),
    (bench_interleave, ["--batches", "8", "--sides", "floor"], lambda p: p["results"]),
    (bench_tape_overhead, ["--threads", "1"],
     lambda p: [r["times_s"] for r in p["results"].values()]),
    (bench_conv, ["--shape", "2", "6", "6", "3"],
     lambda p: [[r["times_s"], r["ratio"]] for r in p["results"].values()]),
    (bench_conv_family, ["--scale", "16"],
     lambda p: [[r["times_s"], r["ratio_fwd"], r["ratio_fwd_bwd"]] for r in p["results"].values()]),
    (bench_attention, ["--shape", "2", "8", "16"], lambda p: [p["times_s"], p["ratios"]]),
    (bench_saving, ["--units", "4", "8", "2"], lambda p: [p["times_s"], p["ratios"]]),
]  # fmt: skip


@pytest.mark.parametrize(
    "module, extra, timings", ROWS, ids=[m.__name__.split(".")[-1] for m, _, _ in ROWS]
)
def test_benchmark_runs_and_writes_its_numbers(module, extra, timings, tmp_path, capsys):
    path = tmp_path / "out.json"
    assert module.main([*TINY, *extra, "--json", str(path)]) == 0
    assert "BLAS (threadpoolctl)" in capsys.readouterr().out  # says which BLAS kernel ran
    numbers = _floats(timings(json.loads(path.read_text())))
    assert numbers and all(math.isfinite(v) and v > 0 for v in numbers)
