"""The parity suite: every row of cases.py, in each dtype, against the twin and stock Keras."""

import pytest

from parity_tests.cases import suite, suite_id
from parity_tests.harness import run_case

SUITE = suite()


@pytest.mark.parametrize("entry", SUITE, ids=[suite_id(e) for e in SUITE])
def test_reference_matches_tensorflow(entry):
    report = run_case(*entry)
    assert report.ok and report.rows  # run_case raises ParityError with a table otherwise
