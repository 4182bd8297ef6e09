"""Elementwise kernels over large activations, split over the batch on the workers.

Each result keeps its input's memory layout (channels-last memory from a convolution stays
so), so the passes that follow read it in order.
"""
from __future__ import annotations

import numpy as np

from .layout import ChannelRows
from .threads import for_each_slice


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), as rows of x's memory against a row of zeros: NumPy's maximum against a
    scalar takes a loop about 2.5x slower than against an array."""
    if x.ndim < 2:
        return np.maximum(x, 0)
    layout = ChannelRows.of(x)
    result, out = layout.empty(x, x.dtype)
    zeros = np.zeros(layout.rows.shape[1], dtype=x.dtype)

    def part(batch: slice) -> None:
        rows = layout.samples(batch)
        np.maximum(layout.rows[rows], zeros, out=out[rows])

    for_each_slice(part, x.shape[0], x.size)
    return result


def relu_reference(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def threshold_backward(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    """0 where x <= 0, else grad (ReLU's backward, PyTorch's rule: a NaN x passes grad on), in
    one pass with no float mask array."""
    if grad.ndim == 0:
        return grad * np.logical_not(x <= 0)
    out = np.empty_like(grad, dtype=np.result_type(grad, x))

    def part(b: slice) -> None:
        passes = np.less_equal(x[b], 0)
        np.logical_not(passes, out=passes)
        np.multiply(grad[b], passes, out=out[b])

    for_each_slice(part, grad.shape[0], grad.size)
    return out


def threshold_backward_reference(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0, 0, grad).astype(np.result_type(grad, x))


def scale_shift_channels(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """x * scale + shift with per-channel ``scale``/``shift`` shaped to broadcast over (N, C, ...),
    in two passes over x's memory as long rows."""
    layout = ChannelRows.of(x)
    result, out = layout.empty(x, np.result_type(x, scale, shift))

    def part(batch: slice) -> None:
        rows = layout.samples(batch)
        np.multiply(layout.rows[rows], layout.per_channel(scale, batch), out=out[rows])
        out[rows] += layout.per_channel(shift, batch)

    for_each_slice(part, x.shape[0], x.size)
    return result


def scale_shift_channels_reference(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    return x * scale + shift


UPDATE_BLOCK = 1 << 17  # elements per pass of an in-place update: the block and its temporary stay in cache


def scale_add_into(target: np.ndarray, a: float, x: np.ndarray, b: float) -> np.ndarray:
    """``target *= a; target += b * x`` in place (an optimiser's update), block by block on the
    workers: no temporary the size of the parameter, the same roundings as the two NumPy lines.
    Operands in other layouts take the two NumPy lines."""
    if target.shape != x.shape or not (target.flags.c_contiguous and x.flags.c_contiguous):
        return scale_add_into_reference(target, a, x, b)
    flat_target, flat_x = target.reshape(-1), x.reshape(-1)

    def part(span: slice) -> None:
        scratch = np.empty(min(UPDATE_BLOCK, span.stop - span.start), dtype=np.result_type(x, b))
        for start in range(span.start, span.stop, UPDATE_BLOCK):
            block = slice(start, min(start + UPDATE_BLOCK, span.stop))
            if a != 1:
                flat_target[block] *= a
            if b == 1:  # momentum's buffer update adds the gradient as it is
                flat_target[block] += flat_x[block]
            else:
                flat_target[block] += np.multiply(flat_x[block], b, out=scratch[:block.stop - block.start])

    for_each_slice(part, flat_target.size, flat_target.size)
    return target


def scale_add_into_reference(target: np.ndarray, a: float, x: np.ndarray, b: float) -> np.ndarray:
    if a != 1:
        target *= a
    target += b * x
    return target
