"""What every benchmark here shares: the environment report, block timing and ratio statistics.

Timing rule (issue 7): each implementation is timed in its own block -- an untimed warm-up, then
back-to-back calls of that implementation only -- and never interleaved call by call with
another library. When NumPy's OpenBLAS threads and TensorFlow's thread pool alternate, both slow
down (bench_interleave.py measures by how much); in blocks each library has the cores to itself.

A run is `rounds` rounds; a round is one block of every implementation (the starting one rotates
from round to round, so that slow drift of a shared machine does not always hit the same one).
A block's value is the median time of one call in it. Ratios are taken per round and the figure
quoted is the median of the per-round ratios, with their min and max as the run-to-run spread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Before TensorFlow is imported (by whichever benchmark imports it): its C++ log lines only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_ENABLE_ONEDNN_OPTS")
MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "LD_PRELOAD")


# -- environment report --------------------------------------------------------------------------
def blas_info() -> list[dict]:
    """NumPy's BLAS libraries as threadpoolctl sees them: API, version, kernel, threads."""
    try:
        import threadpoolctl
    except ImportError:  # benchmark-only dependency; say so instead of guessing
        return [{"error": "threadpoolctl is not installed (pip install threadpoolctl)"}]
    keys = ("internal_api", "version", "architecture", "threading_layer", "num_threads")
    return [{k: p.get(k) for k in keys} for p in threadpoolctl.threadpool_info()]


def environment(tf=None) -> dict:
    """Everything a reader needs to compare two runs; printed by `print_environment`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env = {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "usable_cores": cores,
        "numpy": np.__version__,
        "blas": blas_info(),
        "env": {k: os.environ.get(k) for k in (*BLAS_ENV, *THREAD_ENV, *MALLOC_ENV)},
        "loadavg_at_start": os.getloadavg(),
    }
    if tf is not None:
        threading = tf.config.threading
        env["tensorflow"] = tf.__version__
        env["tf_intra_op_threads"] = threading.get_intra_op_parallelism_threads()
        env["tf_inter_op_threads"] = threading.get_inter_op_parallelism_threads()
    return env


def print_environment(env: dict) -> None:
    print(
        f"python {env['python']}, {env['cpu']}, {env['usable_cores']} usable cores, load average "
        f"{' '.join(f'{v:.2f}' for v in env['loadavg_at_start'])} (other work on the machine)"
    )
    for key in BLAS_ENV:
        value = env["env"][key]
        print(f"{key}: {'unset' if value is None else f'SET to {value!r} (may slow NumPy)'}")
    others = {k: v for k, v in env["env"].items() if v is not None and k not in BLAS_ENV}
    print(f"other thread/malloc env vars: {others or 'none set'}")
    for pool in env["blas"]:
        print(f"NumPy {env['numpy']} BLAS (threadpoolctl): {pool}")
    if "tensorflow" in env:
        print(
            f"TensorFlow {env['tensorflow']}: intra_op={env['tf_intra_op_threads']} "
            f"inter_op={env['tf_inter_op_threads']} (0 = TF's default, one per core)"
        )


_LIMITS: list = []  # keeps threadpoolctl's limit alive for the whole run


def limit_threads(threads: int | None, tf=None) -> None:
    """Cap NumPy's BLAS threads (and TF's intra- and inter-op pools) at `threads`; None: defaults.

    For a loaded machine: with every core busy elsewhere, multi-threaded BLAS and TF pools spend
    their time waiting for each other, and one thread each gives steadier ratios.
    """
    if threads is None:
        return
    import threadpoolctl

    _LIMITS.append(threadpoolctl.threadpool_limits(limits=threads, user_api="blas"))
    if tf is not None:  # only possible before TF runs its first op
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def import_tf(threads: int | None = None):
    """TensorFlow and Keras, imported once the environment above is in place."""
    import keras
    import tensorflow as tf

    limit_threads(threads, tf)
    return tf, keras


def add_arguments(parser: argparse.ArgumentParser, rounds: int, block_s: float, warmup_s: float):
    """The options every benchmark here takes."""
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--block-s", type=float, default=block_s, help="timed seconds per block")
    parser.add_argument("--warmup-s", type=float, default=warmup_s, help="untimed s per block")
    parser.add_argument(
        "--threads", type=int, help="cap BLAS and TF thread pools (default: library defaults)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")


def finish(payload: dict, args: argparse.Namespace, start: float) -> int:
    """Adds the run's length and load to `payload`, prints them, writes the JSON if asked."""
    payload["threads"] = args.threads
    while _LIMITS:  # give the BLAS its thread count back (matters when called from a test)
        _LIMITS.pop().restore_original_limits()
    payload["loadavg_at_end"] = os.getloadavg()
    payload["total_s"] = time.perf_counter() - start
    print(
        f"\ntotal {payload['total_s']:.1f} s; load average at the end "
        f"{' '.join(f'{v:.2f}' for v in payload['loadavg_at_end'])}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


# -- timing ---------------------------------------------------------------------------------------
def time_block(fn: Callable[[], object], seconds: float, warmup_s: float) -> float:
    """Median seconds per call of `fn`, called alone for about `seconds` after a warm-up."""
    perf = time.perf_counter
    start = perf()
    calls = 0
    while calls < 2 or perf() - start < warmup_s:  # the other library's threads settle here
        fn()
        calls += 1
    times: list[float] = []
    start = perf()
    while len(times) < 5 or perf() - start < seconds:
        t0 = perf()
        fn()
        times.append(perf() - t0)
    return statistics.median(times)


def run_rounds(
    fns: dict[str, Callable[[], object]], rounds: int, block_s: float, warmup_s: float
) -> dict[str, list[float]]:
    """Per-round block medians of every implementation (see the module docstring)."""
    names = list(fns)
    per_round: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            per_round[name].append(time_block(fns[name], block_s, warmup_s))
    return per_round


def ratio_stats(num: list[float], den: list[float]) -> dict:
    """Median, min and max over rounds of the per-round ratio num/den."""
    ratios = [a / b for a, b in zip(num, den, strict=True)]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} us"


def fmt_ratio(r: dict) -> str:
    return f"{r['median']:.3f} [{r['min']:.2f}-{r['max']:.2f}]"


# -- checks -------------------------------------------------------------------------------------
def to_numpy(value) -> np.ndarray:
    """An ndarray from an ndarray, a tf.Tensor, a reference TrackedArray or a Variable."""
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def max_scaled_error(got, want) -> float:
    """max |got - want| / max(1, max |want|), in float64."""
    got = to_numpy(got).astype(np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(f"shape {got.shape} != {want.shape}")
    return float(np.abs(got - want).max() / max(1.0, float(np.abs(want).max())))


def check_against(name: str, results: dict, truth: list, limit: float) -> float:
    """Every implementation's outputs against a float64 truth; raises above `limit`.

    A sanity check that the timed functions compute the same thing (the parity suite is where
    agreement is tested): `limit` is a few float32 roundings of the largest value.
    """
    worst = 0.0
    for impl, values in results.items():
        for i, (got, want) in enumerate(zip(values, truth, strict=True)):
            err = max_scaled_error(got, want)
            if not err <= limit:
                raise AssertionError(f"{name}: {impl} output {i} is off by {err:.3g} > {limit}")
            worst = max(worst, err)
    return worst
