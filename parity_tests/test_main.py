"""`python -m parity_tests`: one row per case, a total, ratios per family, JSON, exit status."""

import json

from parity_tests import __main__ as main_module
from parity_tests.cases import CASES, Case
from parity_tests.harness import ParityError

# A few real rows (the whole suite runs in test_parity.py): float64 and float32, three oracles.
ENTRIES = [
    (Case("Dense", dict(units=3, activation="tanh"), (4, 5)), dtype, oracle)
    for dtype in ("float64", "float32")
    for oracle in ("twin", "keras", "twin-keras")
]


def test_main_job_prints_every_row_ratios_and_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(main_module, "suite", lambda: ENTRIES)
    path = tmp_path / "report.json"
    assert main_module.main(["--json", str(path)]) == 0
    out = capsys.readouterr().out
    report = json.loads(path.read_text())
    assert report["failed"] == 0 and report["passed"] == len(ENTRIES) == len(report["rows"])
    assert f"{len(ENTRIES)} passed, 0 failed" in out
    assert "largest ours/TF per layer family: Dense float32" in out
    assert set(report["ratios"]) == {"Dense float32"} and 0 < report["ratios"]["Dense float32"]
    for row in report["rows"]:
        assert {"case", "dtype", "oracle", "output_error", "gradient_error", "ratio", "rule",
                "status"} <= set(row)  # fmt: skip
        assert row["status"] == "PASS" and row["gradient_error"] < 1e-5
        assert (row["ratio"] is None) == (row["dtype"] == "float64")


def test_main_job_exits_non_zero_and_shows_the_table_on_a_failure(monkeypatch, capsys):
    entries = [(CASES[0], "float64", "twin"), (CASES[1], "float64", "twin")]

    def run_case(case, dtype, oracle):
        raise ParityError("Dense 'x' vs Dense 'y' disagree:\nd kernel ... FAIL")

    monkeypatch.setattr(main_module, "suite", lambda: entries)
    monkeypatch.setattr(main_module, "run_case", run_case)
    assert main_module.main([]) == 1
    out = capsys.readouterr().out
    assert "0 passed, 2 failed" in out and "d kernel ... FAIL" in out


def test_a_case_that_crashes_is_a_failed_row_with_its_error(monkeypatch, capsys):
    def run_case(case, dtype, oracle):
        raise TypeError("__init__() missing 1 required positional argument")

    monkeypatch.setattr(main_module, "suite", lambda: ENTRIES[:1])
    monkeypatch.setattr(main_module, "run_case", run_case)
    assert main_module.main([]) == 1
    assert "TypeError: __init__() missing" in capsys.readouterr().out
