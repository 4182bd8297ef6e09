"""Batch-norm kernels: per-channel statistics and the fused backward, in few passes.

No full-size centred copy of the input is ever stored: the variance and the backward
recentre pieces of it when they need them. Every pass runs on the input's memory as long
rows (``layout.ChannelRows``), whichever of the two layouts it has.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .layout import ChannelRows
from .reduce import sum_axes
from .threads import for_each_slice

# Elements of a piece: it bounds the temporaries (a centred piece) on very large inputs. Pieces
# small enough for the cache measured slower, from the NumPy calls per piece and, on two
# threads, the workers taking turns at the GIL between them (idea 53).
PIECE_ELEMENTS = 1 << 21


def reduce_axes(ndim: int) -> tuple[int, ...]:
    """The axes of (N, C, *) that a per-channel statistic sums over: all but C."""
    return (0,) + tuple(range(2, ndim))


def channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel vector against (N, C, *)."""
    return (1, channels) + (1,) * (ndim - 2)


def _pieces(layout: ChannelRows, batch: slice, *vectors: np.ndarray
            ) -> Iterator[tuple[slice, list[np.ndarray]]]:
    """The rows of ``batch`` in pieces of about PIECE_ELEMENTS, each with the per-channel
    ``vectors`` shaped to broadcast against it (tiled once for the whole batch)."""
    shaped = [layout.per_channel(v, batch) for v in vectors]
    step = max(1, PIECE_ELEMENTS // max(1, layout.rows.size // layout.shape[0]))
    for start in range(batch.start, batch.stop, step):
        rows = layout.samples(slice(start, min(start + step, batch.stop)))
        if layout.channels_last:  # every row holds the same channels
            yield rows, shaped
        else:  # a channel per row: the vectors' rows that go with these
            first = (start - batch.start) * layout.rows_per_sample
            yield rows, [v[first:first + rows.stop - rows.start] for v in shaped]


def batch_norm_statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel of (N, C, *) ``x``: the mean and the biased variance (a second pass over
    centred values, which is exact where E[x^2] - E[x]^2 cancels)."""
    count = x.size // x.shape[1]
    mean = sum_axes(x, reduce_axes(x.ndim)) / count
    layout = ChannelRows.of(x)

    def squares(batch: slice) -> np.ndarray:
        total = 0
        for rows, (centre,) in _pieces(layout, batch, mean):
            centred = layout.rows[rows] - centre
            total = total + layout.channel_sum(np.square(centred, out=centred))
        return total

    return mean, sum(for_each_slice(squares, x.shape[0], x.size)) / count


def batch_norm_statistics_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    axes = reduce_axes(x.ndim)
    return x.mean(axis=axes), x.var(axis=axes)


def batch_norm_backward(grad: np.ndarray, x: np.ndarray, weight: np.ndarray | None, mean: np.ndarray,
                        invstd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grad_x, grad_weight, grad_bias) of training-mode batch norm, with grad_x computed as
    grad * scale + x * a + b per channel: two passes over grad and x, in pieces,
    one for both per-channel sums and one for grad_x."""
    count = x.size // x.shape[1]
    layout = ChannelRows.of(x)
    grad_rows = layout.like(grad)

    def sums(batch: slice) -> tuple[np.ndarray, np.ndarray]:
        """The per-channel sums of grad and of grad * (x - mean) over ``batch``."""
        grad_sum = grad_dot = 0
        for rows, (centre,) in _pieces(layout, batch, mean):
            g = grad_rows[rows]
            centred = layout.rows[rows] - centre
            grad_sum = grad_sum + layout.channel_sum(g)
            grad_dot = grad_dot + layout.channel_sum(np.multiply(centred, g, out=centred))
        return grad_sum, grad_dot

    partials = for_each_slice(sums, x.shape[0], x.size)
    grad_bias = sum(p[0] for p in partials)
    grad_weight = sum(p[1] for p in partials) * invstd  # = sum(grad * normalized)
    scale = invstd if weight is None else invstd * weight
    along_x = -scale * invstd * grad_weight / count
    offset = -scale * grad_bias / count - along_x * mean
    result, grad_x = layout.empty(x, np.result_type(grad, x))

    def combine(batch: slice) -> None:
        scratch = None
        for rows, (on_grad, shift, on_x) in _pieces(layout, batch, scale, offset, along_x):
            out = grad_x[rows]
            np.multiply(grad_rows[rows], on_grad, out=out)
            out += shift
            if scratch is None:
                scratch = np.empty_like(out)
            out += np.multiply(layout.rows[rows], on_x, out=scratch[:out.shape[0]])

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
