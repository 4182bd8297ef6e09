"""Running sums and products along a dimension: ``cumsum`` and ``cumprod``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import normalize_dim
from .elementwise import Where
from .join import cat


class CumSum(Primitive):
    """out[i] = x[0] + ... + x[i]; the gradient is the running sum from the end."""

    output_layout = "contiguous"
    backward_reads = ()

    @staticmethod
    def forward(ctx: Primitive, x: np.ndarray, dim: int) -> np.ndarray:
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        dim = ctx.settings["dim"]
        return CumSum.apply(grad.flip(dim), dim=dim).flip(dim)


def _accumulated(op: str, x: Tensor, dim: int, dtype: Any) -> tuple[Tensor, int]:
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu" and x.dtype != np.int64:  # integers accumulate in int64, as in PyTorch
        x = x.to(np.int64)
    return x, normalize_dim(op, dim, x.ndim)


def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """The running sum along ``dim``."""
    x, dim = _accumulated("cumsum", x, dim, dtype)
    return CumSum.apply(x, dim=dim) if x.ndim else x.clone()


class CumProd(Primitive):
    """out[i] = x[0] * ... * x[i]. As PyTorch's: without zeros in x, the gradient is the running
    sum from the end of grad * out, divided by x. With zeros (where dividing by x[k] is wrong), the
    gradient of x[k] is the sum over i >= k of grad[i] times the running product with x[k] left
    out, computed with x[k] replaced by 1, one position at a time. Both are Tensor operations,
    so the gradient is differentiable again."""

    output_layout = "contiguous"
    backward_reads = (0,)  # and the saved result, as PyTorch's

    @staticmethod
    def forward(ctx: Primitive, x: np.ndarray, dim: int) -> np.ndarray:
        out = np.cumprod(x, axis=dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        dim = ctx.settings["dim"]
        if not (x._data == 0).any():
            out = ctx.result(*ctx.saved_tensors)
            return CumSum.apply((out * grad).flip(dim), dim=dim).flip(dim) / x
        n = x.shape[dim]
        positions = np.arange(n).reshape([n if d == dim else 1 for d in range(x.ndim)])
        parts = []
        for k in range(n):  # over one dimension's length, not over elements
            left_out = CumProd.apply(Where.apply(Tensor(positions == k), 1.0, x), dim=dim)
            parts.append((grad * left_out * Tensor(positions >= k).to(grad.dtype)).sum(dim, keepdim=True))
        return cat(parts, dim)


def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """The running product along ``dim``."""
    x, dim = _accumulated("cumprod", x, dim, dtype)
    return CumProd.apply(x, dim=dim) if x.ndim else x.clone()
