"""A model's recorded graph as TensorBoard's GraphDef: one node per primitive, named by the
module path that ran it ("features/3/Conv2d_4"), so the Graphs tab nests them by module;
parameters and inputs are nodes too, as in PyTorch's ``add_graph``."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ...autograd import topological_order
from ...debug import flags
from ...tensor import Tensor


def _shapes(*shapes: tuple[int, ...]) -> AttrValue:
    return AttrValue(list=AttrValue.ListValue(shape=[
        TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(n)) for n in shape]) for shape in shapes]))


def _scope_name(path: str | None, model_name: str) -> str:
    """A dotted module path as a TensorBoard scope: "layer1.0" -> "Model/layer1/0"."""
    if path is None:
        return model_name
    return "/".join([model_name, *path.split(".")]) if path else model_name


def graph_def(model: Any, inputs: Sequence[Tensor]) -> GraphDef:
    """Run ``model(*inputs)`` recording every operation and describe what ran."""
    model_name = type(model).__name__
    previous, flags.tracing = flags.tracing, True
    try:
        outputs = model(*inputs)
    finally:
        flags.tracing = previous
    outputs = [t for t in (outputs if isinstance(outputs, (tuple, list)) else (outputs,)) if isinstance(t, Tensor)]
    roots = [t.grad_fn for t in outputs if t.grad_fn is not None]
    nodes = list(reversed(topological_order(roots)))  # producers first
    parameter_names = {id(p): name for name, p in model.named_parameters()}
    names: dict[int, str] = {}
    defs: list[NodeDef] = []
    for i, t in enumerate(inputs):
        names[id(t)] = f"input/input.{i}"
        defs.append(NodeDef(name=names[id(t)], op="IO Node", attr={"_output_shapes": _shapes(t.shape)}))
    counts: dict[str, int] = {}
    for node in nodes:
        scope = _scope_name(node.module_path, model_name)
        counts[node.name] = counts.get(node.name, -1) + 1
        name = f"{scope}/{node.name}_{counts[node.name]}"
        sources = []
        for value, edge in zip(node.inputs, node.next_functions):
            if not isinstance(value, Tensor):
                continue
            if edge is not None and id(edge[0]) in names:
                sources.append(names[id(edge[0])])
            elif id(value) in parameter_names:
                key = id(value)
                if key not in names:
                    names[key] = f"{model_name}/{parameter_names[key].replace('.', '/')}"
                    defs.append(NodeDef(name=names[key], op="Parameter",
                                        attr={"_output_shapes": _shapes(value.shape)}))
                sources.append(names[key])
            elif id(value) in names:
                sources.append(names[id(value)])
        names[id(node)] = name
        settings = "".join(f"{k}={v}, " for k, v in (node.settings or {}).items() if not hasattr(v, "shape"))
        defs.append(NodeDef(name=name, op=node.name, input=sources, attr={
            "_output_shapes": _shapes(*(spec.shape for spec in node.output_specs)),
            "attr": AttrValue(s=settings.rstrip(", ").encode())}))
    for i, t in enumerate(outputs):
        source = names.get(id(t.grad_fn)) if t.grad_fn is not None else names.get(id(t))
        defs.append(NodeDef(name=f"output/output.{i}", op="IO Node", input=[source] if source else [],
                            attr={"_output_shapes": _shapes(t.shape)}))
    return GraphDef(node=defs, versions=VersionDef(producer=22))
