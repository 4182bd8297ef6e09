"""Pictures of an exported ONNX file in the style of the live graph and netron's: operations
(blue) with their weights and attributes inside, inputs and outputs with their shapes, edges
labelled with the inferred shapes, nodes boxed by the module path their names carry."""
from __future__ import annotations

import os
import re
import zlib
from pathlib import Path
from typing import Any

import graphviz

from .graph import INPUT_STYLE, OP_STYLE, OUTPUT_STYLE


def _dims(value: Any) -> str:
    dims = [d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim]
    return "×".join(dims) if dims else "scalar"


def _attribute_text(node: Any) -> str:
    from onnx import helper

    parts = []
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, list) and len(value) <= 8 and len(set(value)) == 1:
            value = value[0]
        if isinstance(value, (int, float, list, bytes)):
            parts.append(f"{attribute.name}={value.decode() if isinstance(value, bytes) else value}")
    return "\n".join([node.op_type] + parts)


def _node_id(kind: str, name: str) -> str:
    """A Graphviz id for a value or operation: no ':' (Graphviz reads ``a:b`` as node ``a``, port ``b``)."""
    return f"{kind}_{re.sub(r'[^0-9A-Za-z_]', '_', name)}_{zlib.crc32(name.encode()):08x}"


def _operation_label(node: Any, initializers: dict[str, Any]) -> str:
    """netron's way: the operator, then its weights by name and shape, then its attributes."""
    lines = _attribute_text(node).split("\n")
    weights = [f"{name} ⟨{'×'.join(map(str, initializers[name].dims)) or 'scalar'}⟩"
               for name in node.input if name in initializers]
    return "\n".join(lines[:1] + weights + lines[1:])


def _module_of(node: Any) -> str:
    """The dotted module path an exported node's name starts with ("layer1.0.conv1/Conv_4")."""
    return node.name.rsplit("/", 1)[0] if "/" in node.name else ""


def _prefixes(module: str) -> list[str]:
    """"layer1.0.conv1" -> ["layer1", "layer1.0", "layer1.0.conv1"]; "" -> []."""
    parts = module.split(".") if module else []
    return [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def load_inferred(path: str | os.PathLike) -> Any:
    """The ONNX model at ``path`` with the shapes of its intermediate values inferred."""
    try:
        import onnx
    except ImportError:
        raise ImportError("drawing an .onnx file needs the onnx package: pip install 'tinygrad_cnn[onnx]'") from None
    if not Path(path).is_file():
        raise FileNotFoundError(f"draw_graph: no ONNX file at {path}")
    return onnx.shape_inference.infer_shapes(onnx.load(str(path)))


def draw_onnx(path: str | os.PathLike, cluster_modules: bool = True, rankdir: str = "TB",
              title: str | None = None) -> graphviz.Digraph:
    """The graph stored in an ``.onnx`` file as a ``graphviz.Digraph``, in netron's manner: one
    node per operator with its initializers (weights) listed inside it by name and shape, the
    graph's inputs and outputs, and edges labelled with the inferred shapes. Operators are
    boxed by the container modules their names carry (a ResNet's stages and blocks), nested as
    the modules are, so the boxes follow the data's vertical flow."""
    path = Path(path)
    graph = load_inferred(path).graph
    shapes = {v.name: _dims(v) for v in list(graph.value_info) + list(graph.input) + list(graph.output)}
    initializers = {t.name: t for t in graph.initializer}
    picture = graphviz.Digraph("onnx", graph_attr=dict(rankdir=rankdir, fontname="Helvetica", fontsize="11",
                                                         label=title or path.name, labelloc="t"),
                               node_attr=dict(fontname="Helvetica", fontsize="10"),
                               edge_attr=dict(fontname="Helvetica", fontsize="8", color="#555555"))
    producer: dict[str, str] = {}
    for value in graph.input:
        if value.name in initializers:  # (older exporters list initializers among the inputs)
            continue
        picture.node(_node_id("in", value.name), f"{value.name}\n{shapes[value.name]}", **INPUT_STYLE)
        producer[value.name] = _node_id("in", value.name)
    for node in graph.node:
        for output in node.output:
            producer[output] = _node_id("op", node.name)
    paths = [_module_of(node) if cluster_modules else "" for node in graph.node]
    counts: dict[str, int] = {}  # operators per module, its submodules' included
    for module in paths:
        for prefix in _prefixes(module):
            counts[prefix] = counts.get(prefix, 0) + 1
    # boxes for container modules of two operators or more; a leaf module (a ReLU used twice in
    # a block) is no box, or its operators would be pulled together across the data's flow
    containers = {prefix for module in paths for prefix in _prefixes(module)[:-1]}
    shown = {prefix for prefix in containers if counts[prefix] > 1}
    boxes: dict[str, list[Any]] = {}  # each operator in the innermost box around it
    for node, module in zip(graph.node, paths):
        around = [prefix for prefix in _prefixes(module) if prefix in shown]
        boxes.setdefault(around[-1] if around else "", []).append(node)
    children: dict[str, list[str]] = {}
    for box in shown:  # each box inside the nearest enclosing box that is shown
        parent = next((p for p in reversed(_prefixes(box)[:-1]) if p in shown), "")
        children.setdefault(parent, []).append(box)

    def emit(target: graphviz.Digraph, box: str) -> None:
        for node in boxes.get(box, []):
            target.node(_node_id("op", node.name), _operation_label(node, initializers), **OP_STYLE)
        for child in sorted(children.get(box, [])):
            with target.subgraph(name=f"cluster_{_node_id('m', child)}") as sub:
                sub.attr(label=child, style="rounded,dashed", color="#8aa6c8", fontsize="10", labeljust="l")
                emit(sub, child)

    emit(picture, "")
    for node in graph.node:
        for name in node.input:
            if name and name not in initializers and name in producer:
                picture.edge(producer[name], _node_id("op", node.name),
                             label=f" {shapes[name]}" if name in shapes else None)
    for value in graph.output:
        picture.node(_node_id("out", value.name), f"{value.name}\n{shapes[value.name]}", **OUTPUT_STYLE)
        picture.edge(producer[value.name], _node_id("out", value.name))
    return picture
