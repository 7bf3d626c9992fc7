"""`reference` never imports tensorflow or keras, directly or indirectly."""

import subprocess
import sys


def test_importing_every_reference_module_loads_no_tensorflow_or_keras():
    code = (
        "import pkgutil, sys, importlib, reference\n"
        "for m in pkgutil.walk_packages(reference.__path__, 'reference.'):\n"
        "    if not m.name.endswith('_test'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('tensorflow', 'keras', 'tf_keras', 'tf_layers', 'parity_tests'))\n"
        "print(len([n for n in sys.modules if n.startswith('reference')]), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    count = int(result.stdout.split()[0])
    assert count >= 10  # the walk really imported the package's modules
