"""`python -m parity_tests [--json PATH]`: run the whole parity suite and print one row per case.

Exit status 0 when every case passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .cases import suite
from .harness import ParityError, run_case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parity_tests", description=__doc__)
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    args = parser.parse_args(argv)
    rows, start = [], time.perf_counter()
    header = (
        f"{'case':<72} {'dtype':<8} {'oracle':<6} {'out err':>9} {'grad err':>9} {'tol':>8}  result"
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
            row.update(
                output_error=report.worst("output"),
                gradient_error=report.worst("d "),
                state_error=report.worst("weight"),
                tolerance=report.rows[0].tolerance,
                status="PASS",
            )
        except ParityError as e:
            row.update(
                output_error=None,
                gradient_error=None,
                state_error=None,
                tolerance=None,
                status="FAIL",
                detail=str(e),
            )
        rows.append(row)
        print(
            f"{case.id[:72]:<72} {dtype:<8} {oracle:<6} {_fmt(row['output_error'])} "
            f"{_fmt(row['gradient_error'])} {_fmt(row['tolerance'], 8)}  {row['status']}"
        )
        if row["status"] == "FAIL":
            print("    " + row["detail"].replace("\n", "\n    "))
    failed = sum(r["status"] == "FAIL" for r in rows)
    print("-" * len(header))
    print("errors are max|ref - tf| / max|tf| per tensor (worst over outputs; over gradients)")
    print(f"{len(rows) - failed} passed, {failed} failed in {time.perf_counter() - start:.1f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "passed": len(rows) - failed, "failed": failed}, f, indent=1)
    return 1 if failed else 0


def _fmt(value, width: int = 9) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.1e}"


if __name__ == "__main__":
    sys.exit(main())
