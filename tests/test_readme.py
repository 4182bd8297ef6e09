"""The README's Python examples run as written."""
import re
from pathlib import Path

import pytest

import tinygrad_cnn as tc

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(BLOCKS[index], f"README block {index}", "exec"), {})
    finally:
        tc.set_num_threads(1)  # a block may change the process-wide setting
