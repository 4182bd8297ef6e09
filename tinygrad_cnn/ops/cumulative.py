"""Running sums and products along a dimension: ``cumsum`` and ``cumprod``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Primitive, is_grad_enabled
from ..tensor import Tensor
from .arguments import normalize_dim
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
    sum from the end of grad * out, divided by x. With zeros (where dividing by x[k] is wrong):

    - for a first derivative, PyTorch's O(n) rule (``_zeros_gradient``): the running sum up to
      the first zero for the positions before it, one sum for the first zero, and 0 after it,
      so an infinite gradient where the product is already 0 stays out;
    - when the gradient is to be differentiated again, the sum over i >= k of grad[i] times the
      running product with x[k] left out, one position at a time, in Tensor operations
      (PyTorch's O(n^2) rule; grad[i] for i < k takes no part)."""

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
        if not is_grad_enabled():
            return Tensor(_zeros_gradient(x._data, grad._data, dim))
        n = x.shape[dim]
        parts = []
        for k in range(n):  # over one dimension's length, not over elements
            # omitted[j] for j >= k: the product of x[:j + 1] with x[k] left out
            after = [CumProd.apply(x.narrow(dim, k + 1, n - k - 1), dim=dim)] if k < n - 1 else []
            if k == 0:
                omitted = cat([Tensor(np.ones_like(x._data, shape=_one_along(x.shape, dim)))] + after, dim)
            else:
                before = CumProd.apply(x.narrow(dim, 0, k), dim=dim).narrow(dim, k - 1, 1)
                omitted = cat([before] + [before * a for a in after], dim)
            parts.append((grad.narrow(dim, k, n - k) * omitted).sum(dim, keepdim=True))
        return cat(parts, dim)


def _one_along(shape: tuple[int, ...], dim: int) -> tuple[int, ...]:
    return shape[:dim] + (1,) + shape[dim + 1:]


def _zeros_gradient(x: np.ndarray, grad: np.ndarray, dim: int) -> np.ndarray:
    """cumprod's first derivative where x has zeros, by PyTorch's rule: before the first zero,
    the running sum from there back of grad * out, divided by x; at the first zero, the sum up
    to the next zero of grad times the product with that zero left out; after it, 0. Terms
    where the product is 0 are left out, not multiplied (an infinite grad gives no NaN there)."""
    zeros_so_far = np.cumsum(x == 0, axis=dim)
    before, first = zeros_so_far == 0, (zeros_so_far == 1) & (x == 0)
    up_to_next = zeros_so_far == 1
    with np.errstate(all="ignore"):
        kept = np.where(before, grad * np.cumprod(x, axis=dim), 0)
        running = np.flip(np.cumsum(np.flip(kept, dim), axis=dim), dim)
        result = np.where(before, running / np.where(before, x, 1), 0)
        left_out = np.cumprod(np.where(first, 1, x), axis=dim)
        at_first = np.where(up_to_next, grad * left_out, 0).sum(axis=dim, keepdims=True)
    return np.where(first, at_first, result).astype(grad.dtype, copy=False)


def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """The running product along ``dim``."""
    x, dim = _accumulated("cumprod", x, dim, dtype)
    return CumProd.apply(x, dim=dim) if x.ndim else x.clone()
