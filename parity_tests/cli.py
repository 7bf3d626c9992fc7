"""`python -m parity_tests check|record|verify`: the porting toolkit on a saved model.

check MODEL [--inputs X.npz] [--json OUT] [--plot OUT.png] [--training]
    Load MODEL (.keras, or a legacy .h5) in Keras and in the reference, feed given or random
    inputs, print compare_models's table. Exit 0 when every layer agrees, 1 otherwise (a layer
    the reference does not implement, or a file it cannot load, included).
record MODEL BUNDLE [--inputs X.npz] [--training]  (TensorFlow)
    Write Keras's outputs and gradients for the inputs and a random upstream gradient.
verify MODEL BUNDLE [--json OUT] [--plot OUT.png]  (NumPy only: never imports TensorFlow)
    Judge the reference against the bundle; exit 0 or 1. Bad input (a missing, corrupted or
    mismatched file) prints one line naming the problem and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from . import bundle


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parity_tests",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="compare a saved model with the reference, per layer")
    record = sub.add_parser("record", help="record Keras's answers in a bundle (TensorFlow)")
    verify = sub.add_parser("verify", help="check the reference against a bundle (no TensorFlow)")
    for p in (check, record, verify):
        p.add_argument("model", help="a Keras model file (.keras, or a legacy .h5)")
    for p in (record, verify):
        p.add_argument("bundle", help="the bundle (.npz)")
    for p in (check, record):
        p.add_argument("--inputs", metavar="NPZ", help="inputs by input name, or in order")
        p.add_argument("--training", action="store_true", help="call the layers in training mode")
        p.add_argument("--seed", type=int, default=0, help="seed of the random draws (0)")
    for p in (check, verify):
        p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
        p.add_argument("--plot", metavar="PNG", help="heat map of the worst tensor's error")
    args = parser.parse_args(argv)
    if getattr(args, "plot", None):
        from .plot import available

        if not available():
            print(
                "--plot needs matplotlib, which is not installed: "
                "`python -m pip install -e '.[examples]'` (or drop --plot).",
                file=sys.stderr,
            )
            return 2
    try:
        return {"check": _check, "record": _record, "verify": _verify}[args.command](args)
    except (ValueError, FileNotFoundError) as e:
        print(f"python -m parity_tests {args.command}: {e}", file=sys.stderr)
        return 2


def _inputs(path: str | None):
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - any unreadable file: one clear message
        raise ValueError(f"--inputs {path} is not a readable .npz of arrays: {e}") from None


def _check(args) -> int:
    import keras

    import reference

    from .compare import compare_models

    k_model = keras.saving.load_model(args.model, compile=False)
    flat = bundle.model_inputs(k_model.inputs, _inputs(args.inputs), args.seed)
    note = ""
    try:
        ref_model = reference.saving.load_model(args.model, compile=False)
    except ValueError as e:
        ref_model, note = None, f"reference.saving.load_model could not load the file: {e}"
    report = compare_models(ref_model, k_model, flat, training=args.training, seed=args.seed)
    if note:
        report.note = note + "\n" + report.note
    print(report.table())
    if args.json:
        report.save_json(args.json)
    if args.plot:
        _plot(report.worst, args.plot)
    if note:  # the layers may agree, but the reference cannot load this file as a whole
        print("FAIL: the reference cannot load the model file (see above)")
    return 0 if report.ok and not note else 1


def _record(args) -> int:
    arrays = bundle.record(args.model, args.bundle, _inputs(args.inputs), training=args.training,
                           seed=args.seed)  # fmt: skip
    n = sum(k.startswith("input_") for k in arrays)
    print(f"recorded {n} input(s), Keras's outputs and gradients ({arrays['dtype']}) in")
    print(f"  {args.bundle}")
    return 0


def _verify(args) -> int:
    report = bundle.verify(args.model, args.bundle)
    print(report.table())
    print(("PASS" if report.ok else "FAIL") + f": the reference against {args.bundle}")
    if args.json:
        rows = [
            {"tensor": r.tensor, "max_abs": _finite(r.max_abs), "max_rel": _finite(r.max_rel),
             "ratio": r.ratio, "ok": r.ok, "rule": r.rule, "note": r.note}
            for r in report.rows
        ]  # fmt: skip
        with open(args.json, "w") as f:
            json.dump({"ok": report.ok, "dtype": report.dtype, "tensors": rows}, f, indent=1)
    if args.plot:
        _plot(report.worst, args.plot)
    return 0 if report.ok else 1


def _plot(worst, path: str) -> None:
    from .plot import heat_map

    if worst is None:
        print(f"--plot: nothing to draw (no tensor compared); {path} not written", file=sys.stderr)
        return
    heat_map(worst[2], path, title=f"|ours - keras|: {worst[0]}, {worst[1]}")
    print(f"wrote {path}")


def _finite(x):
    return None if x is None or not np.isfinite(x) else float(x)
