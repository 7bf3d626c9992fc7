"""Benchmark: loading a 10M-parameter MLP saved as a Keras 3 `.keras` archive.

Not a test. Three ways to get the same weights into memory, each timed in its own block
(bench/common.py), from files in the page cache (written once, untimed, by the reference's
`model.save`, whose archive is the one Keras writes):

    h5py         the floor: h5py opens the model.weights.h5 file (extracted from the archive)
                 and reads every dataset into a new array
    load_weights a built reference model's load_weights(model.weights.h5): the structural
                 walk, checks of every shape and dtype, then the assignment
    load_model   reference.saving.load_model(model.keras): the archive opened, config.json
                 parsed, the model rebuilt from it, the weights read from the archive member

Before timing, every implementation's weights are checked equal to the saved ones.
Target (issue 12): load_model at most 1.2x h5py (median of per-round ratios).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_saving.py [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import reference  # noqa: E402
from bench import common  # noqa: E402

UNITS = (784, 2048, 2048, 2048, 10)  # 10,020,874 parameters
IMPLS = ("h5py", "load_weights", "load_model")
TARGET = 1.2


def mlp(units: tuple) -> reference.Model:
    layers = [reference.layers.Dense(n, activation="relu") for n in units[1:-1]]
    return reference.Sequential(
        [reference.Input((units[0],)), *layers, reference.layers.Dense(units[-1])]
    )


def make_case(folder: Path, units: tuple) -> dict:
    import h5py

    model = mlp(units)
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype(w.dtype) for w in model.weights])
    archive, weights = folder / "mlp.keras", folder / "model.weights.h5"
    model.save(archive)
    with zipfile.ZipFile(archive) as z:
        weights.write_bytes(z.read("model.weights.h5"))
    target = mlp(units)
    saved = model.get_weights()

    def read_h5py():
        out = []
        with h5py.File(weights, "r") as f:
            f.visititems(lambda name, obj: out.append(obj[()]) if hasattr(obj, "shape") else None)
        return out

    def load_weights():
        target.load_weights(weights)
        return target.get_weights()

    fns = {
        "h5py": read_h5py,
        "load_weights": lambda: target.load_weights(weights),
        "load_model": lambda: reference.saving.load_model(archive),
    }
    checks = {
        "h5py": lambda: sorted(read_h5py(), key=lambda a: (a.shape, a.ravel()[0])),
        "load_weights": load_weights,
        "load_model": lambda: reference.saving.load_model(archive).get_weights(),
    }
    return {"fns": fns, "checks": checks, "saved": saved, "params": model.count_params()}


def check(case: dict) -> None:
    """Every implementation reads the saved values exactly."""
    want = case["saved"]
    for name, fn in case["checks"].items():
        got = fn()
        if name == "h5py":
            want_sorted = sorted(want, key=lambda a: (a.shape, a.ravel()[0]))
            pairs = zip(got, want_sorted, strict=True)
        else:
            pairs = zip(got, want, strict=True)
        for a, b in pairs:
            if not np.array_equal(a, b):
                raise AssertionError(f"bench_saving: {name} did not read the saved values")


def run(rounds: int, block_s: float, warmup_s: float, units=UNITS, threads=None) -> dict:
    common.limit_threads(threads)
    env = common.environment()
    common.print_environment(env)
    with tempfile.TemporaryDirectory() as folder:
        case = make_case(Path(folder), tuple(units))
        check(case)
        per_round = common.run_rounds(case["fns"], rounds, block_s, warmup_s)
    floor = per_round["h5py"]
    return {
        "env": env,
        "units": list(units),
        "crc": reference.saving.archive._crc.__name__,
        "params": case["params"],
        "rounds": rounds,
        "block_s": block_s,
        "times_s": {name: common.spread(t) for name, t in per_round.items()},
        "ratios": {
            f"{name}/h5py": common.ratio_stats(per_round[name], floor)
            for name in ("load_weights", "load_model")
        },
        "per_round_s": per_round,
    }


def report(payload: dict) -> None:
    print(
        f"\nloading a {payload['params']:,}-parameter MLP {payload['units']} (float32): median "
        f"of {payload['rounds']} rounds of {payload['block_s']} s blocks [min-max over rounds]"
    )
    for name in IMPLS:
        t = payload["times_s"][name]
        print(
            f"  {name:>12}: {common.fmt_time(t['median'])} "
            f"[{common.fmt_time(t['min'])}-{common.fmt_time(t['max'])}]"
        )
    print(f"  the archive's CRC-32 is checked with {payload['crc']} (isal when installed)")
    print("ratios, median of per-round ratios [min-max]")
    for name, r in payload["ratios"].items():
        print(f"  {name:>18}: {common.fmt_ratio(r)}")
    ok = payload["ratios"]["load_model/h5py"]["median"] <= TARGET
    print(f"target (issue 12): {'MET' if ok else 'MISSED'} load_model <= {TARGET} x h5py")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=list(UNITS))
    common.add_arguments(parser, rounds=5, block_s=1.0, warmup_s=0.2)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    payload = run(args.rounds, args.block_s, args.warmup_s, tuple(args.units), args.threads)
    report(payload)
    payload["target_met"] = payload["ratios"]["load_model/h5py"]["median"] <= TARGET
    return common.finish(payload, args, start)


if __name__ == "__main__":
    sys.exit(main())
