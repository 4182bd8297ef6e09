"""Batch-norm kernels: per-channel statistics and the fused backward, in few passes.

No full-size centred copy of the input is ever stored: the variance and the backward
recentre small pieces of it in cache when they need them. Every pass runs on the input's
memory as long rows (``layout.ChannelRows``), whichever of the two layouts it has.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .layout import ChannelRows
from .reduce import sum_axes
from .threads import for_each_slice

CACHE_ELEMENTS = 1 << 17


def reduce_axes(ndim: int) -> tuple[int, ...]:
    """The axes of (N, C, *) that a per-channel statistic sums over: all but C."""
    return (0,) + tuple(range(2, ndim))


def channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel vector against (N, C, *)."""
    return (1, channels) + (1,) * (ndim - 2)


def _chunks(batch: slice, sample_size: int) -> Iterator[slice]:
    """Pieces of ``batch`` small enough to stay in cache."""
    step = max(1, CACHE_ELEMENTS // max(1, sample_size))
    for start in range(batch.start, batch.stop, step):
        yield slice(start, min(start + step, batch.stop))


def _per_channel(layout: ChannelRows, terms: Callable[[slice], np.ndarray]) -> np.ndarray:
    """The per-channel sum over the batch of ``terms(chunk)``, chunk by chunk on the workers."""
    sample_size = layout.rows.size // layout.shape[0]
    partials = for_each_slice(lambda batch: sum(terms(chunk) for chunk in _chunks(batch, sample_size)),
                              layout.shape[0], layout.rows.size)
    return sum(partials)


def batch_norm_statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel of (N, C, *) ``x``: the mean and the biased variance (a second pass over
    centred values, which is exact where E[x^2] - E[x]^2 cancels)."""
    count = x.size // x.shape[1]
    mean = sum_axes(x, reduce_axes(x.ndim)) / count
    layout = ChannelRows.of(x)

    def squares(chunk: slice) -> np.ndarray:
        centred = layout.rows[layout.samples(chunk)] - layout.per_channel(mean, chunk)
        return layout.channel_dot(centred, centred)

    return mean, _per_channel(layout, squares) / count


def batch_norm_statistics_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    axes = reduce_axes(x.ndim)
    return x.mean(axis=axes), x.var(axis=axes)


def batch_norm_backward(grad: np.ndarray, x: np.ndarray, weight: np.ndarray | None, mean: np.ndarray,
                        invstd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grad_x, grad_weight, grad_bias) of training-mode batch norm, with grad_x computed as
    grad * scale + x * a + b per channel (three passes over the data in all)."""
    count = x.size // x.shape[1]
    layout = ChannelRows.of(x)
    grad_rows = layout.like(grad)
    grad_bias = sum_axes(layout.array(grad_rows), reduce_axes(x.ndim))

    def grad_dot_centred(chunk: slice) -> np.ndarray:
        rows = layout.samples(chunk)
        return layout.channel_dot(grad_rows[rows], layout.rows[rows] - layout.per_channel(mean, chunk))

    grad_weight = _per_channel(layout, grad_dot_centred) * invstd  # = sum(grad * normalized)
    scale = invstd if weight is None else invstd * weight
    along_x = -scale * invstd * grad_weight / count
    offset = -scale * grad_bias / count - along_x * mean
    result, grad_x = layout.empty(x, np.result_type(grad, x))

    def combine(batch: slice) -> None:
        rows = layout.samples(batch)
        out = grad_x[rows]
        np.multiply(layout.rows[rows], layout.per_channel(along_x, batch), out=out)
        out += layout.per_channel(offset, batch)
        out += grad_rows[rows] * layout.per_channel(scale, batch)

    for_each_slice(combine, x.shape[0], x.size)
    return result, grad_weight, grad_bias


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
