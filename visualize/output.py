"""Writing graph pictures to SVG, PNG, PDF or DOT files."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import graphviz

from tinygrad_cnn.serialization import write_atomically

FORMATS = ("svg", "png", "pdf", "dot")


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program, which turns DOT source into pictures, is not installed."""


def save(graph: graphviz.Digraph, path: str | os.PathLike, format: str | None = None) -> Path:  # noqa: A002
    """Render ``graph`` to ``path``; the format comes from the suffix unless given.

    DOT needs nothing else; the pictures need Graphviz's ``dot`` program. Without it the DOT
    source is still written (next to ``path``, with a .dot suffix) and the error says how to
    install Graphviz.
    """
    path = Path(path)
    format = (format or path.suffix.lstrip(".")).lower()
    if format not in FORMATS:
        raise ValueError(f"save: unknown format {format!r} for {path}; use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot":
        source = graph.source.encode()
        write_atomically(path, lambda file: file.write(source))
        return path
    if shutil.which("dot") is None:
        source = path.with_suffix(".dot")
        source.write_text(graph.source)
        raise GraphvizNotFoundError(
            f"Graphviz's `dot` program was not found on PATH, so {path.name} could not be drawn; "
            f"the DOT source was written to {source}. Install Graphviz (Debian/Ubuntu: "
            "`apt-get install graphviz`, macOS: `brew install graphviz`, others: graphviz.org) "
            f"or render the source elsewhere with `dot -T{format} {source.name} -o {path.name}`.")
    picture = graph.pipe(format=format)
    write_atomically(path, lambda file: file.write(picture))
    return path

