"""`python -m parity_tests`: one row per case, a total, JSON rows, exit status 1 on a failure."""

import json

from parity_tests import __main__ as main_module
from parity_tests.cases import suite
from parity_tests.harness import ParityError


def test_main_job_prints_every_row_and_writes_json(tmp_path, capsys):
    path = tmp_path / "report.json"
    assert main_module.main(["--json", str(path)]) == 0
    out = capsys.readouterr().out
    report = json.loads(path.read_text())
    assert report["failed"] == 0 and report["passed"] == len(suite()) == len(report["rows"])
    assert f"{len(suite())} passed, 0 failed" in out
    row = report["rows"][0]
    assert {
        "case",
        "dtype",
        "oracle",
        "output_error",
        "gradient_error",
        "tolerance",
        "status",
    } <= set(row)
    assert all(
        r["status"] == "PASS" and r["output_error"] <= r["tolerance"] for r in report["rows"]
    )


def test_main_job_exits_non_zero_and_shows_the_table_on_a_failure(monkeypatch, capsys):
    entries = suite()[:2]

    def run_case(case, dtype, oracle):
        raise ParityError("Dense 'x' vs Dense 'y' disagree:\nd kernel ... FAIL")

    monkeypatch.setattr(main_module, "suite", lambda: entries)
    monkeypatch.setattr(main_module, "run_case", run_case)
    assert main_module.main([]) == 1
    out = capsys.readouterr().out
    assert "0 passed, 2 failed" in out and "d kernel ... FAIL" in out
