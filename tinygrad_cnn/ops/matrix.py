"""Matrix structure: ``tril``, ``triu``, ``diag``, ``diagonal`` (a view, as PyTorch's), ``roll``."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import kernels
from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, integer, normalize_dim
from .elementwise import Where


def _triangle(op: str, x: Tensor, diagonal: int, lower: bool) -> Tensor:
    if x.ndim < 2:
        raise ArgumentError(f"{op}: input tensor must have at least 2 dimensions, got shape {x.shape}")
    diagonal = integer(op, "diagonal", diagonal)
    rows, columns = x.shape[-2:]
    keep = (np.tril if lower else np.triu)(np.ones((rows, columns), dtype=bool), diagonal)
    return Where.apply(Tensor(keep), x, Tensor(np.zeros((), x.dtype)), output_layout="contiguous")


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (on and below ``diagonal``), zeros elsewhere."""
    return _triangle("tril", x, diagonal, lower=True)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (on and above ``diagonal``), zeros elsewhere."""
    return _triangle("triu", x, diagonal, lower=False)


class Diagonal(Primitive):
    """The diagonal at ``offset`` of the plane (dim1, dim2), as the last dimension; a view."""

    backward_reads = ()
    returns_view = True

    @staticmethod
    def forward(ctx: Primitive, x: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
        return kernels.diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        return DiagonalBackward.apply(grad, shape=x.shape, **ctx.settings)


class DiagonalBackward(Primitive):
    """Zeros of ``shape`` with ``grad`` written on the diagonal: Diagonal's adjoint."""

    backward_reads = ()

    @staticmethod
    def forward(ctx: Primitive, grad: np.ndarray, shape: tuple[int, ...], offset: int, dim1: int,
                dim2: int) -> np.ndarray:
        out = np.zeros(shape, grad.dtype)
        kernels.diagonal_view(out, offset, dim1, dim2)[...] = grad
        return out

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        settings = ctx.settings_without("shape")
        return Diagonal.apply(grad, **settings)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the plane (dim1, dim2), shifted by ``offset`` above (>0) or below (<0)."""
    if x.ndim < 2:
        raise ArgumentError(f"diagonal: expected a tensor with at least 2 dimensions, got shape {x.shape}")
    dim1, dim2 = normalize_dim("diagonal", dim1, x.ndim), normalize_dim("diagonal", dim2, x.ndim)
    if dim1 == dim2:
        raise ArgumentError(f"diagonal: dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(x, offset=integer("diagonal", "offset", offset), dim1=dim1, dim2=dim2)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor's values placed on a square matrix's ``diagonal``, or a 2-D tensor's diagonal."""
    diagonal = integer("diag", "diagonal", diagonal)
    if x.ndim == 2:
        return Diagonal.apply(x, offset=diagonal, dim1=0, dim2=1).clone()
    if x.ndim != 1:
        raise ArgumentError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")
    n = x.shape[0] + abs(diagonal)
    return DiagonalBackward.apply(x, shape=(n, n), offset=diagonal, dim1=0, dim2=1)


class Roll(Primitive):
    """Elements shifted along ``dims`` by ``shifts``, wrapping around; backward rolls back."""

    output_layout = "suggest_first"
    backward_reads = ()

    @staticmethod
    def forward(ctx: Primitive, x: np.ndarray, shifts: tuple[int, ...], dims: tuple[int, ...] | None) -> np.ndarray:
        return np.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        return Roll.apply(grad, shifts=tuple(-s for s in ctx.settings["shifts"]), dims=ctx.settings["dims"])


def roll(x: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """``x`` rolled by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    shifts = tuple(integer("roll", "shifts", s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll: {len(shifts)} shifts given without dims; pass one dim per shift")
        return Roll.apply(x.reshape(-1), shifts=shifts, dims=None).reshape(x.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(dims) != len(shifts):
        raise ArgumentError(f"roll: shifts and dims must have the same length, got {len(shifts)} and {len(dims)}")
    return Roll.apply(x, shifts=shifts, dims=tuple(normalize_dim("roll", d, x.ndim) for d in dims))
