"""The pytest plugin, as another project sees it: a test directory with no conftest, where
`assert_layer_parity` comes from the installed entry point alone."""

from __future__ import annotations

import textwrap

pytest_plugins = ["pytester"]

USER_TESTS = textwrap.dedent("""
    import numpy as np
    import tensorflow as tf

    import reference


    class Scale(reference.Layer):
        def build(self, input_shape):
            self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="alpha")

        def call(self, x):
            return np.tanh(x) * self.alpha


    class TfScale(tf.keras.layers.Layer):
        def build(self, input_shape):
            self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="alpha")

        def call(self, x):
            return tf.tanh(x) * self.alpha


    class WrongTfScale(TfScale):
        def call(self, x):
            return tf.sin(x) * self.alpha


    x = np.random.default_rng(0).standard_normal((4, 3))


    def test_agrees(assert_layer_parity):
        report = assert_layer_parity(Scale(dtype="float64"), TfScale(dtype="float64"), x)
        assert report.ok and report.worst("d ") < 1e-12


    def test_disagrees(assert_layer_parity):
        assert_layer_parity(Scale(dtype="float64"), WrongTfScale(dtype="float64"), x)
""")


def test_the_fixture_comes_from_the_entry_point_and_fails_with_the_table(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    assert not list(pytester.path.glob("conftest.py"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Scale 'scale*' vs WrongTfScale 'wrong_tf_scale*' disagree:*",
            "tensor*|ours-tf|*status",
            "output *FAIL*",
        ]
    )
    assert "harness.py" not in result.stdout.str()  # the table, not a traceback into the harness
