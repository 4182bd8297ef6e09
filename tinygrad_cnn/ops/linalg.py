"""Norms and what is built on them: ``linalg.vector_norm``, ``Tensor.norm``, ``F.normalize``,
``F.cosine_similarity``.

The norm is a primitive because its derivative (x / ||x|| for p = 2) needs PyTorch's value at
x = 0 (zero, a subgradient) where the composition sqrt(sum(x^2)) would give 0 * inf = NaN, and
because its backward reads what PyTorch's reads: x and the result.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, DtypeError, normalize_dims
from .elementwise import Where


class VectorNorm(Primitive):
    """(sum |x|^p)^(1/p) over ``dims``, and its limits: p = inf (max |x|), -inf (min |x|) and 0
    (the count of nonzeros). One primitive, as PyTorch's ``linalg_vector_norm``: backward reads
    x and the result. Its gradient is PyTorch's ``norm_backward``, term for term: 0 where the
    norm is 0 (a subgradient); ties of the largest magnitude share it for p = inf; second
    derivatives at 0 are what PyTorch's are (NaN for p = 2, where it divides x by 0)."""

    output_layout = "contiguous"
    backward_reads = (0,)  # and the saved result

    @staticmethod
    def forward(ctx: Primitive, x: np.ndarray, p: float, dims: tuple[int, ...], keepdim: bool) -> np.ndarray:
        magnitude = np.abs(x)
        if p == 0:
            out = np.sum(magnitude != 0, axis=dims, keepdims=True, dtype=x.dtype)
        elif p == 1:
            out = np.sum(magnitude, axis=dims, keepdims=True)
        elif math.isinf(p):
            out = (np.amax if p > 0 else np.amin)(magnitude, axis=dims, keepdims=True)
        else:  # scaled by the largest magnitude, as PyTorch's kernel is: no overflow for |x| up to
            # the float maximum (the square of 1e200 would be inf)
            scale = np.max(magnitude, axis=dims, keepdims=True) if x.size else np.ones((1,) * x.ndim, x.dtype)
            scale = np.where((scale == 0) | ~np.isfinite(scale), np.ones((), x.dtype), scale)
            if p == 2:
                out = scale * np.sqrt(np.sum(np.square(magnitude / scale), axis=dims, keepdims=True))
            else:
                out = scale * np.sum((magnitude / scale) ** p, axis=dims, keepdims=True) ** (1.0 / p)
        if not keepdim:
            out = out.reshape([n for d, n in enumerate(out.shape) if d not in dims])
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        p, dims = ctx.settings["p"], ctx.settings["dims"]
        shape = tuple(1 if d in dims else n for d, n in enumerate(x.shape))
        norm, grad = ctx.result(*ctx.saved_tensors).reshape(shape), grad.reshape(shape)
        if p == 0:  # a count: zero everywhere, even at an infinite x
            return Tensor(np.zeros(x.shape, x.dtype))
        if p == 1:
            return x.sign() * grad
        if math.isinf(p):  # the derivative of amax(|x|), respecting NaN
            magnitude = np.abs(x._data)
            mask = (magnitude == norm._data) | np.isnan(magnitude)
            return x.sign() * (grad / Tensor(mask.sum(axis=dims, keepdims=True, dtype=x.dtype)) * Tensor(mask))
        zero = Tensor(norm._data == 0)
        if p == 2:
            return grad * Where.apply(zero, 0.0, x / norm)
        if p < 1:
            scaled = x.sign() * Where.apply(Tensor(x._data == 0), 0.0, x.abs() ** (p - 1))
            return scaled * grad * norm ** (1 - p)
        scaled = x.sign() * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
        return scaled * Where.apply(zero, 0.0, grad / norm ** (p - 1))


def vector_norm(x: Tensor, ord: float = 2, dim: int | Sequence[int] | None = None,  # noqa: A002
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ``ord``-norm of ``x`` over ``dim`` (all of it when None), as ``torch.linalg.vector_norm``:
    ord 2, 1, inf, -inf, 0 (the count of nonzeros) or any other p."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vector_norm: expected a Tensor, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise DtypeError(f"linalg.vector_norm: expected a floating point input, got {x.dtype}")
    dims = normalize_dims("linalg.vector_norm", dim, x.ndim)
    if math.isinf(ord) and any(x.shape[d] == 0 for d in dims):
        raise ArgumentError(f"linalg.vector_norm: cannot compute the {ord} norm over an empty dimension of "
                            f"shape {x.shape}: the operation does not have an identity (as in PyTorch)")
    return VectorNorm.apply(x, p=float(ord), dims=dims, keepdim=keepdim)


def norm(x: Tensor, p: Any = "fro", dim: int | Sequence[int] | None = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """``Tensor.norm``/``torch.norm``: the vector ``p``-norm over ``dim``; "fro" is the 2-norm."""
    if p in ("fro", None):
        p = 2
    if isinstance(p, str):
        raise ArgumentError(f"norm: p={p!r} is a matrix norm; only vector norms and 'fro' are implemented")
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """``input / max(||input||_p, eps)`` along ``dim`` (``F.normalize``)."""
    return input / vector_norm(input, p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along ``dim`` (broadcast), as PyTorch computes it:
    each divided by its norm clamped to ``eps`` (the clamp passes the gradient unchanged)."""
    if x1.shape != x2.shape:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
        x1, x2 = x1.expand(*shape), x2.expand(*shape)
    norms = [vector_norm(x, 2, dim, keepdim=True) for x in (x1, x2)]
    norms = [n + (n.clamp(min=eps) - n).detach() for n in norms]  # PyTorch clamps these under no_grad
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)
