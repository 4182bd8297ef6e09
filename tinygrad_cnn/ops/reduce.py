"""Reductions: sum, mean, max and argmax over all or some dimensions."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import kernels
from ..autograd import Primitive
from ..tensor import MaxResult, Tensor
from .arguments import ArgumentError, DtypeError, IndexRangeError, normalize_dim, normalize_dims
from .elementwise import Where, where


def _keepdim_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Primitive):
    output_layout = "contiguous"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        total = kernels.sum_axes(x, dims)
        return total.reshape(_keepdim_shape(x.shape, dims)) if keepdim else total

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad.reshape(_keepdim_shape(x.shape, ctx.settings["dims"])).broadcast_to(x.shape)


class Mean(Primitive):
    """The mean over ``dims``: the sum times 1 / count. A primitive of its own (not a sum and a
    product) so that an export divides by the count of the input it is given, as ONNX's
    ReduceMean does, not by the count at the batch size it was traced with."""

    output_layout = "contiguous"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        return Sum.forward(ctx, x, dims, keepdim) * _reciprocal_count(x.shape, dims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        dims = ctx.settings["dims"]
        scaled = grad * _reciprocal_count(x.shape, dims)  # on the small result, before broadcasting
        return scaled.reshape(_keepdim_shape(x.shape, dims)).broadcast_to(x.shape)


def _reciprocal_count(shape: tuple[int, ...], dims: tuple[int, ...]) -> float:
    count = int(np.prod([shape[d] for d in dims]))
    return 1.0 / count if count else float("nan")


class AMax(Primitive):
    """The maximum over ``dims``; tied maxima share the gradient evenly (as PyTorch's amax
    and full ``max()``). Backward reads x and the result, as PyTorch's. As PyTorch's, amax's
    gradient is a product with the mask of maxima, while the full ``max()`` (``evenly``) writes
    the shares into zeros, so a NaN gradient stays at the maxima (and a NaN maximum is the
    NaNs')."""

    output_layout = "contiguous"
    backward_reads = (0,)  # and the saved result
    extreme = staticmethod(np.amax)

    @staticmethod
    def forward(ctx, x, dims, keepdim, evenly=False):
        if x.size == 0:
            raise IndexRangeError(f"{type(ctx).__name__.lower()}: cannot reduce a tensor of shape {x.shape} "
                                  "with no elements")
        top = type(ctx).extreme(x, axis=dims, keepdims=True)
        out = top if keepdim else top.reshape([n for d, n in enumerate(x.shape) if d not in dims])
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,), (out,) = ctx.inputs, ctx.saved_tensors
        dims = ctx.settings["dims"]
        top = out.reshape(_keepdim_shape(x.shape, dims))
        if ctx.settings.get("evenly"):  # PyTorch's evenly_distribute_backward: masked_fill of zeros
            mask = np.isnan(x._data) if np.isnan(top).all() else x._data == top
            share = grad.reshape(top.shape) / float(mask.sum())
            return Where.apply(Tensor(mask), share, 0.0)
        mask = x._data == top
        return grad.reshape(top.shape) * Tensor(mask / mask.sum(axis=dims, keepdims=True, dtype=x.dtype))


class AMin(AMax):
    """The minimum over ``dims``; tied minima share the gradient evenly."""

    extreme = staticmethod(np.amin)


class Variance(Primitive):
    """The variance over ``dims``, dividing by max(0, N - correction); backward reads x, as
    PyTorch's: 2 (x - mean) / (N - correction), times grad."""

    output_layout = "contiguous"
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        return _moment(x, dims, correction, keepdim, root=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return _variance_backward(grad, x, **ctx.settings)


class StandardDeviation(Primitive):
    """The square root of ``Variance``; backward reads x and the result, whose gradient is 0
    where the result is 0 (all values equal), not inf * 0, as PyTorch's."""

    output_layout = "contiguous"
    backward_reads = (0,)  # and the saved result

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        out = _moment(x, dims, correction, keepdim, root=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,), result = ctx.inputs, ctx.result(*ctx.saved_tensors)
        zero = Tensor(result._data == 0)
        grad_variance = where(zero, 0.0, grad / (2 * where(zero, 1.0, result)))
        return _variance_backward(grad_variance, x, **ctx.settings)


def _moment(x: np.ndarray, dims: tuple[int, ...], correction: float, keepdim: bool, root: bool) -> np.ndarray:
    """The variance (or with ``root`` its square root), dividing by max(0, N - correction).

    Accumulated in float64 for narrower floats and rounded once, as PyTorch's CPU kernel (in
    float32 alone, one result in three of small integer-valued inputs differed from PyTorch's by
    one unit in the last place, and a sort of near ties then put them in another order). The
    mean is corrected once by the mean deviation from it, so that equal values have a variance
    of exactly 0, as PyTorch's Welford kernel gives (sum / N of three equal values can be a unit
    off them, and std's gradient is then finite and large where PyTorch's is 0)."""
    wide = np.float64 if x.dtype.kind == "f" and x.dtype.itemsize < 8 else None
    count = math.prod(x.shape[d] for d in dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.mean(x, axis=dims, keepdims=True, dtype=wide)
        mean += np.mean(x - mean, axis=dims, keepdims=True)
        deviation = x - mean
        divisor = np.float64(count - correction if count > correction else 0)
        out = np.sum(deviation * deviation, axis=dims, keepdims=keepdim) / divisor
        if root:
            out = np.sqrt(out)
    return np.asarray(out if wide is None else out.astype(x.dtype))


def _variance_backward(grad: Tensor, x: Tensor, dims: tuple[int, ...], correction: float,
                       keepdim: bool) -> Tensor:
    """d var / dx times grad: 2 (x - mean) / (N - correction) (inf or nan where that is 0, as PyTorch)."""
    count = math.prod(x.shape[d] for d in dims)
    divisor = count - correction if count > correction else 0
    if not keepdim:
        grad = grad.reshape(_keepdim_shape(x.shape, dims))
    with np.errstate(divide="ignore"):
        scale = 2.0 / np.float64(divisor)
    return (x - x.mean(dims, keepdim=True)) * scale * grad


class MaxDim(Primitive):
    """The maximum along one dimension and its index; the gradient goes to that index."""

    output_layout = "contiguous"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        if x.shape[dim] == 0:
            raise ArgumentError(f"max: dimension {dim} of shape {x.shape} is empty")
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
        return where(Tensor(mask), grad.broadcast_to(mask.shape), 0.0)


def sum(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """The sum over ``dim`` (all dimensions when None); integers and bools sum to int64, as PyTorch."""
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = Tensor(x._data.astype(np.int64))
    return Sum.apply(x, dims=normalize_dims("sum", dim, x.ndim), keepdim=keepdim)


def mean(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    if x._data.dtype.kind != "f":
        raise DtypeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                         f"or complex dtype. Got: {x.dtype} (as in PyTorch: convert with .float() first)")
    return Mean.apply(x, dims=normalize_dims("mean", dim, x.ndim), keepdim=keepdim)


def max(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxResult:  # noqa: A001, A002
    """The maximum (ties share the gradient); with ``dim``, ``(values, indices)`` as in PyTorch."""
    return max_all(input) if dim is None else MaxResult(*max_dim(input, dim, keepdim))


def min(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxResult:  # noqa: A001, A002
    """The minimum (ties share the gradient); with ``dim``, ``(values, indices)`` as in PyTorch."""
    return min_all(input) if dim is None else MaxResult(*min_dim(input, dim, keepdim))


def max_all(x: Tensor) -> Tensor:
    return AMax.apply(x, dims=tuple(range(x.ndim)), keepdim=False, evenly=True)


def amax(x: Tensor, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
    """The maximum over ``dim`` (all dimensions when empty); ties share the gradient evenly."""
    dims = normalize_dims("amax", dim, x.ndim) if dim != () else tuple(range(x.ndim))
    return AMax.apply(x, dims=dims, keepdim=keepdim)


def amin(x: Tensor, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
    """The minimum over ``dim`` (all dimensions when empty); ties share the gradient evenly."""
    dims = normalize_dims("amin", dim, x.ndim) if dim != () else tuple(range(x.ndim))
    return AMin.apply(x, dims=dims, keepdim=keepdim)


def min_all(x: Tensor) -> Tensor:
    return AMin.apply(x, dims=tuple(range(x.ndim)), keepdim=False, evenly=True)


def min_dim(x: Tensor, dim: int, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """The minimum along ``dim`` and its (first) index; the gradient goes to that index."""
    dim = normalize_dim("min", dim, x.ndim)
    if x.ndim == 0:
        return x.clone(), Tensor(np.zeros((), dtype=np.int64))
    values, indices = MaxDim.apply(-x, dim=dim, keepdim=keepdim)
    return -values, indices


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) minimum; no gradient."""
    if dim is None:
        return Tensor(np.argmin(x._data))
    return Tensor(np.argmin(x._data, axis=normalize_dim("argmin", dim, x.ndim), keepdims=keepdim))


def _correction(op: str, x: Tensor, unbiased: bool | None, correction: float | None) -> float:
    """N - correction divides; ``unbiased=False`` means 0, the default 1 (Bessel's), as PyTorch."""
    if x._data.dtype.kind != "f":
        raise DtypeError(f"{op}: std and var only support floating point dtypes (as in PyTorch), got {x.dtype}")
    if unbiased is not None and correction is not None:
        raise ArgumentError(f"{op}: give unbiased or correction, not both")
    return (1 if unbiased is None or unbiased else 0) if correction is None else correction


def var(x: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """The variance over ``dim``, dividing by N - correction (default 1, Bessel's; ``unbiased=False``
    means 0), as PyTorch."""
    return Variance.apply(x, dims=normalize_dims("var", dim, x.ndim),
                          correction=_correction("var", x, unbiased, correction), keepdim=keepdim)


def std(x: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """The standard deviation: the square root of ``var`` with the same arguments."""
    return StandardDeviation.apply(x, dims=normalize_dims("std", dim, x.ndim),
                                   correction=_correction("std", x, unbiased, correction), keepdim=keepdim)


class LogSumExp(Primitive):
    """log(sum(exp(x))) over ``dims``, computed stably (the largest value is taken out first);
    backward reads x and the result, as PyTorch's: grad * exp(x - result)."""

    output_layout = "contiguous"
    backward_reads = (0,)  # and the saved result

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        top = np.amax(x, axis=dims, keepdims=True) if x.size else np.zeros(_keepdim_shape(x.shape, dims), x.dtype)
        top = np.where(np.isfinite(top), top, 0)  # all -inf: log(0) = -inf, not nan
        with np.errstate(divide="ignore"):
            total = np.log(np.exp(x - top).sum(axis=dims, keepdims=True)) + top
        out = total if keepdim else total.reshape([n for d, n in enumerate(x.shape) if d not in dims])
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,), result = ctx.inputs, ctx.result(*ctx.saved_tensors)
        shape = _keepdim_shape(x.shape, ctx.settings["dims"])
        return grad.reshape(shape) * (x - result.reshape(shape)).exp()


def logsumexp(x: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably."""
    return LogSumExp.apply(x, dims=normalize_dims("logsumexp", dim, x.ndim), keepdim=keepdim)


def max_dim(x: Tensor, dim: int, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    dim = normalize_dim("max", dim, x.ndim)
    if x.ndim == 0:  # the element itself, at index 0 (as PyTorch)
        return x.clone(), Tensor(np.zeros((), dtype=np.int64))
    return MaxDim.apply(x, dim=dim, keepdim=keepdim)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) maximum; no gradient."""
    if dim is None:
        return Tensor(np.argmax(x._data))
    dim = normalize_dim("argmax", dim, x.ndim)
    return Tensor(np.argmax(x._data, axis=dim, keepdims=keepdim))
