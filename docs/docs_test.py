"""Every ```python block of README.md, docs/*.md and docs/fr/*.md runs, in order, one namespace
per file."""

import os
import pathlib
import re

import pytest

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FILES += sorted((ROOT / "docs" / "fr").glob("*.md"))  # the seed's French walkthrough
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_code_blocks_run(path):
    blocks = BLOCK.findall(path.read_text())
    assert blocks, f"{path.name} has no python code block"
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{path.name}[block {i}]", "exec"), namespace)
        except Exception as e:
            raise AssertionError(f"{path.name}, python block {i} failed:\n{code}") from e
