"""Parity between the NumPy reference and TensorFlow: the harness, the case table, the suite.

For the tightest TensorFlow numbers oneDNN's fused kernels are switched off before TensorFlow is
first imported (docs/keras-facts.md#fact-8-1); set TF_ENABLE_ONEDNN_OPTS yourself to override.
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .harness import assert_parity  # noqa: E402
from .verdict import (  # noqa: E402
    DEFAULT_TOLERANCES,
    ParityError,
    ParityReport,
    compare_tensors,
)

__all__ = ["DEFAULT_TOLERANCES", "ParityError", "ParityReport", "assert_parity", "compare_tensors"]
