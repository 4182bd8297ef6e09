"""The explorer: one self-contained HTML page to walk a graph of any size.

Graphviz lays out every view of the scene (one per module, see ``scene``) in a single run of
``dot``; the page embeds those SVG pictures, a JSON description of every node (settings,
shapes, value and gradient statistics, never the arrays) and a small script that opens
modules, fills the details panel, searches and steps through backward. Nothing is fetched
from the network.
"""
from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import graphviz

from tinygrad_cnn.autograd import Primitive
from tinygrad_cnn.serialization import write_atomically
from tinygrad_cnn.tensor import Tensor

from .output import GraphvizNotFoundError
from .recording import Recording, record_step
from .scene import Scene, View, scene_of_graph, scene_of_onnx

_NODE_TAG = re.compile(r'<g id="([^"]+)" class="node ([^"]+)">')
_DROPPED = re.compile(r'<title>[^<]*</title>\n?|<!--.*?-->\n?| font-family="[^"]*"', re.S)  # (the font is in the CSS)


def to_html(target: Tensor | Sequence[Tensor] | str | os.PathLike | Any = None,
            path: str | os.PathLike = "graph.html", *, model: Callable[..., Tensor] | None = None,
            inputs: Any = None, loss_fn: Callable[[Tensor, Any], Tensor] | None = None,
            recording: Recording | None = None, params: dict[str, Tensor] | None = None,
            highlight: Primitive | Sequence[Primitive] | None = None, title: str | None = None,
            rankdir: str = "TB") -> Path:
    """Write the explorer of a graph to ``path`` (one HTML file that works offline) and return the path.

    ``target`` is the output Tensor (or several) before or after backward, or the path of an
    exported ``.onnx`` file. Given ``recording`` (from ``visualize.record()``), each operation's
    details show the statistics of its values and of the gradient that arrived at it.
    Alternatively, ``to_html(path=..., model=model, inputs=x, target=y)`` records the step itself:
    forward, ``loss_fn(output, y)`` (cross-entropy by default) and backward; without ``target``
    only forward runs. ``params`` names parameters (``dict(model.named_parameters())``);
    ``highlight`` marks nodes in red (``AnomalyError.node``), and the modules around them.
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"to_html: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    marked = [] if highlight is None else [highlight] if isinstance(highlight, Primitive) else list(highlight)
    if not all(isinstance(node, Primitive) for node in marked):
        raise TypeError("to_html: highlight takes graph nodes (such as tensor.grad_fn or AnomalyError.node)")
    if model is not None:
        if inputs is None:
            raise TypeError("to_html: model= needs inputs= (the batch to run it on)")
        if recording is not None:
            raise TypeError("to_html: model= records the step itself; pass recording= with a target Tensor instead")
        output, recording = record_step(model, inputs, target, loss_fn)
        scene = scene_of_graph([output], params, recording, marked, title or type(model).__name__)
    elif isinstance(target, (str, os.PathLike)):
        scene = scene_of_onnx(target, title)
    else:
        outputs = [target] if isinstance(target, Tensor) else list(target) if isinstance(target, (tuple, list)) else []
        if not outputs or not all(isinstance(o, Tensor) for o in outputs):
            raise TypeError(f"to_html: expected the Tensor a computation produced (or several, or an .onnx file's "
                            f"path, or model= and inputs=), got {type(target).__name__}")
        if not any(o.grad_fn is not None for o in outputs):
            raise ValueError("to_html: the output has no graph (was it computed under no_grad, or from tensors "
                             "that do not require grad?)")
        scene = scene_of_graph(outputs, params, recording, marked, title or "graph")
    page = render_page(scene, rankdir)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda file: file.write(page.encode()))
    return path


def _dot_source(view: View, index: int, rankdir: str) -> str:
    graph = graphviz.Digraph(f"view{index}", graph_attr=dict(rankdir=rankdir, fontname="Helvetica", fontsize="11"),
                             node_attr=dict(fontname="Helvetica", fontsize="10"),
                             edge_attr=dict(fontname="Helvetica", fontsize="8", color="#555555"))
    for item in view.items.values():
        kind = item.kind + (" highlight" if item.highlighted else "")
        graph.node(item.id, item.label, id=item.id, **{"class": kind}, **item.style)
    for number, edge in enumerate(view.edges.values()):
        graph.edge(edge.source, edge.target, label=f" {edge.label}" if edge.label else None, id=f"e{number}")
    return graph.source


def _layouts(scene: Scene, rankdir: str) -> list[str]:
    """Every view as SVG, from one run of ``dot`` (a file of several graphs gives one picture each)."""
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(
            "to_html: Graphviz's `dot` program, which lays out the graph, was not found on PATH. Install Graphviz "
            "(Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install graphviz`, others: graphviz.org)")
    source = "\n".join(_dot_source(view, i, rankdir) for i, view in enumerate(scene.views.values()))
    result = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"to_html: dot failed: {result.stderr.decode(errors='replace').strip()}")
    pictures = re.findall(r"<svg\b.*?</svg>", result.stdout.decode(), re.S)
    if len(pictures) != len(scene.views):
        raise RuntimeError(f"to_html: dot drew {len(pictures)} pictures for {len(scene.views)} views")
    return pictures


def _tagged(svg: str, view: View) -> str:
    """The SVG with each node's ``data-path`` added and graphviz's titles and comments dropped."""
    def tag(match: re.Match) -> str:
        item = view.items.get(match.group(1))
        path = f' data-path="{html.escape(item.path)}"' if item is not None else ""
        return f'<g id="{match.group(1)}" class="node {match.group(2)}"{path}>'
    return _NODE_TAG.sub(tag, _DROPPED.sub("", svg))


def _page_data(scene: Scene, pictures: list[str]) -> dict[str, Any]:
    views, index, indexed = {}, [], set()
    for view, svg in zip(scene.views.values(), pictures):
        items = {item.id: dict(kind=item.kind, path=item.path, details=item.details, opens=item.opens,
                               goto=item.goto) for item in view.items.values()}
        edges = {}
        for number, edge in enumerate(view.edges.values()):
            producer = scene.operations.get(edge.producer) if edge.producer else None
            gradient = producer.gradients.get(edge.output) if producer is not None else None
            edges[f"e{number}"] = dict(producer=edge.producer, gradient=gradient)
        views[view.path] = dict(title=view.title, parent=view.parent, svg=_tagged(svg, view), items=items,
                                edges=edges)
        for item in view.items.values():
            if item.kind in ("op", "module", "leaf", "output") and item.id not in indexed:
                indexed.add(item.id)  # (an input drawn in several views is found in the outermost)
                index.append(dict(id=item.id, kind=item.kind, view=view.path, path=item.path,
                                  text=item.label.replace("\n", " ")))
    home = {op.id: ("" if not op.chain else op.chain[-1][0]) for op in scene.operations.values()}
    return dict(title=scene.title, kind=scene.kind, recorded=scene.recorded, views=views, search=index,
                order=[dict(id=key, view=home[key], within=scene.enclosing[key]) for key in scene.order])


def _for_json(value: Any) -> Any:
    """``value`` with floats to the 4 digits the page shows, and infinities and NaNs as text
    ("inf", "nan"), for which JSON has no numbers."""
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: _for_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_json(v) for v in value]
    return value


def _asset(name: str) -> str:
    return resources.files("visualize").joinpath(name).read_text(encoding="utf-8")


def render_page(scene: Scene, rankdir: str = "TB") -> str:
    """The explorer's HTML for ``scene``: pictures, data, style and script in one file."""
    data = json.dumps(_for_json(_page_data(scene, _layouts(scene, rankdir))), separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/")  # (inside a <script> element)
    template = _asset("explorer.html")
    return (template.replace("{{title}}", html.escape(scene.title))
            .replace("{{style}}", _asset("explorer.css"))
            .replace("{{data}}", data)
            .replace("{{script}}", _asset("explorer.js")))
