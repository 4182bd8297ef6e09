"""Computation-graph pictures that stay readable for real CNNs.

Operation nodes (blue boxes) show the primitive and its settings; edges carry the shape of
the tensor flowing along them (or, with ``tensor_nodes``, each tensor is a node with its
shape and dtype), in data-flow order; leaves are ellipses: parameters (orange,
named as in ``named_parameters``), inputs that require grad (grey) and other inputs (dashed);
the output is green.
Nodes are clustered by the module that produced them, or collapsed to one node per module.
After ``backward``, leaves show the norm of their gradient and are coloured by it on a log
scale (dark blue: smallest, yellow: largest), so vanishing or exploding gradients stand out.

The graph is walked with the engine's own ``topological_order`` and read only through the
node API that ``tinygrad_cnn.autograd.Primitive`` documents.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import graphviz
import numpy as np

from tinygrad_cnn.autograd import Primitive, topological_order
from tinygrad_cnn.nn import Module
from tinygrad_cnn.ops.shape import IndexArray
from tinygrad_cnn.tensor import Tensor

OP_STYLE = dict(shape="box", style="rounded,filled", fillcolor="#dbe8f7", color="#4a78b0")
PARAM_STYLE = dict(shape="ellipse", style="filled", fillcolor="#fbd9a5", color="#c07a14")
INPUT_STYLE = dict(shape="ellipse", style="filled", fillcolor="#e6e6e6", color="#7a7a7a")
CONSTANT_STYLE = dict(shape="ellipse", style="dashed", color="#9a9a9a", fontcolor="#555555")
OUTPUT_STYLE = dict(shape="ellipse", style="filled", fillcolor="#c9ecc4", color="#3f8f3a")
TENSOR_STYLE = dict(shape="ellipse", style="filled", fillcolor="#ffffff", color="#9a9a9a", fontsize="9")
SAVED_STYLE = dict(shape="note", style="filled", fillcolor="#f4f4f4", color="#9a9a9a", fontsize="9")
HIGHLIGHT_STYLE = dict(shape="box", style="rounded,filled,bold", fillcolor="#f8c4c4", color="#c0282d", penwidth="3")
MODULE_STYLE = dict(shape="box3d", style="filled", fillcolor="#dbe8f7", color="#4a78b0")
HIGHLIGHTED_MODULE = dict(fillcolor=HIGHLIGHT_STYLE["fillcolor"], color=HIGHLIGHT_STYLE["color"], penwidth="3")
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


def _index_text(index: tuple) -> str:
    """An indexing tuple as Python writes it: (slice(None), 0) -> '[:, 0]'."""
    def part(p: Any) -> str:
        if isinstance(p, slice):
            text = f"{'' if p.start is None else p.start}:{'' if p.stop is None else p.stop}"
            return text + (f":{p.step}" if p.step is not None else "")
        if p is Ellipsis:
            return "..."
        if isinstance(p, IndexArray):
            return f"<{'×'.join(map(str, p.shape))} indices>"
        return str(p)
    return "[" + ", ".join(part(p) for p in index) + "]"


def operation_label(node: Primitive) -> str:
    """The primitive's name and its settings, e.g. 'MaxPool2d\\nkernel_size=2 stride=2'."""
    parts = [f"{k}={_short(v)}" for k, v in node.settings.items() if _is_simple(v)]
    if isinstance(node.settings.get("index"), tuple):
        parts.append(f"index={_index_text(node.settings['index'])}")
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
    return None if t.grad is None else float(np.linalg.norm(t.grad._data.astype(np.float64)))


def _colour(norm: float, low: float, high: float) -> tuple[str, str]:
    """Fill and text colour for a gradient norm on the log scale [low, high]."""
    steps = len(GRADIENT_COLOURS)
    position = 0.5 if high - low < 1e-12 else (math.log10(max(norm, 1e-30)) - low) / (high - low)
    index = min(max(int(position * steps), 0), steps - 1)
    return GRADIENT_COLOURS[index], "white" if index < steps // 2 else "black"


def gradient_norm_range(tensors: Iterable[Tensor]) -> tuple[float, float] | None:
    """log10 of the smallest and largest positive gradient norm among ``tensors`` (None: none)."""
    norms = [n for n in map(_gradient_norm, tensors) if n is not None and n > 0]
    return (math.log10(min(norms)), math.log10(max(norms))) if norms else None


def leaf_node(t: Tensor, name: str | None, norm_range: tuple[float, float] | None,
              show_gradients: bool = True) -> tuple[str, dict[str, str]]:
    """Label and style of a leaf: a parameter (``name`` given), an input that requires grad or a
    constant, with its shape, dtype and, after backward, its gradient norm and colour."""
    if name is not None:
        label, style = name, dict(PARAM_STYLE)
    else:
        label, style = "input", dict(INPUT_STYLE if t.requires_grad else CONSTANT_STYLE)
    label += f"\n{_shape(t.shape)} {t.dtype.name}"
    norm = _gradient_norm(t) if show_gradients else None
    if norm is not None:
        label += f"\n‖grad‖ = {norm:.3g}"
        if norm_range is not None:
            fill, text = _colour(norm, *norm_range)
            style.update(fillcolor=fill, style="filled", fontcolor=text)
    return label, style


def parameter_count(module: Module) -> int:
    return sum(p._data.size for p in module.parameters())


def module_gradient_norm(module: Module) -> float | None:
    """The norm of all of a module's parameter gradients together (None before backward)."""
    norms = [n for n in map(_gradient_norm, module.parameters()) if n is not None]
    return math.sqrt(sum(n * n for n in norms)) if norms else None


def module_node(name: str, module: Module, norm_range: tuple[float, float] | None,
                show_gradients: bool = True) -> tuple[str, dict[str, str]]:
    """Label and style of a module drawn as one node: its title, parameter count and gradient norm."""
    count = parameter_count(module)
    label = _module_title(name, module) + (f"\n{count:,} parameters" if count else "")
    style = dict(MODULE_STYLE)
    norm = module_gradient_norm(module)
    if show_gradients and norm is not None:
        label += f"\n‖grad‖ = {norm:.3g}"
        if norm_range is not None:
            fill, text = _colour(norm, *norm_range)
            style.update(fillcolor=fill, fontcolor=text)
    return label, style


def _module_names(nodes: Iterable[Primitive]) -> dict[int, tuple[str, Module]]:
    """id(module) -> (dotted name, module) for every module that produced part of the graph."""
    names: dict[int, tuple[str, Module]] = {}
    for node in nodes:
        if node.scope and id(node.scope[0]) not in names:
            for name, module in node.scope[0].named_modules():
                names.setdefault(id(module), (name, module))
    return names


def tensor_inputs(node: Primitive, buffers: set[int]) -> Iterator[tuple[Tensor, tuple[Primitive, int] | None]]:
    """The tensors flowing into ``node``, each with the edge it came along (None for a leaf).
    Module buffers (batch norm's running statistics) are left out: state the node updates,
    not data it transforms, as in PyTorch's graph."""
    for a, edge in zip(node.inputs, node.next_functions):
        if isinstance(a, Tensor) and (edge is not None or id(a) not in buffers):
            yield a, edge


def module_buffers(roots: Iterable[Module]) -> set[int]:
    """The ids of every buffer of ``roots`` and their submodules."""
    return {id(b) for root in roots for _, b in root.named_buffers()}


def _module_title(name: str, module: Module) -> str:
    extra = module.extra_repr()
    if len(extra) > 40:
        extra = extra[:37] + "..."
    title = f"{type(module).__name__}({extra})"
    return f"{name}: {title}" if name else title


@dataclass(frozen=True)
class GraphOptions:
    """What ``draw_graph`` shows.

    ``cluster_modules`` boxes the nodes of each module; ``depth`` draws each module nested
    ``depth`` levels down (1: the model's children) as one node, with its parameter count and
    gradient norm, instead of its operations (torchview's depth; None draws every operation);
    ``collapse_modules=True`` is ``depth=1``; ``show_gradients`` annotates and colours leaves by
    their gradient norm once backward has run; ``show_saved`` lists what each operation saved
    for backward; ``tensor_nodes`` draws every tensor between two operations as a node with its
    shape and dtype (DeZero style) instead of an edge label; ``rankdir`` is "TB" (top to
    bottom), "LR", "BT" or "RL"; ``title`` labels the picture; ``highlight`` is a node or a
    list of nodes to mark in red (``AnomalyError.node``, or any ``tensor.grad_fn``), and a
    collapsed module that holds one is marked too.
    """

    cluster_modules: bool = True
    collapse_modules: bool = False
    depth: int | None = None
    show_gradients: bool = True
    show_saved: bool = False
    tensor_nodes: bool = False
    rankdir: str = "TB"
    title: str | None = None
    highlight: Primitive | Sequence[Primitive] | None = None

    def __post_init__(self) -> None:
        if self.depth is not None and (not isinstance(self.depth, int) or isinstance(self.depth, bool)
                                       or self.depth < 0):
            raise ValueError(f"draw_graph: depth must be None or an int >= 0, got {self.depth!r}")
        if self.collapse_modules:
            if self.depth not in (None, 1):
                raise ValueError(f"draw_graph: collapse_modules=True is depth=1; got depth={self.depth} as well")
            object.__setattr__(self, "depth", 1)  # (a frozen dataclass)
        if self.rankdir not in ("TB", "LR", "BT", "RL"):
            raise ValueError(f"draw_graph: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {self.rankdir!r}")
        for node in self.highlighted():
            if not isinstance(node, Primitive):
                raise TypeError(f"draw_graph: highlight takes graph nodes (such as tensor.grad_fn or "
                                f"AnomalyError.node), got {type(node).__name__}")

    def highlighted(self) -> list[Primitive]:
        if self.highlight is None:
            return []
        return [self.highlight] if isinstance(self.highlight, Primitive) else list(self.highlight)


class Kind(Enum):
    """What a drawn node stands for."""

    OPERATION = "op"      # a primitive
    MODULE = "module"     # a whole collapsed module
    LEAF = "leaf"         # a parameter or an input
    TENSOR = "tensor"     # an intermediate tensor (tensor_nodes)
    OUTPUT = "output"     # the tensor being drawn
    SAVED = "saved"       # the note listing a primitive's saved arrays


@dataclass(frozen=True)
class Unit:
    """A node of the picture: its kind and the object it stands for (by id)."""

    kind: Kind
    key: int
    index: int = 0

    @property
    def name(self) -> str:
        return f"{self.kind.value}{self.key}_{self.index}"


def draw_graph(output: Tensor | Sequence[Tensor] | str | os.PathLike, params: Mapping[str, Tensor] | None = None,
               **options: Any) -> graphviz.Digraph:
    """The graph that produced ``output`` (a Tensor, or several in a tuple or list) as a
    ``graphviz.Digraph`` (render it with ``save``); given the path of an exported ``.onnx``
    file, that file's graph in the same style.

    ``params`` maps names to parameters (``dict(model.named_parameters())``); without it the
    names come from the modules that built the graph. ``options`` are the fields of
    ``GraphOptions``: ``cluster_modules``, ``collapse_modules``, ``depth``, ``show_gradients``,
    ``show_saved``, ``tensor_nodes``, ``rankdir``, ``title``.
    """
    unknown = sorted(set(options) - set(GraphOptions.__dataclass_fields__))
    if unknown:
        raise TypeError(f"draw_graph: unknown option(s) {', '.join(unknown)}; "
                        f"expected some of {', '.join(GraphOptions.__dataclass_fields__)}")
    settings = GraphOptions(**options)
    if isinstance(output, (str, os.PathLike)):  # an exported file, drawn in the same style
        from .onnx_graph import draw_onnx

        return draw_onnx(output, settings.cluster_modules, settings.rankdir, settings.title)
    outputs = [output] if isinstance(output, Tensor) else list(output) if isinstance(output, (tuple, list)) else []
    if not outputs or not all(isinstance(o, Tensor) for o in outputs):
        raise TypeError(f"draw_graph: expected the Tensor a computation produced, several in a tuple or list (or "
                        f"an .onnx file's path), got {type(output).__name__}")
    nodes = topological_order([o.grad_fn for o in outputs if o.grad_fn is not None])
    nodes.reverse()  # inputs first: data-flow order
    roots = {id(n.scope[0]): n.scope[0] for n in nodes if n.scope}
    names = {id(p): n for n, p in params.items()} if params is not None else {
        id(p): n for root in roots.values() for n, p in root.named_parameters()}
    graph = graphviz.Digraph(
        "computation",
        graph_attr=dict(rankdir=settings.rankdir, fontname="Helvetica", fontsize="11",
                        label=settings.title or "", labelloc="t"),
        node_attr=dict(fontname="Helvetica", fontsize="10"),
        edge_attr=dict(fontname="Helvetica", fontsize="8", color="#555555"))
    _Drawer(graph, nodes, _module_names(nodes), names, module_buffers(roots.values()), settings).draw(outputs)
    return graph


class _Drawer:
    """Places nodes into (nested) module clusters and draws edges between them."""

    def __init__(self, graph: graphviz.Digraph, nodes: list[Primitive], modules: dict[int, tuple[str, Module]],
                 names: dict[int, str], buffers: set[int], options: GraphOptions) -> None:
        self.graph, self.nodes, self.modules, self.names, self.options = graph, nodes, modules, names, options
        self.buffers = buffers
        self.highlighted = {id(n) for n in options.highlighted()}
        self.members: dict[tuple[int, ...], list[tuple[Unit, str, dict[str, str]]]] = {}
        self.edges: dict[tuple[Unit, Unit], str] = {}
        self.leaves = self._leaves()
        self.norm_range = gradient_norm_range(self.leaves.values()) if options.show_gradients else None

    def _leaves(self) -> dict[int, Tensor]:
        leaves: dict[int, Tensor] = {}
        for node in self.nodes:
            for a, edge in tensor_inputs(node, self.buffers):
                if edge is None:
                    leaves.setdefault(id(a), a)
        return leaves

    def _place(self, scope: tuple, unit: Unit, label: str, style: dict[str, str]) -> None:
        key = tuple(id(m) for m in scope if id(m) in self.modules) if self.options.cluster_modules else ()
        self.members.setdefault(key, []).append((unit, label, style))

    def _unit(self, node: Primitive) -> Unit:
        """What an operation is drawn as: itself, or the module ``depth`` levels down that ran it."""
        depth = self.options.depth
        if depth is not None and len(node.scope) > depth:
            return Unit(Kind.MODULE, id(node.scope[depth]))
        return Unit(Kind.OPERATION, id(node))

    def _leaf(self, t: Tensor, consumer: Primitive) -> Unit:
        """A parameter sits in the cluster of the module that uses it, other leaves outside."""
        unit = Unit(Kind.LEAF, id(t))
        is_parameter = id(t) in self.names
        label, style = leaf_node(t, self.names.get(id(t)), self.norm_range, self.options.show_gradients)
        self._place(consumer.scope if is_parameter else (), unit, label, style)
        return unit

    def _edge(self, source: Unit, target: Unit, label: str) -> None:
        if source != target:
            self.edges.setdefault((source, target), label)

    def draw(self, outputs: list[Tensor]) -> None:
        drawn_leaves: dict[int, Unit] = {}
        collapsed: dict[Unit, tuple] = {}  # a module drawn as one node -> its scope, itself last
        for node in self.nodes:
            unit = self._unit(node)
            marked = id(node) in self.highlighted
            if unit.kind is Kind.MODULE:
                collapsed[unit] = node.scope[:self.options.depth + 1]
                if marked:
                    self.highlighted.add(id(node.scope[self.options.depth]))
            else:
                self._place(node.scope, unit, operation_label(node), HIGHLIGHT_STYLE if marked else OP_STYLE)
                if self.options.show_saved:
                    self._saved_note(node, unit)
            for a, edge in tensor_inputs(node, self.buffers):
                if edge is not None:  # produced by another node (as it was when this node ran)
                    if self.options.tensor_nodes and self.options.depth is None:
                        self._edge(self._intermediate(*edge), unit, "")
                    else:
                        self._edge(self._unit(edge[0]), unit, _shape(a.shape))
                elif not (unit.kind is Kind.MODULE and id(a) in self.names):  # a collapsed module's own
                    if id(a) not in drawn_leaves:                             # parameters are in its label
                        drawn_leaves[id(a)] = self._leaf(a, node)
                    self._edge(drawn_leaves[id(a)], unit, _shape(a.shape))
        for unit, scope in collapsed.items():  # inside the clusters of the modules around it
            self._place(scope[:-1], unit, *self._module_node(scope[-1]))
        for output in outputs:
            out = Unit(Kind.OUTPUT, id(output))
            value = f"\nvalue = {output.item():.4g}" if output._data.size == 1 else ""
            title = self.names.get(id(output), "output")
            self.graph.node(out.name, f"{title}\n{_shape(output.shape)} {output.dtype.name}{value}", **OUTPUT_STYLE)
            if output.grad_fn is not None:
                self.edges[(self._unit(output.grad_fn), out)] = _shape(output.shape)
        self._emit_clusters()
        for (source, target), label in self.edges.items():
            self.graph.edge(source.name, target.name, label=f" {label}" if label else None)
        if self.norm_range is not None:
            low, high = self.norm_range
            legend = f"gradient norm colours\nlog scale {10 ** low:.2g} (dark) … {10 ** high:.2g} (yellow)"
            self.graph.node("legend", legend, shape="plaintext", fontsize="9")

    def _intermediate(self, node: Primitive, output_nr: int) -> Unit:
        """A node for output ``output_nr`` of ``node`` (``tensor_nodes``), drawn once."""
        unit = Unit(Kind.TENSOR, id(node), output_nr)
        producer = self._unit(node)
        if (producer, unit) not in self.edges:
            spec = node.output_specs[output_nr]
            self._place(node.scope, unit, f"{_shape(spec.shape)} {spec.dtype.name}", TENSOR_STYLE)
            self.edges[(producer, unit)] = ""
        return unit

    def _module_node(self, module: Module) -> tuple[str, dict[str, str]]:
        """Label and style of a collapsed module: its parameter count and gradient norm."""
        name, _ = self.modules.get(id(module), ("", module))
        label, style = module_node(name, module, self.norm_range, self.options.show_gradients)
        if id(module) in self.highlighted:
            style.update(HIGHLIGHTED_MODULE)
        return label, style

    def _saved_note(self, node: Primitive, unit: Unit) -> None:
        saved = node.saved_tensors
        if saved is None:
            text = "saved: freed by backward"
        else:
            arrays = [s for s in saved if isinstance(s, np.ndarray)]
            if not arrays:
                return
            text = "saved:\n" + "\n".join(f"{_shape(s.shape)} {s.dtype.name}" for s in arrays)
        note = Unit(Kind.SAVED, id(node))
        self._place(node.scope, note, text, SAVED_STYLE)
        self.graph.edge(note.name, unit.name, style="dashed", arrowhead="none", color="#9a9a9a")

    def _emit_clusters(self) -> None:
        """Nested subgraphs: a module's cluster holds its own nodes and its submodules' clusters."""
        children: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
        for key in self.members:
            for depth in range(1, len(key) + 1):
                children.setdefault(key[:depth - 1], set()).add(key[:depth])

        def emit(target: graphviz.Digraph, key: tuple[int, ...]) -> None:
            for unit, label, style in self.members.get(key, []):
                target.node(unit.name, label, **style)
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


def make_dot(var: Tensor | Sequence[Tensor], params: Mapping[str, Tensor] | None = None, show_attrs: bool = False,
             show_saved: bool = False, max_attr_chars: int = 50) -> graphviz.Digraph:
    """torchviz's ``make_dot``, so programs written for it draw with ``import visualize as torchviz``:
    ``draw_graph(var, params, show_saved=show_saved)``. Settings are always shown on the
    operation nodes (``show_attrs`` and ``max_attr_chars`` change nothing)."""
    del show_attrs, max_attr_chars
    return draw_graph(var, params, show_saved=show_saved)
