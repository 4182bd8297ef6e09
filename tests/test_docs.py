"""docs/how-it-works.md points at real code: every `path` and `path:Symbol` it names exists."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "docs" / "how-it-works.md"
REFERENCE = re.compile(r"`((?:[\w.-]+/)*[\w.-]+\.py)(?::([\w.]+))?`")
REFERENCES = sorted(set(REFERENCE.findall(TOUR.read_text())))


def defined_names(path: Path) -> set[str]:
    """Dotted names of the functions and classes in a file, methods and nested functions included."""
    names: set[str] = set()

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(prefix + child.name)
                visit(child, prefix + child.name + ".")
                if not isinstance(child, ast.ClassDef):  # a nested function, named alone too
                    visit(child, "")

    visit(ast.parse(path.read_text()), "")
    return names


def test_the_tour_names_code():
    assert len(REFERENCES) >= 30


@pytest.mark.parametrize("path,symbol", REFERENCES, ids=lambda v: v or "file")
def test_reference_exists(path, symbol):
    file = ROOT / path
    assert file.is_file(), f"docs/how-it-works.md names {path}, which does not exist"
    if symbol:
        assert symbol in defined_names(file), f"docs/how-it-works.md names {path}:{symbol}, which is not defined"
