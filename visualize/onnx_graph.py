"""Pictures of an exported ONNX file in the same style as the live graph: operations (blue) with
their attributes, initializers (orange) by name, inputs and outputs with their shapes, edges
labelled with the inferred shapes, nodes boxed by the module path their names carry."""
from __future__ import annotations

import os
import re
import zlib
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import graphviz

from .graph import INPUT_STYLE, OP_STYLE, OUTPUT_STYLE, PARAM_STYLE


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


def draw_onnx(path: str | os.PathLike, cluster_modules: bool = True, rankdir: str = "TB",
              title: str | None = None) -> graphviz.Digraph:
    """The graph stored in an ``.onnx`` file as a ``graphviz.Digraph``."""
    try:
        import onnx
    except ImportError:
        raise ImportError("drawing an .onnx file needs the onnx package: pip install 'tinygrad_cnn[onnx]'") from None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"draw_graph: no ONNX file at {path}")
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    shapes = {v.name: _dims(v) for v in list(graph.value_info) + list(graph.input) + list(graph.output)}
    initializers = {t.name: t for t in graph.initializer}
    picture = graphviz.Digraph("onnx", graph_attr=dict(rankdir=rankdir, fontname="Helvetica", fontsize="11",
                                                         label=title or path.name, labelloc="t"),
                               node_attr=dict(fontname="Helvetica", fontsize="10"),
                               edge_attr=dict(fontname="Helvetica", fontsize="8", color="#555555"))
    producer: dict[str, str] = {}
    drawn_initializers: set[str] = set()
    for value in graph.input:
        picture.node(_node_id("in", value.name), f"{value.name}\n{shapes[value.name]}", **INPUT_STYLE)
        producer[value.name] = _node_id("in", value.name)
    clusters: dict[str, list[Any]] = {}
    for node in graph.node:
        module = node.name.rsplit("/", 1)[0] if "/" in node.name and cluster_modules else ""
        clusters.setdefault(module, []).append(node)
        for output in node.output:
            producer[output] = _node_id("op", node.name)
    for module, nodes in clusters.items():
        boxed = bool(module) and module not in ("model", "graph")
        with picture.subgraph(name=f"cluster_{module}") if boxed else nullcontext(picture) as box:
            if boxed:
                box.attr(label=module, style="rounded,dashed", color="#8aa6c8", fontsize="10", labeljust="l")
            for node in nodes:
                box.node(_node_id("op", node.name), _attribute_text(node), **OP_STYLE)
                for name in node.input:
                    if name in initializers and name not in drawn_initializers:
                        drawn_initializers.add(name)
                        tensor = initializers[name]
                        box.node(_node_id("init", name), f"{name}\n{'×'.join(map(str, tensor.dims)) or 'scalar'}",
                                 **PARAM_STYLE)
    for node in graph.node:
        for name in node.input:
            if not name:
                continue
            source = _node_id("init", name) if name in initializers else producer.get(name)
            if source:
                picture.edge(source, _node_id("op", node.name), label=f" {shapes[name]}" if name in shapes else None)
    for value in graph.output:
        picture.node(_node_id("out", value.name), f"{value.name}\n{shapes[value.name]}", **OUTPUT_STYLE)
        picture.edge(producer[value.name], _node_id("out", value.name))
    return picture

