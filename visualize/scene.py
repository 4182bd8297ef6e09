"""What the explorer shows: a graph cut into one view per module.

A module's view holds the operations its forward ran itself, one node per call of each
submodule (a node that opens the submodule's own view), the leaves its operations read, and
boundary nodes where a tensor comes in from outside the module or leaves it. The cut is the
same for a recorded graph (``scene_of_graph``) and an exported ONNX file (``scene_of_onnx``);
``explorer`` lays each view out with graphviz and writes the page.
"""
from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygrad_cnn.autograd import Primitive, Scope, topological_order
from tinygrad_cnn.nn import Module
from tinygrad_cnn.tensor import Tensor

from .graph import (
    HIGHLIGHT_STYLE,
    HIGHLIGHTED_MODULE,
    INPUT_STYLE,
    MODULE_STYLE,
    OP_STYLE,
    OUTPUT_STYLE,
    _index_text,
    _is_simple,
    _module_title,
    _shape,
    _short,
    gradient_norm_range,
    leaf_node,
    module_buffers,
    module_gradient_norm,
    module_node,
    operation_label,
    parameter_count,
    tensor_inputs,
)
from .recording import Recording, saved_bytes, summary

BOUNDARY_STYLE = dict(shape="cds", style="filled,dashed", fillcolor="#f4f4f4", color="#9a9a9a", fontsize="9")


@dataclass(frozen=True)
class Source:
    """What flows into an operation: output ``output`` of operation ``key``, or leaf ``key``."""

    kind: str  # "op" or "leaf"
    key: str
    output: int
    shape: str


@dataclass
class Operation:
    """An operation as the scene needs it, whatever graph it came from."""

    id: str
    chain: tuple[tuple[str, Hashable], ...]  # (module path, call) of each module around it, outermost first
    label: str
    style: dict[str, str]
    details: dict[str, Any]
    sources: list[Source]
    description: str                            # "Relu in layer1.0.relu", for boundary nodes
    gradients: dict[int, str] = field(default_factory=dict)  # output -> its gradient's norm, once recorded
    highlighted: bool = False


@dataclass
class Leaf:
    """A parameter, an input or a constant that operations read."""

    id: str
    label: str
    style: dict[str, str]
    details: dict[str, Any]
    is_parameter: bool


@dataclass
class Output:
    """A tensor the graph was drawn from (the loss): output ``output`` of operation ``producer``."""

    id: str
    producer: str
    output: int
    label: str
    details: dict[str, Any]


@dataclass
class ModuleInfo:
    """How a module looks as the title of its view and as one node (``summary``, after its name)."""

    title: str
    summary: str
    style: dict[str, str]
    details: dict[str, Any]


@dataclass
class Item:
    """A node of one view; ``opens`` is the view a module node opens, ``goto`` the item a
    boundary node stands for."""

    id: str
    kind: str  # op, module, leaf, output, boundary
    label: str
    style: dict[str, str]
    path: str
    details: dict[str, Any]
    opens: str | None = None
    goto: str | None = None
    highlighted: bool = False


@dataclass
class Edge:
    """A tensor flowing between two items of a view; ``producer`` is the operation whose output it is."""

    source: str
    target: str
    label: str
    producer: str | None = None
    output: int = 0


@dataclass
class View:
    path: str
    title: str
    parent: str | None
    items: dict[str, Item] = field(default_factory=dict)
    edges: dict[tuple[str, str], Edge] = field(default_factory=dict)


@dataclass
class Scene:
    """Every view by module path ("" is the whole graph), and backward's order of operations."""

    title: str
    kind: str  # "graph" or "onnx"
    views: dict[str, View]
    operations: dict[str, Operation]
    order: list[str]
    recorded: bool
    enclosing: dict[str, list[str]] = field(default_factory=dict)  # operation -> the module nodes around it


def build_scene(title: str, kind: str, operations: Sequence[Operation], leaves: Mapping[str, Leaf],
                outputs: Sequence[Output], modules: Mapping[str, ModuleInfo], order: Sequence[str],
                recorded: bool) -> Scene:
    """Cut the graph into views: each operation appears in the view of the innermost module
    around it, and as (part of) one module node in the view of every module further out."""
    ops = {op.id: op for op in operations}
    views = {"": View("", title, None)}
    calls: dict[Hashable, str] = {}           # a module call -> the id of its node
    marked = {call for op in operations if op.highlighted for _, call in op.chain}
    consumers: dict[tuple[str, str], list[str]] = {}  # (view, boundary id) -> who reads it outside

    def view_at(op: Operation, level: int) -> View:
        return views["" if level == 0 else op.chain[level - 1][0]]

    def unit(op: Operation, level: int) -> str:
        """The item that stands for ``op`` in its view ``level`` levels out (0: the whole graph)."""
        view = view_at(op, level)
        if level == len(op.chain):
            if op.id not in view.items:
                view.items[op.id] = Item(op.id, "op", op.label, op.style, view.path, op.details,
                                         highlighted=op.highlighted)
            return op.id
        path, call = op.chain[level]
        if call not in calls:
            calls[call] = f"m{len(calls)}"
        item = calls[call]
        if item not in view.items:
            info = modules[path]
            style = {**info.style, **(HIGHLIGHTED_MODULE if call in marked else {})}
            name = path[len(view.path) + 1:] if view.path and path.startswith(view.path + ".") else path
            view.items[item] = Item(item, "module", f"{name}: {info.summary}" if info.summary else name, style, path,
                                    info.details, opens=path, highlighted=call in marked)
        return item

    def edge(view: View, source: str, target: str, label: str, producer: str | None = None, output: int = 0) -> None:
        if source != target:
            view.edges.setdefault((source, target), Edge(source, target, label, producer, output))

    def boundary(view: View, direction: str, producer: Operation, output: int, shape: str) -> str:
        item = f"b{direction}_{producer.id}_{output}"
        if item not in view.items:
            details = dict(kind="enters the module" if direction == "i" else "leaves the module", shape=shape,
                           produced_by=producer.description)
            view.items[item] = Item(item, "boundary", "", BOUNDARY_STYLE, view.path, details,
                                    goto=producer.id if direction == "i" else None)
        return item

    for op in operations:  # every module a view, inside its parent's
        for level, (path, _) in enumerate(op.chain):
            if path not in views:
                views[path] = View(path, modules[path].title, view_at(op, level).path)
    enclosing = {}
    for op in operations:
        depth = len(op.chain)
        placed = [unit(op, level) for level in range(depth + 1)]  # a module node further out, itself inside
        enclosing[op.id] = placed[:-1]
        for source in op.sources:
            if source.kind == "leaf":
                leaf = leaves[source.key]
                for level in range(depth + 1):
                    if level == depth or not leaf.is_parameter:  # a module node holds its own parameters
                        view = view_at(op, level)
                        view.items.setdefault(leaf.id, Item(leaf.id, "leaf", leaf.label, leaf.style, view.path,
                                                            leaf.details))
                        edge(view, leaf.id, unit(op, level), source.shape)
                continue
            producer = ops[source.key]
            shared = _common_calls(producer.chain, op.chain)
            for level in range(shared + 1):
                edge(view_at(op, level), unit(producer, level), unit(op, level), source.shape,
                     producer.id, source.output)
            for level in range(shared + 1, len(producer.chain) + 1):
                view = view_at(producer, level)
                leaving = boundary(view, "o", producer, source.output, source.shape)
                consumers.setdefault((view.path, leaving), []).append(op.description)
                edge(view, unit(producer, level), leaving, source.shape, producer.id, source.output)
            for level in range(shared + 1, depth + 1):
                view = view_at(op, level)
                edge(view, boundary(view, "i", producer, source.output, source.shape), unit(op, level),
                     source.shape, producer.id, source.output)
    for output in outputs:
        producer = ops[output.producer]
        views[""].items[output.id] = Item(output.id, "output", output.label, OUTPUT_STYLE, "", output.details)
        edge(views[""], unit(producer, 0), output.id, output.details["shape"], producer.id, output.output)
        for level in range(1, len(producer.chain) + 1):
            view = view_at(producer, level)
            leaving = boundary(view, "o", producer, output.output, output.details["shape"])
            consumers.setdefault((view.path, leaving), []).append("the output")
            edge(view, unit(producer, level), leaving, output.details["shape"], producer.id, output.output)
    for view in views.values():  # boundary labels, now that every reader is known
        for item in view.items.values():
            if item.kind == "boundary":
                shape = item.details["shape"]
                if item.id.startswith("bi"):
                    item.label = f"from {item.details['produced_by']}\n{shape}"
                else:
                    readers = list(dict.fromkeys(consumers[(view.path, item.id)]))
                    item.details["read_by"] = ", ".join(readers)
                    more = f" and {len(readers) - 1} more" if len(readers) > 1 else ""
                    item.label = f"to {readers[0]}{more}\n{shape}"
    _number_calls(views)
    return Scene(title, kind, views, ops, list(order), recorded, enclosing)


def _common_calls(a: tuple, b: tuple) -> int:
    """How many module calls, from the outermost, two chains share."""
    shared = 0
    for (_, first), (_, second) in zip(a, b):
        if first != second:
            break
        shared += 1
    return shared


def _number_calls(views: Mapping[str, View]) -> None:
    """A module called more than once in a view gets one node per call: number them."""
    for view in views.values():
        seen: dict[str, list[Item]] = {}
        for item in view.items.values():
            if item.kind == "module":
                seen.setdefault(item.path, []).append(item)
        for items in seen.values():
            if len(items) > 1:
                for number, item in enumerate(items, 1):
                    first, _, rest = item.label.partition("\n")
                    item.label = f"{first} (call {number})" + (f"\n{rest}" if rest else "")


# --------------------------------------------------------------------------- a recorded graph

def _text(value: Any) -> str:
    return _index_text(value) if isinstance(value, tuple) and not _is_simple(value) else _short(value)


def _norm_text(stats: dict[str, float] | None) -> str | None:
    return None if stats is None else f"‖grad‖ {stats['norm']:.3g}"


class _ModulePaths:
    """Dotted module paths, as ``named_modules`` gives them, below the model the graph came from.

    With one outermost module the page is that module ("" is its path); with several (a GAN's
    generator and critic), each is named by its class.
    """

    def __init__(self, roots: Sequence[Module]) -> None:
        self.paths: dict[int, str] = {}
        self.modules: dict[str, Module] = {}
        labels: dict[str, int] = {}
        for root in roots:
            prefix = ""
            if len(roots) > 1:
                prefix = type(root).__name__
                labels[prefix] = labels.get(prefix, 0) + 1
                prefix += f"{labels[prefix]}" if labels[prefix] > 1 else ""
            for name, module in root.named_modules():
                path = ".".join(p for p in (prefix, name) if p)
                if id(module) not in self.paths:
                    self.paths[id(module)], self.modules[path] = path, module

    def path(self, module: Any) -> str:
        """Its path; a module outside the model (made inside a forward) is named by its class."""
        if id(module) not in self.paths:
            path = f"<{type(module).__name__} {len(self.paths)}>"
            self.paths[id(module)], self.modules[path] = path, module
        return self.paths[id(module)]

    def chain(self, node: Primitive) -> tuple[tuple[str, Hashable], ...]:
        chain = []
        for depth, module in enumerate(node.scope):
            path = self.path(module)
            if path:  # (the single outermost model is the page itself)
                call = id(node.scope.call(depth)) if isinstance(node.scope, Scope) else (path, depth)
                chain.append((path, call))
        return tuple(chain)


def _input_text(value: Any) -> str:
    """An input as the details list it: a tensor's shape and dtype, a number, or its kind."""
    if isinstance(value, Tensor):
        return f"{_shape(value.shape)} {value.dtype.name}"
    return _short(value) if isinstance(value, (bool, int, float)) else type(value).__name__


def _details_of_node(node: Primitive, path: str, recording: Recording | None) -> dict[str, Any]:
    record = recording[node] if recording is not None and node in recording else None
    settings = {k: _text(v) for k, v in node.settings.items() if _is_simple(v) or isinstance(v, tuple)}
    outputs = []
    for i, spec in enumerate(node.output_specs):
        if spec is None:
            continue
        entry: dict[str, Any] = dict(shape=_shape(spec.shape), dtype=spec.dtype.name)
        if record is not None:
            entry.update(values=record.values[i], gradient=record.gradients[i])
        outputs.append(entry)
    saved = record.saved_bytes if record is not None else saved_bytes(node)
    details: dict[str, Any] = dict(kind="operation", primitive=node.name, module=path or None, settings=settings,
                                   inputs=[_input_text(a) for a in node.inputs if a is not None],
                                   outputs=outputs, saved_bytes=saved, site=node.creation_site)
    if record is not None:
        details["backward_step"] = None if record.backward_step is None else record.backward_step + 1
    return details


def scene_of_graph(outputs: Sequence[Tensor], params: Mapping[str, Tensor] | None, recording: Recording | None,
                   highlight: Sequence[Primitive], title: str) -> Scene:
    """The scene of the graph behind ``outputs``, with ``recording``'s statistics where given."""
    engine_order = topological_order([o.grad_fn for o in outputs if o.grad_fn is not None])  # consumers first
    nodes = engine_order[::-1]
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    roots = list({id(n.scope[0]): n.scope[0] for n in nodes if n.scope}.values())
    paths = _ModulePaths(roots)
    names = {id(p): n for n, p in params.items()} if params is not None else {
        id(p): paths.path(root) + ("." if paths.path(root) else "") + n
        for root in roots for n, p in root.named_parameters()}
    buffers = module_buffers(roots)
    leaf_tensors: dict[int, Tensor] = {}
    for node in nodes:
        for a, edge in tensor_inputs(node, buffers):
            if edge is None:
                leaf_tensors.setdefault(id(a), a)
    norm_range = gradient_norm_range(leaf_tensors.values())
    leaves = {}
    for number, (key, t) in enumerate(leaf_tensors.items()):
        label, style = leaf_node(t, names.get(key), norm_range)
        kind = "parameter" if key in names else "input" if t.requires_grad else "constant"
        details = dict(kind=kind, name=names.get(key), shape=_shape(t.shape), dtype=t.dtype.name,
                       values=summary(t._data), gradient=None if t.grad is None else summary(t.grad._data))
        leaves[f"l{number}"] = Leaf(f"l{number}", label, style, details, key in names)
    leaf_ids = {key: f"l{number}" for number, key in enumerate(leaf_tensors)}
    marked = {id(n) for n in highlight}
    operations = []
    for node in nodes:
        chain = paths.chain(node)
        path = chain[-1][0] if chain else ""
        sources = [Source("leaf", leaf_ids[id(a)], 0, _shape(a.shape)) if edge is None else
                   Source("op", ids[edge[0]], edge[1], _shape(a.shape))
                   for a, edge in tensor_inputs(node, buffers)]
        record = recording[node] if recording is not None and node in recording else None
        gradients = {i: text for i, text in enumerate(map(_norm_text, record.gradients)) if text} if record else {}
        operations.append(Operation(
            ids[node], chain, operation_label(node), dict(HIGHLIGHT_STYLE if id(node) in marked else OP_STYLE),
            _details_of_node(node, path, recording), sources, node.name + (f" in {path}" if path else ""),
            gradients, id(node) in marked))
    graph_outputs = []
    for number, out in enumerate(o for o in outputs if o.grad_fn is not None):  # (a leaf is drawn as one)
        value = f"\nvalue = {out.item():.4g}" if out._data.size == 1 else ""
        details = dict(kind="output", shape=_shape(out.shape), dtype=out.dtype.name, values=summary(out._data))
        graph_outputs.append(Output(f"o{number}", ids[out.grad_fn], out._output_index,
                                    f"{names.get(id(out), 'output')}\n{_shape(out.shape)} {out.dtype.name}{value}",
                                    details))
    modules = {}
    for path, module in paths.modules.items():
        text, style = module_node("", module, norm_range)
        details = dict(kind="module", module=path, type=type(module).__name__, settings=module.extra_repr() or None,
                       parameters=parameter_count(module), gradient_norm=module_gradient_norm(module))
        modules[path] = ModuleInfo(_module_title(path, module) if path else title, text, style, details)
    if recording is not None and recording.backward_order:
        order = [ids[n] for n in recording.backward_order if n in ids]
    else:
        order = [ids[n] for n in engine_order if any(n.needs_input_grad)]
    return build_scene(title, "graph", operations, leaves, graph_outputs, modules, order,
                       recording is not None and len(recording) > 0)


# --------------------------------------------------------------------------- an ONNX file

def scene_of_onnx(path: str | os.PathLike, title: str | None) -> Scene:
    """The scene of an exported ``.onnx`` file: operators with their attributes and weights
    (name, shape and value statistics), graph inputs and outputs, views by the module paths
    the operators' names carry. An ONNX graph has no backward: its order is empty."""
    from .onnx_graph import _attribute_text, _dims, _module_of, _operation_label, _prefixes, load_inferred

    graph = load_inferred(path).graph  # (says how to install onnx where it is missing)
    from onnx import helper, numpy_helper

    shapes = {v.name: _dims(v) for v in list(graph.value_info) + list(graph.input) + list(graph.output)}
    initializers = {t.name: t for t in graph.initializer}
    produced: dict[str, tuple[str, int]] = {}  # value name -> (operator, output)
    inputs: dict[str, Leaf] = {}
    for value in graph.input:
        if value.name not in initializers:
            key = f"l{len(inputs)}"
            details = dict(kind="graph input", name=value.name, shape=shapes[value.name])
            inputs[value.name] = Leaf(key, f"{value.name}\n{shapes[value.name]}", dict(INPUT_STYLE), details, False)
    operations: list[Operation] = []
    kinds: dict[str, list[str]] = {}    # module -> the operator types in it
    repeats: dict[tuple[str, str], int] = {}
    containers = {prefix for node in graph.node for prefix in _prefixes(_module_of(node))[:-1]}
    for number, node in enumerate(graph.node):
        key = f"n{number}"
        for index, name in enumerate(node.output):
            produced[name] = (key, index)
        module = _module_of(node)
        # ONNX names carry no call: a leaf module's second operator of one type is taken for its second
        # call (the ReLU module a ResNet block runs twice)
        call = repeats[(module, node.op_type)] = repeats.get((module, node.op_type), -1) + 1
        chain = tuple((prefix, (module, call) if prefix == module and module not in containers else prefix)
                      for prefix in _prefixes(module))
        for prefix in _prefixes(module):
            kinds.setdefault(prefix, [])
            if node.op_type not in kinds[prefix]:
                kinds[prefix].append(node.op_type)
        sources = [Source("op", *produced[name], shapes.get(name, "?")) if name in produced else
                   Source("leaf", inputs[name].id, 0, shapes.get(name, "?"))
                   for name in node.input if name in produced or name in inputs]
        weights = {name: dict(shape=_shape(tuple(initializers[name].dims)), dtype=helper.tensor_dtype_to_np_dtype(
                       initializers[name].data_type).name, values=summary(numpy_helper.to_array(initializers[name])))
                   for name in node.input if name in initializers}
        attributes = dict(line.split("=", 1) for line in _attribute_text(node).split("\n")[1:])
        details = dict(kind="operator", primitive=node.op_type, name=node.name, module=module or None,
                       settings=attributes, weights=weights,
                       outputs=[dict(name=name, shape=shapes.get(name, "?")) for name in node.output])
        operations.append(Operation(key, chain, _operation_label(node, initializers), dict(OP_STYLE), details,
                                    sources, node.name))
    modules = {path: ModuleInfo(path, " ".join(types[:3]) + (" …" if len(types) > 3 else ""), dict(MODULE_STYLE),
                                dict(kind="module", module=path, operators=", ".join(types)))
               for path, types in kinds.items()}
    outputs = [Output(f"o{number}", *produced[value.name], f"{value.name}\n{shapes[value.name]}",
                      dict(kind="graph output", name=value.name, shape=shapes[value.name]))
               for number, value in enumerate(graph.output)]
    return build_scene(title or Path(path).name, "onnx", operations, {leaf.id: leaf for leaf in inputs.values()},
                       outputs, modules, [], False)
