"""Parity between the NumPy reference and TensorFlow: the harness, the case table, the suite,
and the porting toolkit (compare_models, `python -m parity_tests check|record|verify`).

For the tightest TensorFlow numbers oneDNN's fused kernels are switched off before TensorFlow is
first imported (docs/keras-facts.md#fact-8-1); set TF_ENABLE_ONEDNN_OPTS yourself to override.
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .verdict import (  # noqa: E402
    DEFAULT_TOLERANCES,
    ParityError,
    ParityReport,
    compare_tensors,
)

__all__ = [
    "DEFAULT_TOLERANCES",
    "ParityError",
    "ParityReport",
    "assert_parity",
    "compare_models",
    "compare_tensors",
]


def __getattr__(name: str):
    # Imported on first use: the harness imports TensorFlow, and `python -m parity_tests
    # verify` (bundle.py) must run where TensorFlow is not installed.
    if name == "assert_parity":
        from .harness import assert_parity

        return assert_parity
    if name == "compare_models":
        from .compare import compare_models

        return compare_models
    raise AttributeError(f"module 'parity_tests' has no attribute {name!r}")
