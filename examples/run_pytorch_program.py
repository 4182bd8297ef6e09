"""Run a PyTorch program with tinygrad_cnn in its place: only its import lines are rewritten.

    python examples/run_pytorch_program.py path/to/main.py [arguments of the program ...]
    python examples/run_pytorch_program.py --show path/to/main.py     # print the rewritten imports

``import torch`` becomes ``import tinygrad_cnn as torch``, ``torch.X`` modules become
``tinygrad_cnn.X`` (``torch.utils.data`` and ``torch.utils.tensorboard`` included), and
torchvision's ``datasets``, ``transforms`` and ``utils`` become ``tinygrad_cnn.data``'s. The rest of
the file runs as it is, from its own directory, as ``__main__``. This is how the programs listed in
the README's "Running a PyTorch program" were run.
"""
from __future__ import annotations

import argparse
import os
import re
import runpy
import sys
import tempfile
from pathlib import Path

MODULES = [  # (PyTorch's module, ours), most specific first
    ("torchvision.datasets", "tinygrad_cnn.data.datasets"),
    ("torchvision.transforms", "tinygrad_cnn.data.transforms"),
    ("torchvision.utils", "tinygrad_cnn.data.utils"),
    ("torchvision", "tinygrad_cnn.data"),
    ("torch", "tinygrad_cnn"),
]


def rewritten(source: str) -> str:
    """``source`` with its import lines naming tinygrad_cnn where they named torch/torchvision."""
    def module(name: str) -> str:
        for theirs, ours in MODULES:
            if name == theirs or name.startswith(theirs + "."):
                return ours + name[len(theirs):]
        return name

    def line(match: re.Match) -> str:
        indent, statement = match.group(1), match.group(2)
        if statement.startswith("from "):
            name, rest = statement[5:].split(" import ", 1)
            return f"{indent}from {module(name.strip())} import {rest}"
        parts = []
        for item in statement[7:].split(","):
            name, _, alias = item.strip().partition(" as ")
            if module(name) == name:
                parts.append(item.strip())
            elif alias:
                parts.append(f"{module(name)} as {alias}")
            elif "." not in name:  # "import torch": the package under its old name
                parts.append(f"{module(name)} as {name}")
            else:  # "import torch.utils.data": binds "torch", which must be our package
                parts.append(f"{module(name)}, tinygrad_cnn as {name.split('.')[0]}")
        return f"{indent}import {', '.join(parts)}"

    return re.sub(r"^([ \t]*)((?:from\s+torch\S*\s+import\s.+)|(?:from\s+torchvision\S*\s+import\s.+)|"
                  r"(?:import\s+[\w., ]*\b(?:torch|torchvision)\b[\w. ,]*))$", line, source, flags=re.MULTILINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print the rewritten import lines and exit")
    parser.add_argument("program", type=Path)
    parser.add_argument("arguments", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    source = rewritten(args.program.read_text())
    if args.show:
        print("\n".join(line for line in source.splitlines() if "tinygrad_cnn" in line))
        return
    directory = args.program.resolve().parent
    with tempfile.NamedTemporaryFile("w", suffix=".py", dir=directory, delete=False) as file:
        file.write(source)
    try:
        os.chdir(directory)
        sys.path.insert(0, str(directory))
        sys.argv = [str(args.program), *args.arguments]
        runpy.run_path(file.name, run_name="__main__")
    finally:
        os.unlink(file.name)


if __name__ == "__main__":
    main()
