"""Matrix products: matmul with NumPy's semantics (batched, broadcast, 1-D operands), and
PyTorch's stricter spellings of it (mm, mv, bmm, dot, outer) and ``t``."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from .. import memory_format as formats
from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, DtypeError
from .broadcast import sum_to_shape
from .elementwise import operand


class MatMul(Primitive):
    """``a @ b`` for operands with at least two dimensions (the wrapper lifts 1-D ones)."""

    output_layout = "contiguous"
    backward_reads = {0: (1,), 1: (0,)}  # each operand for the other's gradient

    @staticmethod
    def forward(ctx, a, b):
        return kernels.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = sum_to_shape(grad @ b.transpose(-1, -2), a.shape)
        if ctx.needs_input_grad[1] and a.ndim == 2 and formats.is_transposed_matrix(b._data):
            # b is a transposed view (x @ weight.T): its gradient is made in the same layout, so
            # after the transpose's backward the weight's gradient is contiguous like the weight
            grad_b = (grad.transpose(0, 1) @ a).transpose(0, 1)
        elif ctx.needs_input_grad[1]:
            grad_b = sum_to_shape(a.transpose(-1, -2) @ grad, b.shape)
        return grad_a, grad_b


def matmul(a: Any, b: Any) -> Tensor:
    a, b = operand(a, "matmul"), operand(b, "matmul")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("matmul: both operands must be tensors or arrays, not Python numbers")
    if a.dtype != b.dtype and a.dtype.kind == b.dtype.kind == "f":
        raise DtypeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
    if a.ndim == 0 or b.ndim == 0:
        raise ArgumentError(f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ArgumentError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned: the first has "
            f"{a.shape[-1]} columns, the second {b.shape[-2 if b.ndim > 1 else 0]} rows"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ArgumentError(
            f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast"
        ) from None
    lift_a, lift_b = a.ndim == 1, b.ndim == 1
    out = MatMul.apply(a.unsqueeze(0) if lift_a else a, b.unsqueeze(-1) if lift_b else b)
    if lift_a:
        out = out.squeeze(-2)
    if lift_b:
        out = out.squeeze(-1)
    return out


def _dims(op: str, names: tuple[str, ...], tensors: tuple[Any, ...], ndims: tuple[int, ...]) -> None:
    for name, t, ndim in zip(names, tensors, ndims):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim != ndim:
            raise ArgumentError(f"{op}: {name} must be a {ndim}-D tensor, got shape {t.shape}")


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002  (PyTorch's names)
    """The product of two matrices (2-D only, as PyTorch's)."""
    _dims("mm", ("input", "mat2"), (input, mat2), (2, 2))
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """A matrix times a vector."""
    _dims("mv", ("input", "vec"), (input, vec), (2, 1))
    return matmul(input, vec)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched matrix products of two 3-D tensors with the same batch size (no broadcasting)."""
    _dims("bmm", ("input", "mat2"), (input, mat2), (3, 3))
    if input.shape[0] != mat2.shape[0]:
        raise ArgumentError(f"bmm: batch sizes differ: {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The inner product of two 1-D tensors of the same size."""
    _dims("dot", ("input", "other"), (input, other), (1, 1))
    if input.shape != other.shape:
        raise ArgumentError(f"dot: inconsistent tensor sizes {input.shape[0]} and {other.shape[0]}")
    return matmul(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    _dims("outer", ("input", "vec2"), (input, vec2), (1, 1))
    return input.unsqueeze(1) * vec2.unsqueeze(0)


def t(input: Tensor) -> Tensor:  # noqa: A002
    """The transpose of a matrix; a tensor with fewer than 2 dimensions as it is (a view)."""
    if input.ndim > 2:
        raise ArgumentError(f"t: expects a tensor with <= 2 dimensions, but the input has {input.ndim}")
    return input.transpose(0, 1) if input.ndim == 2 else input.view_as(input)
