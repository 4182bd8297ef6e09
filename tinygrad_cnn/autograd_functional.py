"""``tc.autograd.functional``, as ``torch.autograd.functional``: derivatives of a whole function.

``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp`` and ``hvp`` take ``func`` and its
``inputs`` (a Tensor or a tuple of them) and return what PyTorch returns, with its nesting:
a Jacobian of one output with respect to one input is a Tensor of shape
``output.shape + input.shape``, of several a tuple (of tuples). All are reverse mode
(``jvp`` and ``hvp`` by the double-vjp trick, as PyTorch computes them); ``jacobian`` loops
over output elements, as PyTorch's does without ``vectorize``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import enable_grad, grad
from .ops.join import stack
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(value: Any, what: str, op: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(whether ``value`` was a tuple, its Tensors as a tuple), refusing anything else."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"{what} {i}" if is_tuple else what
            raise TypeError(f"{op}: the {where} given must be a Tensor, got {type(item).__name__}")
    return is_tuple, items


def _prepared(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs to differentiate with respect to: new leaves, or (with ``create_graph``) aliases
    that keep the inputs' own graph so the result can be differentiated again."""
    if create_graph:
        return tuple(t.view_as(t) if t.requires_grad else t.detach().requires_grad_() for t in inputs)
    return tuple(t.detach().requires_grad_() for t in inputs)


def _finished(values: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    return values if create_graph else tuple(v.detach() if isinstance(v, Tensor) else v for v in values)


def _gradients(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], vectors: tuple[Tensor, ...],
               create_graph: bool, strict: bool, op: str, retain_graph: bool | None = None) -> tuple[Tensor, ...]:
    """The vector-Jacobian products, zeros (or, ``strict``, an error) where an input is unused."""
    used = [(o, v) for o, v in zip(outputs, vectors) if o.requires_grad]
    if strict and len(used) != len(outputs):
        raise RuntimeError(f"{op}: output {next(i for i, o in enumerate(outputs) if not o.requires_grad)} of "
                           "the user-provided function does not require gradients. The outputs must be computed "
                           "in a differentiable manner from the input when running in strict mode.")
    found = grad([o for o, _ in used], inputs, [v for _, v in used], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True) if used else (None,) * len(inputs)
    if strict and any(g is None for g in found):
        raise RuntimeError(f"{op}: the output of the user-provided function is independent of input "
                           f"{next(i for i, g in enumerate(found) if g is None)}; this is not allowed in strict mode.")
    return tuple(g if g is not None else Tensor(np.zeros(x.shape, dtype=x.dtype)) for g, x in zip(found, inputs))


def _vectors(v: Any, like: tuple[Tensor, ...], op: str, what: str) -> tuple[Tensor, ...]:
    if v is None:
        if len(like) != 1 or like[0]._data.size != 1:
            raise RuntimeError(f"{op}: the vector v can only be None if the user-provided function returns a "
                               "single Tensor with a single element.")
        return (Tensor(np.ones(like[0].shape, dtype=like[0].dtype)),)
    _, vectors = _as_tuple(v, "v", op)
    if len(vectors) != len(like):
        raise RuntimeError(f"{op}: v has {len(vectors)} Tensors but the {what} has {len(like)}")
    for i, (vector, t) in enumerate(zip(vectors, like)):
        if vector.shape != t.shape:
            raise RuntimeError(f"{op}: entry {i} of v has shape {vector.shape} but the {what}'s has shape {t.shape}")
    return vectors


def _call(func: Callable[..., Any], inputs: tuple[Tensor, ...], op: str) -> tuple[bool, tuple[Tensor, ...]]:
    with enable_grad():
        return _as_tuple(func(*inputs), "output of the user-provided function", op)


def _scalar_call(func: Callable[..., Any], inputs: tuple[Tensor, ...], op: str) -> Tensor:
    """``func(*inputs)``, which a Hessian needs to be one Tensor of one element."""
    _, out = _call(func, inputs, op)
    if len(out) != 1 or out[0]._data.size != 1:
        raise RuntimeError(f"{op}: the function given should return a single Tensor with one element")
    return out[0]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepared(inputs, create_graph)
    outputs_tuple, outputs = _call(func, inputs, "vjp")
    products = _gradients(outputs, inputs, _vectors(v, outputs, "vjp", "output"), create_graph, strict, "vjp")
    outputs, products = _finished(outputs, create_graph), _finished(products, create_graph)
    return (outputs if outputs_tuple else outputs[0]), (products if inputs_tuple else products[0])


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), J v)``: the Jacobian-vector product, by differentiating a vjp with respect
    to its vector (the double-vjp trick)."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    inputs = _prepared(inputs, create_graph)
    vectors = _vectors(v, inputs, "jvp", "input")
    outputs_tuple, outputs = _call(func, inputs, "jvp")
    with enable_grad():
        dummies = tuple(Tensor(np.zeros(o.shape, dtype=o.dtype), requires_grad=True) for o in outputs)
        transposed = _gradients(outputs, inputs, dummies, True, strict, "jvp")
        products = _gradients(transposed, dummies, vectors, create_graph, strict, "jvp")
    outputs, products = _finished(outputs, create_graph), _finished(products, create_graph)
    return (outputs if outputs_tuple else outputs[0]), (products if outputs_tuple else products[0])


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: entry (i, j) has shape ``outputs[i].shape +
    inputs[j].shape``; nested as PyTorch nests it (a Tensor for one output and one input)."""
    del vectorize  # (a speed option in PyTorch; the result is the same)
    if strategy != "reverse-mode":
        raise NotImplementedError(f"jacobian: only strategy='reverse-mode' exists here, got {strategy!r}")
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    inputs = _prepared(inputs, create_graph)
    outputs_tuple, outputs = _call(func, inputs, "jacobian")
    blocks = []
    for output in outputs:
        flat = output.reshape(-1)
        rows: list[list[Tensor]] = [[] for _ in inputs]
        for k in range(flat.shape[0]):  # one backward per output element, as PyTorch's loop
            picked = Tensor(np.zeros(flat.shape, dtype=flat.dtype))
            picked._data[k] = 1
            for j, g in enumerate(_gradients((flat,), inputs, (picked,), create_graph, strict, "jacobian",
                                             retain_graph=True)):
                rows[j].append(g)
        blocks.append(tuple((stack(r) if r else Tensor(np.zeros((0, *x.shape), dtype=x.dtype)))
                            .reshape(*output.shape, *x.shape) for r, x in zip(rows, inputs)))
    blocks = [_finished(b, create_graph) for b in blocks]
    if outputs_tuple:
        return tuple(b if inputs_tuple else b[0] for b in blocks)
    return blocks[0] if inputs_tuple else blocks[0][0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a function returning one element: the Jacobian of its gradient."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs: Tensor) -> tuple[Tensor, ...]:
        out = _scalar_call(func, xs, "hessian")
        return _gradients((out,), xs, (Tensor(np.ones(out.shape, dtype=out.dtype)),), True, strict, "hessian")

    result = jacobian(gradient, inputs, create_graph, strict, vectorize, outer_jacobian_strategy)
    return result if inputs_tuple else result[0][0]


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Any]:
    """``(func(*inputs), v^T H)``: a vector-Hessian product (H symmetric: the same as ``hvp``)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Any]:
    """``(func(*inputs), H v)``: a Hessian-vector product."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool,
                     op: str) -> tuple[Tensor, Any]:
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", op)
    inputs = _prepared(inputs, create_graph)
    vectors = _vectors(v, inputs, op, "input")
    output = _scalar_call(func, inputs, op)
    with enable_grad():
        first = _gradients((output,), inputs, (Tensor(np.ones(output.shape, dtype=output.dtype)),), True, strict, op)
        products = _gradients(first, inputs, vectors, create_graph, strict, op)
    output, products = _finished((output,), create_graph)[0], _finished(products, create_graph)
    return output, (products if inputs_tuple else products[0])
