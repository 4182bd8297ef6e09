"""Batch normalisation: one fused forward and one fused analytic backward.

Training normalises with the batch's biased variance and updates the running statistics in
place with the unbiased one (as PyTorch); evaluation is an affine map by the running
statistics, written with ordinary differentiable operations.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function, vjp_by_composition
from ..tensor import Tensor
from . import parallel
from .reduce import fast_sum


def _channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector against (N, C, *)."""
    return (1, channels) + (1,) * (ndim - 2)


def _reduce_axes(ndim: int) -> tuple[int, ...]:
    return (0,) + tuple(range(2, ndim))


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per channel, the sum over every other axis of a * b: one einsum over (M, C) rows when
    both are channels-last in memory (as after a convolution), without a temporary."""
    to_last = (0,) + tuple(range(2, a.ndim)) + (1,)
    rows_a, rows_b = a.transpose(to_last), b.transpose(to_last)
    if rows_a.flags.c_contiguous and rows_b.flags.c_contiguous:
        c = a.shape[1]
        return np.einsum("ij,ij->j", rows_a.reshape(-1, c), rows_b.reshape(-1, c))
    return np.sum(a * b, axis=_reduce_axes(a.ndim))


def _per_channel(kernel, n: int, elements: int) -> np.ndarray:  # noqa: ANN001
    """Sum the per-channel partial results that ``kernel(batch_slice)`` returns."""
    return sum(parallel.for_each_slice(kernel, n, elements))


CACHE_ELEMENTS = 1 << 17


def _centered_chunks(x: np.ndarray, mean: np.ndarray, batch: slice):  # noqa: ANN202
    """(chunk slice, x[chunk] - mean) over small pieces of ``batch``: the centred values live
    only in cache, never in a full-size array."""
    per_sample = max(1, x[0].size)
    step = max(1, CACHE_ELEMENTS // per_sample)
    for start in range(batch.start, batch.stop, step):
        chunk = slice(start, min(start + step, batch.stop))
        yield chunk, x[chunk] - mean


class BatchNorm(Function):
    """Training-mode batch norm of (N, C, *) input; updates running statistics in place.

    The variance is a second pass over centred values computed piece by piece in cache; the
    output x * scale + shift keeps the input's memory layout; backward recomputes the
    centring the same way, so no full-size centred array is ever stored.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        axes, shape = _reduce_axes(x.ndim), _channel_shape(x.ndim, x.shape[1])
        n, count = x.shape[0], x.size // x.shape[1]
        mean = fast_sum(x, axes) / count
        mean_b = mean.reshape(shape)
        squares = _per_channel(
            lambda b: sum(_channel_dot(c, c) for _, c in _centered_chunks(x, mean_b, b)), n, x.size)
        var = squares / count
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += (momentum * count / (count - 1)) * var
        ctx.save_for_backward(mean, invstd)
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        scale, shift = scale.reshape(shape), shift.reshape(shape)
        out = np.empty_like(x)

        def normalize(batch: slice) -> None:
            np.multiply(x[batch], scale, out=out[batch])
            out[batch] += shift

        parallel.for_each_slice(normalize, n, x.size)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, _ = ctx.inputs
        mean, invstd = ctx.saved_tensors
        grad_x, grad_w, grad_b = BatchNormBackward.apply(
            grad, x, weight, mean=mean, invstd=invstd, eps=ctx.settings["eps"])
        needs = ctx.needs_input_grad
        return (grad_x if needs[0] else None, grad_w if needs[1] else None,
                grad_b if needs[2] else None)


class BatchNormBackward(Function):
    """(grad, x, weight) -> (grad_x, grad_weight, grad_bias):

    grad_x = weight * invstd * (grad - mean(grad) - normalized * mean(grad * normalized)),
    with normalized = (x - mean) * invstd, computed as grad * scale + x * a + b per channel.
    """

    @staticmethod
    def forward(ctx, grad, x, weight, mean, invstd, eps):
        axes, shape = _reduce_axes(x.ndim), _channel_shape(x.ndim, x.shape[1])
        n, count = x.shape[0], x.size // x.shape[1]
        mean_b = mean.reshape(shape)
        grad_bias = fast_sum(grad, axes)
        grad_centered = _per_channel(
            lambda b: sum(_channel_dot(grad[chunk], c) for chunk, c in _centered_chunks(x, mean_b, b)), n, x.size)
        grad_weight = grad_centered * invstd  # = sum(grad * normalized)
        scale = invstd if weight is None else invstd * weight
        along_x = -scale * invstd * grad_weight / count
        offset = (-scale * grad_bias / count - along_x * mean).reshape(shape)
        scale, along_x = scale.reshape(shape), along_x.reshape(shape)
        grad_x = np.empty_like(grad)

        def combine(batch: slice) -> None:
            out = grad_x[batch]
            np.multiply(x[batch], along_x, out=out)
            out += offset
            out += grad[batch] * scale

        parallel.for_each_slice(combine, n, x.size)
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def backward(ctx, grad_grad_x, grad_grad_weight, grad_grad_bias):
        eps = ctx.settings["eps"]
        return vjp_by_composition(
            lambda g, x, w: _composite_backward(g, x, w, eps), ctx.inputs, ctx.needs_input_grad,
            (grad_grad_x, grad_grad_weight, grad_grad_bias))


def _composite_backward(grad: Tensor, x: Tensor, weight: Tensor | None, eps: float):
    """BatchNormBackward written with differentiable operations (for higher derivatives)."""
    axes, shape = _reduce_axes(x.ndim), _channel_shape(x.ndim, x.shape[1])
    count = x.data.size // x.shape[1]
    centered = x - x.mean(axes, keepdim=True)
    invstd = 1 / ((centered * centered).mean(axes, keepdim=True) + eps).sqrt()
    normalized = centered * invstd
    grad_bias = grad.sum(axes)
    grad_weight = (grad * normalized).sum(axes)
    scale = invstd if weight is None else invstd * weight.reshape(shape)
    grad_x = scale * (grad - grad_bias.reshape(shape) / count
                      - normalized * grad_weight.reshape(shape) / count)
    return grad_x, grad_weight, grad_bias


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over (N, C) or (N, C, *) input, per channel C."""
    op = "batch_norm"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *), got {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(
                f"{op}: {name} must have shape ({channels},) for input of shape {x.shape}, got {t.shape}")
    shape = _channel_shape(x.ndim, channels)
    if training:
        if x.data.size // channels <= 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got input of shape {x.shape}")
        return BatchNorm.apply(
            x, weight, bias, running_mean=None if running_mean is None else running_mean.data,
            running_var=None if running_var is None else running_var.data, momentum=momentum, eps=eps)
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: evaluation (training=False) needs running_mean and running_var")
    # An affine map per channel: x * scale + shift, two passes over x.
    invstd = (1.0 / np.sqrt(running_var.data + eps)).astype(x.dtype)
    scale = Tensor(invstd) if weight is None else weight * invstd
    shift = -Tensor(running_mean.data) * scale
    if bias is not None:
        shift = shift + bias
    return x * scale.reshape(shape) + shift.reshape(shape)
