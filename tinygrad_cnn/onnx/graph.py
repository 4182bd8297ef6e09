"""GraphBuilder: the traced graph's values, inputs, initializers and nodes as an ONNX model."""
from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..autograd import Primitive
from ..nn import Module
from ..tensor import Tensor

DTYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
          np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32,
          np.dtype(np.bool_): TensorProto.BOOL, np.dtype(np.uint8): TensorProto.UINT8}
IR_VERSIONS = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}


class UnsupportedOperatorError(ValueError):
    """A primitive that has no ONNX form (the message names it and its module)."""


def onnx_dtype(dtype: np.dtype) -> int:
    if np.dtype(dtype) not in DTYPES:
        raise UnsupportedOperatorError(f"onnx.export: dtype {dtype} has no ONNX equivalent here")
    return DTYPES[np.dtype(dtype)]


class GraphBuilder:
    """Collects ONNX nodes for a traced graph. Values are named after what produced them:
    graph inputs by the names given, parameters and buffers as in ``named_parameters``,
    primitive outputs by their node, other constants "constant_k"."""

    def __init__(self, model: Module, opset: int, dynamic_axes: dict[str, dict[int, str]]) -> None:
        self.opset, self.dynamic_axes = opset, dynamic_axes
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.values: dict[Any, str] = {}     # (id(node), output_nr) or id(leaf tensor) -> ONNX name
        self.named = {id(t): n for n, t in list(model.named_parameters()) + list(model.named_buffers())}
        self.named_arrays = {id(t._data): n for n, t in model.named_buffers()}  # running statistics
        self.counter = 0
        self.batch_dynamic = False
        self.batch_size = 0  # the traced batch size, when the batch is symbolic

    # ---------------------------------------------------------------- names and values
    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_{self.counter}"

    def constant(self, value: Any, dtype: Any = None, name: str | None = None) -> str:
        """An initializer holding ``value`` (an array or a number)."""
        array = np.asarray(value, dtype=dtype)
        name = name or self.fresh("constant")
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(array, name)
        return name

    def input_name(self, node: Primitive, position: int, dtype: Any = None) -> str:
        """The ONNX name of ``node``'s input ``position``: a produced value, a graph input, a
        parameter or buffer, or a constant made for it."""
        value, edge = node.inputs[position], node.next_functions[position]
        if edge is not None:
            return self.values[(id(edge[0]), edge[1])]
        if not isinstance(value, Tensor):
            return self.constant(value, dtype or _number_dtype(node))
        if id(value) in self.values:
            return self.values[id(value)]
        if id(value) in self.named:
            name = self.named[id(value)]
            self.constant(value._data, name=name)
        else:
            name = self.constant(value._data)
        self.values[id(value)] = name
        return name

    def array_name(self, array: np.ndarray, dtype: Any) -> str:
        """A buffer's name when ``array`` is one (running statistics), else a new constant."""
        name = self.named_arrays.get(id(array))
        return self.constant(array.astype(dtype), name=name) if name else self.constant(array, dtype)

    def emit(self, node: Primitive | None, op_type: str, inputs: list[str], outputs: int | list[str] = 1,
             **attributes: Any) -> list[str]:
        """Add one ONNX node named after ``node``'s module path; returns its output names."""
        where = (node.module_path or "model") if node is not None and node.module_path is not None else "graph"
        name = self.fresh(f"{where}/{op_type}")
        names = outputs if isinstance(outputs, list) else [f"{name}:{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=name, **attributes))
        return names

    # ---------------------------------------------------------------- graph pieces
    def _value_info(self, name: str, tensor: Tensor) -> onnx.ValueInfoProto:
        axes = self.dynamic_axes.get(name, {})
        if 0 in axes:
            self.batch_dynamic = True
            if tensor.ndim and not self.batch_size:  # (the inputs come first)
                self.batch_size = tensor.shape[0]
        shape = [axes.get(i, n) for i, n in enumerate(tensor.shape)]
        return helper.make_tensor_value_info(name, onnx_dtype(tensor.dtype), shape)

    def add_input(self, name: str, tensor: Tensor) -> None:
        self.inputs.append(self._value_info(name, tensor))
        self.values[id(tensor)] = name

    def add_node(self, node: Primitive) -> None:
        from .primitives import CONVERTERS  # the table imports this module's helpers
        convert = CONVERTERS.get(node.name)
        if convert is None:
            raise UnsupportedOperatorError(
                f"onnx.export: {node.name}{node.module_description} has no ONNX mapping; export can only "
                "write the primitives listed in tinygrad_cnn/onnx/primitives.py")
        names = convert(self, node)
        for i, name in enumerate(names):
            self.values[(id(node), i)] = name

    def add_output(self, name: str, tensor: Tensor) -> None:
        key = (id(tensor.grad_fn), tensor.output_nr) if tensor.grad_fn is not None else id(tensor)
        if key not in self.values:
            raise UnsupportedOperatorError(f"onnx.export: output {name!r} does not depend on the traced graph")
        self.emit(None, "Identity", [self.values[key]], [name])
        self.outputs.append(self._value_info(name, tensor))

    def model(self) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, "tinygrad_cnn", self.inputs, self.outputs,
                                  list(self.initializers.values()))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="tinygrad_cnn")
        model.ir_version = IR_VERSIONS[self.opset]
        return model


def _number_dtype(node: Primitive) -> np.dtype:
    """The dtype a Python number among ``node``'s inputs takes: the node's result dtype (that of
    ``where(mask, int_tensor, 0)`` is int64), or for a comparison its first Tensor input's."""
    dtype = node.output_specs[0].dtype
    if dtype.kind != "b":
        return dtype
    return next((v.dtype for v in node.inputs if isinstance(v, Tensor)), np.dtype(np.float32))
