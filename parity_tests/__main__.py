"""`python -m parity_tests [--json PATH]`: run the whole parity suite and print one row per case.

Each row: the worst norm-wise difference max|ours - tf| / max|tf| over outputs and over
gradients, and, below float64, the worst ratio of our error to TF's own error against the
float64 truth (harness.py states the verdict). A summary gives that ratio per layer family
and dtype. Exit status 0 when every case passes, 1 otherwise.

`python -m parity_tests check|record|verify ...` are the porting toolkit's commands (cli.py):
a user's whole model, layer by layer, and verification bundles checked without TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .cases import suite
from .verdict import ParityError

COMMANDS = ("check", "record", "verify")


def run_case(case, dtype: str, oracle: str):
    """harness.run_case, imported on first use: `verify` must run without TensorFlow."""
    from .harness import run_case as run

    return run(case, dtype, oracle)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in COMMANDS:
        from .cli import main as command

        return command(argv)
    parser = argparse.ArgumentParser(prog="python -m parity_tests", description=__doc__)
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    args = parser.parse_args(argv)
    rows, start = [], time.perf_counter()
    header = (
        f"{'case':<66} {'dtype':<8} {'oracle':<10} {'out err':>8} {'grad err':>8} "
        f"{'ours/TF':>7}  result"
    )
    print(header)
    print("-" * len(header))
    for case, dtype, oracle in suite():
        row = {
            "case": case.id,
            "layer": case.layer,
            "config": repr(case.config),
            "dtype": dtype,
            "oracle": oracle,
        }
        try:
            report = run_case(case, dtype, oracle)
        except ParityError as e:
            report = e.report
            row.update(status="FAIL", detail=str(e))
        except Exception as e:  # noqa: BLE001 - a crashing case is a failed row, not a crash
            report = None
            row.update(status="FAIL", detail=f"{type(e).__name__}: {e}")
        else:
            row["status"] = "PASS"
        if report is not None:
            row.update(
                output_error=report.worst("output"),
                gradient_error=report.worst("d "),
                state_error=report.worst("weight"),
                ratio=report.ratio(),
                rule="; ".join(sorted({r.rule for r in report.rows})),
            )
        rows.append(row)
        print(
            f"{case.id[:66]:<66} {dtype:<8} {oracle:<10} {_fmt(row.get('output_error'))} "
            f"{_fmt(row.get('gradient_error'))} {_fmt(row.get('ratio'), 7, '.2f')}  "
            f"{row['status']}"
        )
        if row["status"] == "FAIL":
            print("    " + row["detail"].replace("\n", "\n    "))
    failed = sum(r["status"] == "FAIL" for r in rows)
    ratios = family_ratios(rows)
    print("-" * len(header))
    print("out/grad err: max|ours - tf| / max|tf| per tensor, worst over outputs / gradients")
    print("ours/TF: max|ours - truth| / max|tf - truth| against the float64 truth (below float64)")
    print(
        "largest ours/TF per layer family: "
        + ", ".join(
            f"{layer} {dtype} {value:.2f}" for (layer, dtype), value in sorted(ratios.items())
        )
    )
    print(f"{len(rows) - failed} passed, {failed} failed in {time.perf_counter() - start:.1f}s")
    if args.json:
        summary = {f"{layer} {dtype}": value for (layer, dtype), value in ratios.items()}
        with open(args.json, "w") as f:
            json.dump(
                {"rows": rows, "passed": len(rows) - failed, "failed": failed, "ratios": summary},
                f,
                indent=1,
            )
    return 1 if failed else 0


def family_ratios(rows: list[dict]) -> dict:
    """(layer, dtype) -> the largest ours/TF error ratio over that family's rows."""
    ratios: dict = {}
    for r in rows:
        if r.get("ratio") is not None:
            key = (r["layer"], r["dtype"])
            ratios[key] = max(ratios.get(key, 0.0), r["ratio"])
    return ratios


def _fmt(value, width: int = 8, spec: str = ".1e") -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}{spec}}"


if __name__ == "__main__":
    sys.exit(main())
