"""Batch-norm kernels: per-channel statistics and the fused backward, in few passes.

No full-size centred copy of the input is ever stored: the variance and the backward
recentre small pieces of it in cache when they need them. Sums over (N, H, W) run as one
einsum over (M, C) rows when the data is channels-last in memory (as after a convolution).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .reduce import sum_axes
from .threads import for_each_slice

CACHE_ELEMENTS = 1 << 17


def reduce_axes(ndim: int) -> tuple[int, ...]:
    """The axes of (N, C, *) that a per-channel statistic sums over: all but C."""
    return (0,) + tuple(range(2, ndim))


def channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel vector against (N, C, *)."""
    return (1, channels) + (1,) * (ndim - 2)


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per channel, the sum over every other axis of a * b, without a temporary when both
    are channels-last in memory."""
    to_last = (0,) + tuple(range(2, a.ndim)) + (1,)
    rows_a, rows_b = a.transpose(to_last), b.transpose(to_last)
    if rows_a.flags.c_contiguous and rows_b.flags.c_contiguous:
        c = a.shape[1]
        return np.einsum("ij,ij->j", rows_a.reshape(-1, c), rows_b.reshape(-1, c))
    return np.sum(a * b, axis=reduce_axes(a.ndim))


def _per_channel(kernel: Callable[[slice], np.ndarray], n: int, elements: int) -> np.ndarray:
    """Sum the per-channel partial results that ``kernel(batch_slice)`` returns."""
    return sum(for_each_slice(kernel, n, elements))


def _centered_chunks(x: np.ndarray, mean: np.ndarray, batch: slice) -> Iterator[tuple[slice, np.ndarray]]:
    """(chunk slice, x[chunk] - mean) over small pieces of ``batch``: the centred values live
    only in cache, never in a full-size array."""
    per_sample = max(1, x[0].size)
    step = max(1, CACHE_ELEMENTS // per_sample)
    for start in range(batch.start, batch.stop, step):
        chunk = slice(start, min(start + step, batch.stop))
        yield chunk, x[chunk] - mean


def batch_norm_statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel of (N, C, *) ``x``: the mean and the biased variance (a second pass over
    centred values, which is exact where E[x^2] - E[x]^2 cancels)."""
    count = x.size // x.shape[1]
    mean = sum_axes(x, reduce_axes(x.ndim)) / count
    mean_b = mean.reshape(channel_shape(x.ndim, x.shape[1]))
    squares = _per_channel(
        lambda b: sum(_channel_dot(c, c) for _, c in _centered_chunks(x, mean_b, b)), x.shape[0], x.size)
    return mean, squares / count


def batch_norm_statistics_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    axes = reduce_axes(x.ndim)
    return x.mean(axis=axes), x.var(axis=axes)


def batch_norm_backward(grad: np.ndarray, x: np.ndarray, weight: np.ndarray | None, mean: np.ndarray,
                        invstd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grad_x, grad_weight, grad_bias) of training-mode batch norm, with grad_x computed as
    grad * scale + x * a + b per channel (three passes over the data in all)."""
    axes, shape = reduce_axes(x.ndim), channel_shape(x.ndim, x.shape[1])
    n, count = x.shape[0], x.size // x.shape[1]
    mean_b = mean.reshape(shape)
    grad_bias = sum_axes(grad, axes)
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

    for_each_slice(combine, n, x.size)
    return grad_x, grad_weight, grad_bias


def batch_norm_backward_reference(grad: np.ndarray, x: np.ndarray, weight: np.ndarray | None,
                                  mean: np.ndarray, invstd: np.ndarray
                                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """grad_x = weight * invstd * (grad - mean(grad) - normalized * mean(grad * normalized))."""
    axes, shape = reduce_axes(x.ndim), channel_shape(x.ndim, x.shape[1])
    normalized = (x - mean.reshape(shape)) * invstd.reshape(shape)
    grad_bias = grad.sum(axis=axes)
    grad_weight = (grad * normalized).sum(axis=axes)
    scale = invstd if weight is None else invstd * weight
    grad_x = scale.reshape(shape) * (grad - grad.mean(axis=axes, keepdims=True)
                                     - normalized * (grad * normalized).mean(axis=axes, keepdims=True))
    return grad_x, grad_weight, grad_bias
