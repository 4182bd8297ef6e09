"""Computation-graph pictures that stay readable for real CNNs.

Operation nodes (blue boxes) show the primitive and its settings; edges carry the shape of
the tensor flowing along them (or, with ``tensor_nodes``, each tensor is a node with its
shape and dtype), in data-flow order; leaves are ellipses: parameters (orange,
named as in ``named_parameters``), inputs that require grad (grey) and other inputs (dashed);
the output is green.
Nodes are clustered by the module that produced them, or collapsed to one node per module.
After ``backward``, leaves show the norm of their gradient and are coloured by it on a log
scale (dark blue: smallest, yellow: largest), so vanishing or exploding gradients stand out.

The graph is walked with the engine's own ``topological_order``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import graphviz
import numpy as np

from tinygrad_cnn.autograd import Function, topological_order
from tinygrad_cnn.nn import Module
from tinygrad_cnn.tensor import Tensor

OP_STYLE = dict(shape="box", style="rounded,filled", fillcolor="#dbe8f7", color="#4a78b0")
PARAM_STYLE = dict(shape="ellipse", style="filled", fillcolor="#fbd9a5", color="#c07a14")
INPUT_STYLE = dict(shape="ellipse", style="filled", fillcolor="#e6e6e6", color="#7a7a7a")
CONSTANT_STYLE = dict(shape="ellipse", style="dashed", color="#9a9a9a", fontcolor="#555555")
OUTPUT_STYLE = dict(shape="ellipse", style="filled", fillcolor="#c9ecc4", color="#3f8f3a")
TENSOR_STYLE = dict(shape="ellipse", style="filled", fillcolor="#ffffff", color="#9a9a9a", fontsize="9")
SAVED_STYLE = dict(shape="note", style="filled", fillcolor="#f4f4f4", color="#9a9a9a", fontsize="9")
MODULE_STYLE = dict(shape="box3d", style="filled", fillcolor="#dbe8f7", color="#4a78b0")
# viridis, sampled: low gradient norm -> high
GRADIENT_COLOURS = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c",
                    "#28ae80", "#5ec962", "#addc30", "#fde725")


def _short(value: Any) -> str:
    """A setting as a person writes it: (1, 1) -> 1, floats briefly."""
    if isinstance(value, tuple) and value and all(v == value[0] for v in value):
        value = value[0]
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, np.dtype):
        return str(value)
    return str(value)


def _is_simple(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str, np.dtype)):
        return True
    return isinstance(value, tuple) and len(value) <= 4 and all(isinstance(v, (int, float)) for v in value)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape) if shape else "scalar"


def operation_label(node: Function) -> str:
    """The primitive's name and its settings, e.g. 'MaxPool2d\\nkernel_size=2 stride=2'."""
    parts = [f"{k}={_short(v)}" for k, v in node.settings.items() if _is_simple(v)]
    parts += [f"other={_short(a)}" for a in node.inputs if isinstance(a, (int, float)) and not isinstance(a, bool)]
    lines, line = [], ""
    for part in parts:  # wrap settings so boxes stay narrow
        if line and len(line) + len(part) > 28:
            lines.append(line)
            line = part
        else:
            line = f"{line} {part}".strip()
    return "\n".join([node.name] + lines + ([line] if line else []))


def _gradient_norm(t: Tensor) -> float | None:
    return None if t.grad is None else float(np.linalg.norm(t.grad.data.astype(np.float64)))


def _colour(norm: float, low: float, high: float) -> tuple[str, str]:
    """Fill and text colour for a gradient norm on the log scale [low, high]."""
    steps = len(GRADIENT_COLOURS)
    position = 0.5 if high - low < 1e-12 else (math.log10(max(norm, 1e-30)) - low) / (high - low)
    index = min(max(int(position * steps), 0), steps - 1)
    return GRADIENT_COLOURS[index], "white" if index < steps // 2 else "black"


def _module_names(nodes: Iterable[Function]) -> dict[int, tuple[str, Module]]:
    """id(module) -> (dotted name, module) for every module that produced part of the graph."""
    names: dict[int, tuple[str, Module]] = {}
    for node in nodes:
        if node.scope and id(node.scope[0]) not in names:
            for name, module in node.scope[0].named_modules():
                names.setdefault(id(module), (name, module))
    return names


def _module_title(name: str, module: Module) -> str:
    extra = module.extra_repr()
    if len(extra) > 40:
        extra = extra[:37] + "..."
    title = f"{type(module).__name__}({extra})"
    return f"{name}: {title}" if name else title


def draw_graph(
    output: Tensor,
    params: Mapping[str, Tensor] | None = None,
    *,
    cluster_modules: bool = True,
    collapse_modules: bool = False,
    show_gradients: bool = True,
    show_saved: bool = False,
    tensor_nodes: bool = False,
    rankdir: str = "TB",
    title: str | None = None,
) -> graphviz.Digraph:
    """The graph that produced ``output`` as a ``graphviz.Digraph`` (render it with ``save``).

    ``params`` maps names to parameters (``dict(model.named_parameters())``); without it the
    names come from the modules that built the graph. ``cluster_modules`` boxes the nodes of
    each module; ``collapse_modules`` draws each top-level module as one node instead;
    ``show_gradients`` annotates and colours leaves by their gradient norm once backward has
    run; ``show_saved`` lists what each operation saved for backward; ``tensor_nodes`` draws
    every tensor between two operations as a node with its shape and dtype (DeZero style)
    instead of an edge label; ``rankdir`` is "TB" (top to bottom) or "LR" (left to right).
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: expected the Tensor a computation produced, got {type(output).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw_graph: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    nodes = topological_order([output.grad_fn]) if output.grad_fn is not None else []
    nodes.reverse()  # inputs first: data-flow order
    modules = _module_names(nodes)
    names = {id(p): n for n, p in params.items()} if params is not None else {
        id(p): n for root in {id(n.scope[0]): n.scope[0] for n in nodes if n.scope}.values()
        for n, p in root.named_parameters()}

    graph = graphviz.Digraph("computation", graph_attr=dict(rankdir=rankdir, fontname="Helvetica", fontsize="11",
                                                            label=title or "", labelloc="t"),
                             node_attr=dict(fontname="Helvetica", fontsize="10"),
                             edge_attr=dict(fontname="Helvetica", fontsize="8", color="#555555"))
    drawer = _Drawer(graph, nodes, modules, names, cluster_modules, collapse_modules, show_gradients, show_saved,
                     tensor_nodes)
    drawer.draw(output)
    return graph


class _Drawer:
    """Places nodes into (nested) module clusters and draws edges between them."""

    def __init__(self, graph: graphviz.Digraph, nodes: list[Function], modules: dict[int, tuple[str, Module]],
                 names: dict[int, str], cluster: bool, collapse: bool, gradients: bool, saved: bool,
                 tensors: bool) -> None:
        self.graph, self.nodes, self.modules, self.names = graph, nodes, modules, names
        self.cluster, self.collapse, self.gradients, self.saved = cluster, collapse, gradients, saved
        self.tensors = tensors
        self.members: dict[tuple[int, ...], list[tuple[str, str, dict[str, str]]]] = {}
        self.leaves = self._leaves()
        norms = [n for n in (_gradient_norm(t) for t in self.leaves.values()) if n is not None and n > 0]
        self.norm_range = (math.log10(min(norms)), math.log10(max(norms))) if gradients and norms else None

    def _leaves(self) -> dict[int, Tensor]:
        leaves: dict[int, Tensor] = {}
        for node in self.nodes:
            for a in node.inputs:
                if isinstance(a, Tensor) and a.grad_fn is None:
                    leaves.setdefault(id(a), a)
        return leaves

    def _place(self, scope: tuple, node_id: str, label: str, style: dict[str, str]) -> None:
        key = tuple(id(m) for m in scope if id(m) in self.modules) if self.cluster else ()
        self.members.setdefault(key, []).append((node_id, label, style))

    def _unit(self, node: Function) -> str:
        """The node id an operation is drawn as: itself, or its top-level module when collapsing."""
        if self.collapse and len(node.scope) > 1:
            return f"module{id(node.scope[1])}"
        return f"op{id(node)}"

    def _leaf_owner(self, leaf: Tensor, consumer: Function) -> tuple:
        """Parameters sit in the cluster of the module that owns them, other leaves outside."""
        return consumer.scope if id(leaf) in self.names else ()

    def _leaf(self, t: Tensor, consumer: Function) -> str:
        node_id = f"t{id(t)}"
        if id(t) in self.names:
            label, style = self.names[id(t)], dict(PARAM_STYLE)
        else:
            label, style = "input", dict(INPUT_STYLE if t.requires_grad else CONSTANT_STYLE)
        label += f"\n{_shape(t.shape)} {t.dtype.name}"
        norm = _gradient_norm(t) if self.gradients else None
        if norm is not None:
            label += f"\n‖grad‖ = {norm:.3g}"
            if self.norm_range is not None:
                fill, text = _colour(norm, *self.norm_range)
                style.update(fillcolor=fill, style="filled", fontcolor=text)
        if not (self.collapse and id(t) in self.names):
            self._place(self._leaf_owner(t, consumer), node_id, label, style)
        return node_id

    def draw(self, output: Tensor) -> None:
        edges: dict[tuple[str, str], str] = {}
        drawn_leaves: set[int] = set()
        collapsed: dict[str, Module] = {}
        for node in self.nodes:
            unit = self._unit(node)
            if unit.startswith("module"):
                collapsed[unit] = node.scope[1]
            else:
                self._place(node.scope, unit, operation_label(node), OP_STYLE)
                if self.saved:
                    self._saved_note(node, unit)
            for a in node.inputs:
                if not isinstance(a, Tensor):
                    continue
                if a.grad_fn is None:
                    if self.collapse and id(a) in self.names and unit.startswith("module"):
                        continue  # a collapsed module's own parameters are summarised in its label
                    if id(a) not in drawn_leaves:
                        drawn_leaves.add(id(a))
                        self._leaf(a, node)
                    source = f"t{id(a)}"
                elif self.tensors and not self.collapse:
                    source = self._intermediate(a, edges)
                else:
                    source = self._unit(a.grad_fn)
                if source != unit:
                    edges.setdefault((source, unit), "" if source.startswith("v") else _shape(a.shape))
        for unit, module in collapsed.items():
            self._place((), unit, *self._module_node(module))
        out_id = f"t{id(output)}"
        value = f"\nvalue = {output.item():.4g}" if output.data.size == 1 else ""
        self.graph.node(out_id, f"output\n{_shape(output.shape)} {output.dtype.name}{value}", **OUTPUT_STYLE)
        if output.grad_fn is not None:
            edges[(self._unit(output.grad_fn), out_id)] = _shape(output.shape)
        self._emit_clusters()
        for (source, target), label in edges.items():
            self.graph.edge(source, target, label=f" {label}" if label else None)
        if self.norm_range is not None:
            low, high = self.norm_range
            self.graph.node("legend", f"gradient norm colours\nlog scale {10 ** low:.2g} (dark) … {10 ** high:.2g} (yellow)",
                            shape="plaintext", fontsize="9")

    def _intermediate(self, t: Tensor, edges: dict[tuple[str, str], str]) -> str:
        """A node for a tensor between two operations (``tensor_nodes``), drawn once."""
        node_id = f"v{id(t.grad_fn)}_{t._output_index}"
        if (self._unit(t.grad_fn), node_id) not in edges:
            shape, dtype = t.grad_fn._output_meta[t._output_index]
            self._place(t.grad_fn.scope, node_id, f"{_shape(shape)} {dtype.name}", TENSOR_STYLE)
            edges[(self._unit(t.grad_fn), node_id)] = ""
        return node_id

    def _module_node(self, module: Module) -> tuple[str, dict[str, str]]:
        """Label and style of a collapsed module: its parameter count and gradient norm."""
        name, _ = self.modules.get(id(module), ("", module))
        params = list(module.parameters())
        count = sum(p.data.size for p in params)
        label = _module_title(name, module) + (f"\n{count:,} parameters" if count else "")
        style = dict(MODULE_STYLE)
        norms = [n for n in (_gradient_norm(p) for p in params) if n is not None]
        if self.gradients and norms:
            norm = math.sqrt(sum(n * n for n in norms))
            label += f"\n‖grad‖ = {norm:.3g}"
            if self.norm_range is not None:
                fill, text = _colour(norm, *self.norm_range)
                style.update(fillcolor=fill, fontcolor=text)
        return label, style

    def _saved_note(self, node: Function, unit: str) -> None:
        saved = node.saved_tensors
        if saved is None:
            text = "saved: freed by backward"
        else:
            arrays = [s for s in saved if isinstance(s, np.ndarray)]
            if not arrays:
                return
            text = "saved:\n" + "\n".join(f"{_shape(s.shape)} {s.dtype.name}" for s in arrays)
        note = f"saved{id(node)}"
        self._place(node.scope, note, text, SAVED_STYLE)
        self.graph.edge(note, unit, style="dashed", arrowhead="none", color="#9a9a9a")

    def _emit_clusters(self) -> None:
        """Nested subgraphs: a module's cluster holds its own nodes and its submodules' clusters."""
        children: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
        for key in self.members:
            for depth in range(1, len(key) + 1):
                children.setdefault(key[:depth - 1], set()).add(key[:depth])

        def emit(target: graphviz.Digraph, key: tuple[int, ...]) -> None:
            for node_id, label, style in self.members.get(key, []):
                target.node(node_id, label, **style)
            for child in sorted(children.get(key, ()), key=self._order):
                name, module = self.modules[child[-1]]
                if len(child) == 1 and not name:  # the root module: no box around everything
                    emit(target, child)
                    continue
                with target.subgraph(name=f"cluster_{'_'.join(map(str, child))}") as sub:
                    sub.attr(label=_module_title(name, module), style="rounded,dashed", color="#8aa6c8",
                             fontsize="10", labeljust="l")
                    emit(sub, child)

        emit(self.graph, ())

    def _order(self, key: tuple[int, ...]) -> list[Any]:
        """Natural order of dotted names: "2" before "10"."""
        return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.modules[key[-1]][0].split(".")]
