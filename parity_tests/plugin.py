"""A pytest plugin: the `assert_layer_parity` fixture, for any project, with no conftest code.

Registered as the `pytest11` entry point `parity` (pyproject.toml), so installing this package
is enough:

    def test_my_layer(assert_layer_parity):
        assert_layer_parity(MyNumpyLayer(4), MyTFLayer(4), x)

The fixture is parity_tests.assert_parity (same arguments: training=, seed=,
finite_differences=, float64_layers=, call_kwargs=); it returns the ParityReport, and a
disagreement fails the test with the harness's table as the whole message (no traceback into
the harness). TensorFlow is imported by the first test that uses the fixture, not at start-up.
Disable the plugin with `-p no:parity`.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def assert_layer_parity():
    """assert_layer_parity(numpy_layer, tf_layer, x, **options) -> ParityReport."""

    def check(numpy_layer, tf_layer, x, **options):
        __tracebackhide__ = True
        from .harness import assert_parity
        from .verdict import ParityError

        try:
            return assert_parity(numpy_layer, tf_layer, x, **options)
        except ParityError as e:
            pytest.fail(str(e), pytrace=False)

    return check
