"""Benchmark: reference Dense(512, relu) against stock Keras Dense on TF, eager and tf.function.

Not a test. One process, the same inputs and the same weights on both sides. For each batch size it
times, with time.perf_counter:

    ref fwd        reference.layers.Dense called on an ndarray
    ref fwd+bwd    the same call under reference.GradientTape, then tape.gradient w.r.t. the input,
                   kernel and bias with a random upstream gradient
    eager fwd      keras.layers.Dense (the stock layer, the realistic baseline) on a tf.Tensor
    eager fwd+bwd  the same under tf.GradientTape, gradients w.r.t. input, kernel and bias
    tf.fn fwd      a tf.function that calls the Keras layer
    tf.fn fwd+bwd  a tf.function that holds the tape and the gradient

Each variant is warmed up, then sampled round-robin (one chunk of each variant per round, after
one untimed lead-in call, so that slow drift of a noisy machine hits all variants alike); a sample
is the mean of `number` back-to-back calls and the reported value is the median over samples.
Before any timing, outputs and gradients of the TF variants are checked against the reference.

Run it with OpenBLAS's core-type overrides removed for this command only (see bench/README.md):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_dense.py [--json PATH]
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # before TensorFlow is imported; nothing else is changed
_BLAS_ENV = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
_THREAD_ENV = {
    k: os.environ.get(k)
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_ENABLE_ONEDNN_OPTS")
}

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import reference  # noqa: E402

UNITS = IN_DIM = 512
DTYPE = np.float32
VARIANTS = ("ref fwd", "eager fwd", "tf.fn fwd", "ref fwd+bwd", "eager fwd+bwd", "tf.fn fwd+bwd")


# -- environment report --------------------------------------------------------------------------
def _openblas_lib() -> ctypes.CDLL | None:
    libs_dir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(glob.glob(str(libs_dir / "libscipy_openblas*.so*"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _openblas_query(lib: ctypes.CDLL, name: str, restype):
    for symbol in (f"scipy_openblas_{name}64_", f"scipy_openblas_{name}", f"openblas_{name}"):
        fn = getattr(lib, symbol, None)
        if fn is not None:
            fn.restype = restype
            value = fn()
            return value.decode() if isinstance(value, bytes) else value
    return None


def blas_info() -> dict:
    """Which BLAS NumPy uses, its kernel and thread count (threadpoolctl when installed)."""
    info: dict = {"numpy": np.__version__}
    try:
        import threadpoolctl

        info["source"] = "threadpoolctl"
        info["threadpools"] = [
            {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        info["source"] = "np.show_config + OpenBLAS C API (threadpoolctl is not installed)"
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        info["name"] = blas.get("name")
        info["version"] = blas.get("version")
        info["build_config"] = " ".join(str(blas.get("openblas configuration", "")).split())
        lib = _openblas_lib()
        if lib is not None:
            info["corename"] = _openblas_query(lib, "get_corename", ctypes.c_char_p)
            info["num_threads"] = _openblas_query(lib, "get_num_threads", ctypes.c_int)
            info["runtime_config"] = _openblas_query(lib, "get_config", ctypes.c_char_p)
    return info


def _onednn_enabled() -> bool | None:
    try:  # private, but the only switch TF exposes for "are oneDNN kernels in use"
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return None


def tf_info(tf, keras) -> dict:
    threading = tf.config.threading
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "intra_op_threads": threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": threading.get_inter_op_parallelism_threads(),
        "note": "0 = TF's default (one thread per available core)",
        "TF_ENABLE_ONEDNN_OPTS": _THREAD_ENV["TF_ENABLE_ONEDNN_OPTS"] or "unset (TF default)",
        "onednn_enabled": _onednn_enabled(),
    }


def print_environment(blas: dict, tfi: dict) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"python {platform.python_version()}, {platform.processor() or platform.machine()}, "
        f"{cores} usable cores"
    )
    for key, value in _BLAS_ENV.items():
        state = "UNSET" if value is None else f"SET to {value!r} (NumPy's BLAS may be slowed)"
        print(f"{key}: {state}")
    threads_env = {k: v for k, v in _THREAD_ENV.items() if v is not None and "ONEDNN" not in k}
    print(f"thread env vars: {threads_env or 'none set'}")
    print(f"NumPy {blas['numpy']} BLAS ({blas['source']}):")
    for key, value in blas.items():
        if key not in ("numpy", "source"):
            print(f"  {key}: {value}")
    print(
        f"TensorFlow {tfi['tensorflow']}, Keras {tfi['keras']}: intra_op={tfi['intra_op_threads']}"
        f" inter_op={tfi['inter_op_threads']} ({tfi['note']}); "
        f"TF_ENABLE_ONEDNN_OPTS {tfi['TF_ENABLE_ONEDNN_OPTS']}, "
        f"oneDNN kernels {'on' if tfi['onednn_enabled'] else 'off or unknown'}"
    )


# -- the workloads -----------------------------------------------------------------------------
def make_case(batch: int, tf, keras, seed: int) -> dict:
    """Same x, weights and upstream gradient for both sides; returns the callables to time."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, IN_DIM)).astype(DTYPE)
    ref = reference.layers.Dense(UNITS, activation="relu")
    ref.build((batch, IN_DIM))
    kernel = ref.kernel.numpy()  # glorot_uniform from the reference's initializer
    bias = (0.1 * rng.standard_normal(UNITS)).astype(DTYPE)  # non-zero, so the add matters
    ref.set_weights([kernel, bias])
    tfl = keras.layers.Dense(UNITS, activation="relu")
    tfl.build((None, IN_DIM))
    tfl.set_weights([kernel, bias])

    # Upstream gradient: random, but zero where the pre-activation lies within 1e-3 of relu's
    # kink (~0.1% of entries), so that float32 rounding differences between NumPy's and TF's
    # GEMMs cannot flip the relu mask and make the gradient check flaky.
    z64 = x.astype(np.float64) @ kernel.astype(np.float64) + bias
    dy = rng.standard_normal((batch, UNITS)).astype(DTYPE)
    dy[np.abs(z64) < 1e-3] = 0.0

    ref_weights = ref.trainable_weights
    tf_weights = tfl.trainable_weights
    x_tf, dy_tf = tf.constant(x), tf.constant(dy)

    def ref_fwd():
        return ref(x)

    def ref_fwd_bwd():
        with reference.GradientTape() as tape:
            xt = tape.watch(x)
            y = ref(xt)
        return tape.gradient(y, [xt, *ref_weights], output_gradients=dy)

    def eager_fwd():
        return tfl(x_tf)

    def eager_fwd_bwd():
        with tf.GradientTape() as tape:
            tape.watch(x_tf)
            y = tfl(x_tf)
        return tape.gradient(y, [x_tf, *tf_weights], output_gradients=dy_tf)

    @tf.function
    def fn_fwd(xs):
        return tfl(xs)

    @tf.function
    def fn_fwd_bwd(xs, dys):
        with tf.GradientTape() as tape:
            tape.watch(xs)
            y = tfl(xs)
        return tape.gradient(y, [xs, *tf_weights], output_gradients=dys)

    return {
        "x": x,
        "dy": dy,
        "fns": {
            "ref fwd": ref_fwd,
            "eager fwd": eager_fwd,
            "tf.fn fwd": lambda: fn_fwd(x_tf),
            "ref fwd+bwd": ref_fwd_bwd,
            "eager fwd+bwd": eager_fwd_bwd,
            "tf.fn fwd+bwd": lambda: fn_fwd_bwd(x_tf, dy_tf),
        },
    }


def _close(name: str, got, want) -> float:
    """Assert float32 agreement; returns the max abs difference relative to the scale of `want`."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape} != {want.shape}")
    scale = max(1.0, float(np.abs(want).max()))
    if not np.allclose(got, want, rtol=1e-4, atol=1e-5 * scale):
        raise AssertionError(
            f"{name}: max |diff| {np.abs(got - want).max():.3g} (scale {scale:.3g})"
        )
    return float(np.abs(got - want).max() / scale)


def check_case(case: dict, batch: int) -> float:
    """The reference's output and gradients against every TF variant; raises on disagreement."""
    fns = case["fns"]
    want_y = np.asarray(fns["ref fwd"]())
    want_g = [np.asarray(g) for g in fns["ref fwd+bwd"]()]
    worst = 0.0
    for variant in ("eager", "tf.fn"):
        worst = max(worst, _close(f"b{batch} {variant} y", fns[f"{variant} fwd"]().numpy(), want_y))
        grads = fns[f"{variant} fwd+bwd"]()
        for label, g, w in zip(("dx", "dkernel", "dbias"), grads, want_g, strict=True):
            worst = max(worst, _close(f"b{batch} {variant} {label}", g.numpy(), w))
    return worst


# -- timing ------------------------------------------------------------------------------------
def _per_call(fn: Callable, seconds: float) -> float:
    """Warm up `fn` for about `seconds` (at least 5 calls); the mean time of one call."""
    calls, start = 0, time.perf_counter()
    while calls < 5 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls


def time_case(fns: dict, budget_s: float, sample_s: float, min_rounds: int, max_rounds: int):
    """Round-robin medians (seconds per call) of every variant; see the module docstring."""
    est = {name: _per_call(fn, 0.25) for name, fn in fns.items()}  # warm-up and estimate
    number = {name: max(1, math.ceil(sample_s / t)) for name, t in est.items()}
    round_s = sum((number[n] + 1) * est[n] for n in fns)
    rounds = int(min(max_rounds, max(min_rounds, budget_s / round_s)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    perf = time.perf_counter
    for _ in range(rounds):
        for name, fn in fns.items():
            fn()  # untimed lead-in: the other library's worker threads settle first
            n = number[name]
            t0 = perf()
            for _ in range(n):
                fn()
            samples[name].append((perf() - t0) / n)
    return {
        name: {
            "median_s": statistics.median(s),
            "min_s": min(s),
            "q1_s": statistics.quantiles(s, n=4)[0],
            "q3_s": statistics.quantiles(s, n=4)[2],
            "number": number[name],
            "repeats": rounds,
        }
        for name, s in samples.items()
    }


def ratios(times: dict, stat: str = "median_s") -> dict:
    med = {name: t[stat] for name, t in times.items()}
    return {
        f"ref/{tf_side} {kind}": med[f"ref {kind}"] / med[f"{tf_side} {kind}"]
        for kind in ("fwd", "fwd+bwd")
        for tf_side in ("eager", "tf.fn")
    }


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:10.1f}"


def print_tables(results: dict) -> None:
    print("\nMedian time per call, microseconds (IQR in brackets: q1-q3)")
    print(f"{'batch':>6} | " + " | ".join(f"{v:>22}" for v in VARIANTS))
    for batch, r in results.items():
        cells = []
        for v in VARIANTS:
            t = r["times"][v]
            iqr = f"[{t['q1_s'] * 1e6:.0f}-{t['q3_s'] * 1e6:.0f}]"
            cells.append(f"{_us(t['median_s']).strip():>9} {iqr:>12}")
        print(f"{batch:>6} | " + " | ".join(f"{c:>22}" for c in cells))
    names = list(next(iter(results.values()))["ratios"])
    print("\nRatios reference / TF (below 1: the reference is faster)")
    print(f"{'batch':>6} | " + " | ".join(f"{n:>19}" for n in names))
    for batch, r in results.items():
        print(f"{batch:>6} | " + " | ".join(f"{r['ratios'][n]:>19.3f}" for n in names))
    print("\nSame ratios from the minima (best sample; less sensitive to other load, secondary)")
    for batch, r in results.items():
        print(f"{batch:>6} | " + " | ".join(f"{r['ratios_min'][n]:>19.3f}" for n in names))
    print("\nrepeats (rounds) x calls per sample:")
    for batch, r in results.items():
        counts = ", ".join(
            f"{v} {r['times'][v]['repeats']}x{r['times'][v]['number']}" for v in VARIANTS
        )
        print(f"  batch {batch}: {counts}")


def targets(results: dict) -> dict:
    out = {}
    if 1 in results:
        rat = results[1]["ratios"]
        out["batch 1 ref fwd >= 2x faster than TF eager"] = rat["ref/eager fwd"] <= 0.5
        out["batch 1 ref fwd+bwd >= 2x faster than TF eager"] = rat["ref/eager fwd+bwd"] <= 0.5
    if 1024 in results:
        rat = results[1024]["ratios"]
        out["batch 1024 ref fwd+bwd within 1.5x of tf.function"] = rat["ref/tf.fn fwd+bwd"] <= 1.5
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH as JSON")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 1024])
    parser.add_argument(
        "--seconds-per-batch",
        type=float,
        default=20.0,
        help="timing budget per batch size, after warm-up (default 20)",
    )
    parser.add_argument(
        "--sample-ms",
        type=float,
        default=2.0,
        help="minimum duration of one sample; sets the calls per sample (default 2)",
    )
    parser.add_argument("--min-rounds", type=int, default=15)
    parser.add_argument("--max-rounds", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import keras
    import tensorflow as tf

    blas, tfi = blas_info(), tf_info(tf, keras)
    print_environment(blas, tfi)
    print(
        "TF side: stock keras.layers.Dense(512, activation='relu') (the realistic baseline), "
        "float32; inputs pre-converted to tf.constant; reference side: reference.layers.Dense "
        "on ndarrays."
    )

    results = {}
    for batch in args.batches:
        case = make_case(batch, tf, keras, args.seed + batch)
        worst = check_case(case, batch)
        print(f"batch {batch}: outputs and gradients agree (max |diff| / scale = {worst:.2e})")
        times = time_case(
            case["fns"],
            args.seconds_per_batch,
            args.sample_ms / 1e3,
            args.min_rounds,
            args.max_rounds,
        )
        results[batch] = {
            "times": times,
            "ratios": ratios(times),
            "ratios_min": ratios(times, "min_s"),
            "check_max_rel_diff": worst,
        }

    print_tables(results)
    verdicts = targets(results)
    print("\nTargets:")
    for name, ok in verdicts.items():
        print(f"  {'MET   ' if ok else 'MISSED'} {name}")
    total = time.perf_counter() - start
    print(f"\ntotal {total:.1f}s")

    if args.json:
        payload = {
            "benchmark": "Dense(512, relu) float32, 512 -> 512",
            "env": {"blas": blas, "tf": tfi, "blas_env": _BLAS_ENV, "thread_env": _THREAD_ENV},
            "results": {str(b): r for b, r in results.items()},
            "targets": verdicts,
            "total_s": total,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
