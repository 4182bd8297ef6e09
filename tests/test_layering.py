"""The architecture stays visible: the math in ops/, the speed in kernels/."""
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_cnn"
SPEED_WORDS = re.compile(r"parallel|threading|as_strided|\.strides")
OP_FILES = sorted((PACKAGE / "ops").glob("*.py"))
SPEED_LAYER = [PACKAGE / "kernels", PACKAGE / "windows.py"]
STRIDE_CONTRACT = PACKAGE / "memory_format.py"  # PyTorch's rules for result strides: semantics, not speed


@pytest.mark.parametrize("path", OP_FILES, ids=lambda p: p.name)
def test_op_files_know_nothing_of_threads_or_memory_layouts(path):
    hits = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
            if SPEED_WORDS.search(line)]
    assert not hits, "only tinygrad_cnn/kernels and windows.py may use threads or strides:\n" + "\n".join(hits)


def test_only_the_kernels_and_windows_use_strides_and_workers():
    """Outside the speed layer only autograd may say ``threading`` (grad mode is per thread)."""
    hits = []
    for path in PACKAGE.rglob("*.py"):
        if path == STRIDE_CONTRACT or any(path == layer or layer in path.parents for layer in SPEED_LAYER):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            words = {w for w in SPEED_WORDS.findall(line)} - ({"threading"} if path.name == "autograd.py" else set())
            if words:
                hits.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_there_are_op_files_to_check():
    assert {"conv.py", "pool.py", "norm.py", "elementwise.py"} <= {p.name for p in OP_FILES}
