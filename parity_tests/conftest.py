"""Global defaults are process-wide in Keras and in reference.config: a test that changes one
(floatx, or the dtype policy Keras fixes at its first layer) and leaves it changed makes later
tests in the same worker fail far from the cause. This fixture fails the test that leaks."""

import pytest


def _defaults():
    import keras

    import reference

    return (
        keras.config.floatx(),
        getattr(keras.config.dtype_policy(), "name", keras.config.dtype_policy()),
        reference.config.floatx(),
        str(reference.config.dtype_policy()),
        reference.config.epsilon(),
        reference.config.image_data_format(),
    )


@pytest.fixture(autouse=True)
def _global_defaults_restored():
    before = _defaults()
    yield
    after = _defaults()
    assert after == before, (
        "this test changed a global default and did not restore it (Keras floatx, Keras dtype "
        f"policy, reference floatx, reference dtype policy, epsilon, data format): {before} -> "
        f"{after}; use parity_tests.harness.floatx"
    )
