"""Reductions: sum, mean, max and argmax over all or some dimensions."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import kernels
from ..autograd import Function
from ..tensor import Tensor
from .arguments import normalize_dim, normalize_dims


def _keepdim_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        total = kernels.sum_axes(x, dims)
        return total.reshape(_keepdim_shape(x.shape, dims)) if keepdim else total

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad.reshape(_keepdim_shape(x.shape, ctx.settings["dims"])).broadcast_to(x.shape)


class MaxAll(Function):
    """The maximum of all elements; tied maxima share the gradient evenly (as PyTorch)."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, x):
        if x.size == 0:
            raise ValueError("max: the tensor is empty")
        result = x.max()
        if ctx.requires_grad:
            mask = x == result
            ctx.save_for_backward(mask / mask.sum(dtype=x.dtype))
        return result

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved_tensors
        return grad * share


class MaxDim(Function):
    """The maximum along one dimension and its index; the gradient goes to that index."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        if x.shape[dim] == 0:
            raise ValueError(f"max: dimension {dim} of shape {x.shape} is empty")
        indices = np.expand_dims(np.argmax(x, axis=dim), dim)
        values = np.take_along_axis(x, indices, axis=dim)
        if ctx.requires_grad:
            mask = np.zeros(x.shape, dtype=bool)
            np.put_along_axis(mask, indices, True, axis=dim)
            ctx.save_for_backward(mask)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return values, indices

    @staticmethod
    def backward(ctx, grad, grad_indices):
        (mask,) = ctx.saved_tensors
        dim = ctx.settings["dim"]
        if not ctx.settings["keepdim"]:
            grad = grad.unsqueeze(dim)
        return grad.broadcast_to(mask.shape) * mask


def sum(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(x, dims=normalize_dims("sum", dim, x.ndim), keepdim=keepdim)


def mean(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    dims = normalize_dims("mean", dim, x.ndim)
    count = int(np.prod([x.shape[d] for d in dims]))
    return Sum.apply(x, dims=dims, keepdim=keepdim) * (1.0 / count if count else float("nan"))


def max_all(x: Tensor) -> Tensor:
    return MaxAll.apply(x)


def max_dim(x: Tensor, dim: int, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    return MaxDim.apply(x, dim=normalize_dim("max", dim, x.ndim), keepdim=keepdim)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) maximum; no gradient."""
    if dim is None:
        return Tensor(np.argmax(x.data))
    dim = normalize_dim("argmax", dim, x.ndim)
    return Tensor(np.argmax(x.data, axis=dim, keepdims=keepdim))
