"""Lets bare `pytest` on a NumPy-only install run the NumPy tests: the folders that need
TensorFlow are skipped, as a whole, when it is not installed."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("tensorflow") is None:
    collect_ignore += ["parity_tests", "tf_layers", "docs"]
