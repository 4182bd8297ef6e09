"""ONNX export: ``tinygrad_cnn.onnx.export(model, args, "model.onnx")``, as ``torch.onnx.export``.

The model runs once on the example ``args`` in tracing mode, which records every operation
(also on inputs that need no gradient, in frozen models and under ``no_grad``). The recorded
graph is walked with the engine's own ``topological_order`` through the node API, the same one
``visualize`` reads, and each primitive becomes ONNX nodes (``primitives.py``); parameters and
buffers become initializers named as in ``named_parameters``, and node names carry the module
path. Every exported model passes ``onnx.checker.check_model(full_check=True)``.

The first dimension of every input and output is exported as a symbolic "batch" unless
``dynamic_axes`` says otherwise (pass ``dynamic_axes={}`` for fixed shapes), so a model traced
at batch 2 runs at any batch. Trace with a batch of at least 2: at batch 1 the batch cannot be
told apart from a dimension that is always 1. Needs the optional extra: ``pip install tinygrad_cnn[onnx]``.
"""
from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

try:
    import onnx  # noqa: F401  (fail here, with the way out, rather than deep inside)
except ImportError:
    raise ImportError("tinygrad_cnn.onnx needs the onnx package: pip install 'tinygrad_cnn[onnx]'") from None

from ..autograd import no_grad, topological_order
from ..debug import flags
from ..nn import Module
from ..serialization import write_atomically
from ..tensor import Tensor
from .graph import GraphBuilder

DEFAULT_OPSET = 17


class tracing:
    """Record every operation while the block runs (whatever requires grad)."""

    def __enter__(self) -> None:
        self._previous = flags.tracing
        flags.tracing = True

    def __exit__(self, *exc: object) -> None:
        flags.tracing = self._previous


def export(model: Module, args: Tensor | Sequence[Tensor], f: str | os.PathLike | io.IOBase, *,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           dynamic_axes: Mapping[str, Any] | None = None, opset_version: int = DEFAULT_OPSET,
           training: str = "eval") -> None:
    """Trace ``model(*args)`` and write it to ``f`` (a path or a binary file) as an ONNX model.

    ``training="eval"`` (the default) exports the evaluation-mode model and restores each
    module's mode afterwards; "preserve" keeps the current modes (a model in training mode
    cannot be exported: batch statistics and dropout have no ONNX inference form here).
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("onnx export needs the onnx package: pip install 'tinygrad_cnn[onnx]'") from None
    if not isinstance(model, Module):
        raise TypeError(f"onnx.export: expected an nn.Module, got {type(model).__name__}")
    inputs = (args,) if isinstance(args, Tensor) else tuple(args)
    if not inputs or not all(isinstance(a, Tensor) for a in inputs):
        raise TypeError("onnx.export: args must be a Tensor or a tuple of Tensors (the example inputs)")
    if training not in ("eval", "preserve"):
        raise ValueError(f"onnx.export: training must be 'eval' or 'preserve', got {training!r}")
    if not 13 <= opset_version <= 21:
        raise ValueError(f"onnx.export: opset_version must be between 13 and 21, got {opset_version}")
    modes = {m: m.training for m in model.modules()}
    try:
        if training == "eval":
            model.eval()
        with tracing(), no_grad():
            result = model(*inputs)
    finally:
        for module, mode in modes.items():
            object.__setattr__(module, "training", mode)
    outputs = (result,) if isinstance(result, Tensor) else tuple(result)
    if not all(isinstance(o, Tensor) for o in outputs):
        raise TypeError("onnx.export: the model must return a Tensor or a tuple of Tensors")
    input_names = list(input_names or [f"input_{i}" if len(inputs) > 1 else "input" for i in range(len(inputs))])
    output_names = list(output_names or [f"output_{i}" if len(outputs) > 1 else "output"
                                         for i in range(len(outputs))])
    if len(input_names) != len(inputs) or len(output_names) != len(outputs):
        raise ValueError(f"onnx.export: {len(input_names)} input names for {len(inputs)} inputs and "
                         f"{len(output_names)} output names for {len(outputs)} outputs")
    if dynamic_axes is None:
        dynamic_axes = {name: {0: "batch"} for name in input_names + output_names}
    roots = [o.grad_fn for o in outputs if o.grad_fn is not None]
    nodes = list(reversed(topological_order(roots)))
    builder = GraphBuilder(model, opset_version, _axes(dynamic_axes))
    for name, tensor in zip(input_names, inputs):
        builder.add_input(name, tensor)
    for node in nodes:
        builder.add_node(node)
    for name, tensor in zip(output_names, outputs):
        builder.add_output(name, tensor)
    proto = builder.model()
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        write_atomically(f, lambda file: file.write(data))
    else:
        f.write(data)


def _axes(dynamic_axes: Mapping[str, Any]) -> dict[str, dict[int, str]]:
    """PyTorch's two spellings: {name: [0, 2]} or {name: {0: "batch"}}."""
    result = {}
    for name, axes in dynamic_axes.items():
        if isinstance(axes, Mapping):
            result[name] = {int(k): str(v) for k, v in axes.items()}
        else:
            result[name] = {int(k): f"{name}_dynamic_axes_{int(k) + 1}" for k in axes}
    return result


__all__ = ["export", "tracing", "DEFAULT_OPSET"]
