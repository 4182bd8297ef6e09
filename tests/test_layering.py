"""The architecture stays visible: the math in ops/, the speed in kernels/, and each layer
imports only the layers below it (docs/how-it-works.md, "Layers")."""
import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_cnn"
SPEED_WORDS = re.compile(r"parallel|threading|as_strided|\.strides")
LAYOUT_WORDS = re.compile(SPEED_WORDS.pattern + r"|\.flags\.")  # an op asks memory_format, not the flags
OP_FILES = sorted((PACKAGE / "ops").glob("*.py"))
SPEED_LAYER = [PACKAGE / "kernels", PACKAGE / "windows.py"]
STRIDE_CONTRACT = PACKAGE / "memory_format.py"  # PyTorch's rules for result strides: semantics, not speed


@pytest.mark.parametrize("path", OP_FILES, ids=lambda p: p.name)
def test_op_files_know_nothing_of_threads_or_memory_layouts(path):
    hits = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
            if LAYOUT_WORDS.search(line)]
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


# --------------------------------------------------------------------------- import layers

LAYERS = {  # lowest first: a module imports from its own layer and the layers below
    "base": {"errors", "dtypes", "device", "debug", "versions", "memory_format", "hooks", "allocator", "backends",
             "accelerator", "cuda"},
    "kernels": {"kernels", "windows"},
    "engine": {"tensor", "autograd", "views", "gradcheck", "promotion", "random", "tensor_types", "serialization"},
    "ops": {"ops", "creation"},
    "api": {"functional", "inplace", "linalg", "autograd_functional"},
    "library": {"__init__", "nn", "optim", "data", "utils", "onnx", "models", "jit", "testing", "train"},
}
LEVEL = {top: level for level, tops in enumerate(LAYERS.values()) for top in tops}
# Tensor's methods forward to the operations (x.relu() is ops' relu): the one seam upward
EXCEPTIONS = {("tensor", "ops"), ("tensor", "inplace")}
# what the operations may take from the engine: its public node API, no helpers of their own
ENGINE_API_FOR_OPS = {"Primitive", "Function", "grad", "no_grad", "enable_grad", "set_grad_enabled",
                      "is_grad_enabled"}
# who may read the export's tracing switch: the engine that records, and the exporters that set it
TRACING_READERS = {"debug.py", "autograd.py", "jit.py", "onnx", "utils/tensorboard/graph.py"}


def _top(module: str) -> str:
    """``tinygrad_cnn.ops.conv`` -> ``ops``; the package itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every import of the package in ``path``,
    function-level imports included (a lazy import is a dependency all the same)."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(relative.parts[:-1]) if path.name != "__init__.py" else list(relative.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("tinygrad_cnn"):
                continue
            names = [a.name for a in node.names]
            if module == "tinygrad_cnn" or (PACKAGE.parent / module.replace(".", "/")).is_dir():
                for name in names:  # ``from . import ops`` imports the module ``ops``
                    found.append((node.lineno, f"{module}.{name}", []))
            else:
                found.append((node.lineno, module, names))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.startswith("tinygrad_cnn")]
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_has_a_layer():
    unplaced = {_top(_module_name(p)) for p in PACKAGE.rglob("*.py")} - set(LEVEL)
    assert not unplaced, f"place these in LAYERS (and in docs/how-it-works.md): {sorted(unplaced)}"


def test_each_layer_imports_only_the_layers_below():
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _top(_module_name(path))
        for line, module, _ in _imports(path):
            imported = _top(module)
            if imported in LEVEL and LEVEL[imported] > LEVEL[importer] and (importer, imported) not in EXCEPTIONS:
                hits.append(f"{path.relative_to(PACKAGE)}:{line}: {importer} ({_layer(importer)}) imports "
                            f"{module} ({_layer(imported)})")
    assert not hits, "imports from a higher layer:\n" + "\n".join(hits)


def _layer(top: str) -> str:
    return next(name for name, tops in LAYERS.items() if top in tops)


def test_the_operations_take_only_the_node_api_from_the_engine():
    hits = []
    for path in sorted((PACKAGE / "ops").glob("*.py")):
        for line, module, names in _imports(path):
            if module == "tinygrad_cnn.autograd":
                hits += [f"ops/{path.name}:{line}: {name}" for name in names if name not in ENGINE_API_FOR_OPS]
    assert not hits, "helpers for operations belong in ops/:\n" + "\n".join(hits)


def test_only_the_engine_and_the_exporters_read_the_tracing_switch():
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if any(where == r or where.startswith(r + "/") for r in TRACING_READERS):
            continue
        hits += [f"{where}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\btracing\b", line) and "flags" in line]
    assert not hits, "ask the engine (autograd.records) instead of reading debug.flags.tracing:\n" + "\n".join(hits)
