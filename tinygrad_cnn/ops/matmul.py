"""Matrix product with NumPy's matmul semantics (batched, broadcast, 1-D operands)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..autograd import Primitive, sum_to_shape
from ..tensor import Tensor
from .arguments import ArgumentError, DtypeError
from .elementwise import operand


class MatMul(Primitive):
    """``a @ b`` for operands with at least two dimensions (the wrapper lifts 1-D ones)."""

    @staticmethod
    def forward(ctx, a, b):
        return kernels.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = sum_to_shape(grad @ b.transpose(-1, -2), a.shape)
        if ctx.needs_input_grad[1] and a.ndim == b.ndim == 2 and _transposed(b._data):
            # b is a transposed view (x @ weight.T): its gradient is made in the same layout, so
            # after the transpose's backward the weight's gradient is contiguous like the weight
            grad_b = (grad.transpose(0, 1) @ a).transpose(0, 1)
        elif ctx.needs_input_grad[1]:
            grad_b = sum_to_shape(a.transpose(-1, -2) @ grad, b.shape)
        return grad_a, grad_b


def _transposed(array: np.ndarray) -> bool:
    return array.flags.f_contiguous and not array.flags.c_contiguous


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
