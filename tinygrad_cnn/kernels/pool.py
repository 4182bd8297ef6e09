"""Max-pooling kernels: one pass per kernel offset over strided views, split over the batch.

The forward remembers, for each output, which kernel offset held the first maximum of its
window (a ``uint8`` when the window has at most 256 pixels); the scatter writes gradients
back to those offsets in the pooled input's memory layout.
"""
from __future__ import annotations

import numpy as np

from .. import windows
from .elementwise import select_bits
from .threads import for_each_slice

Pair = tuple[int, int]


def _first_argmax(views: list[np.ndarray], best: np.ndarray, index: np.ndarray) -> None:
    """Write into ``index`` which view first equals ``best``, elementwise, with no loop over
    pixels: index = miss_0 * (1 + miss_1 * (1 + ...)), built from the last offset backwards,
    where miss_k says offset k is not the maximum; ties therefore go to the first maximum. A NaN
    is the maximum of its window (np.maximum propagates it), and the offset of the window's last
    NaN is recorded, as PyTorch's kernel does."""
    index[...] = 0
    for view in reversed(views[:-1]):
        index += 1
        index *= np.not_equal(view, best)
    if best.dtype.kind == "f" and np.isnan(np.max(best, initial=-np.inf)):  # one cheap pass decides
        for k, view in enumerate(views):
            np.copyto(index, k, where=np.isnan(view))


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair,
               with_argmax: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The maximum of each of the ``out_hw`` windows (padding is -inf) and, if asked, the
    kernel offset of its first maximum."""
    end = windows.end_padding(x.shape, kernel, stride, padding, dilation, out_hw)
    xp = windows.pad(x, padding, -np.inf, end)
    best = np.empty_like(x, shape=x.shape[:2] + out_hw)
    index_type = np.uint8 if kernel[0] * kernel[1] <= 256 else np.uint16
    argmax = np.empty_like(best, dtype=index_type) if with_argmax else None

    def pool(batch: slice) -> None:
        views = list(windows.offsets(xp[batch], kernel, stride, out_hw, dilation))
        top = best[batch]
        if len(views) == 1:
            np.copyto(top, views[0])
        else:
            np.maximum(views[0], views[1], out=top)
        for view in views[2:]:
            np.maximum(top, view, out=top)
        if argmax is not None:
            _first_argmax(views, top, argmax[batch])

    for_each_slice(pool, x.shape[0], xp.size)
    return best, argmax


def max_pool2d_reference(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair,
                         with_argmax: bool) -> tuple[np.ndarray, np.ndarray | None]:
    end = windows.end_padding(x.shape, kernel, stride, padding, dilation, out_hw)
    view = windows.sliding(windows.pad(x, padding, -np.inf, end), kernel, stride, out_hw, dilation)
    flat = view.reshape(view.shape[:4] + (-1,))
    return flat.max(axis=-1), flat.argmax(axis=-1) if with_argmax else None


def _in_layout_of(array: np.ndarray, prototype: np.ndarray) -> np.ndarray:
    """``array``, copied if needed so its memory layout matches ``prototype``'s."""
    aligned = np.empty_like(prototype, dtype=array.dtype)
    if aligned.strides == array.strides:
        return array
    np.copyto(aligned, array)
    return aligned


def max_pool2d_scatter(values: np.ndarray, argmax: np.ndarray, input_shape: tuple[int, ...],
                       kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> np.ndarray:
    """A zero image of ``input_shape`` with each value added at its window's recorded offset."""
    n, c, h, w = input_shape
    out_hw = values.shape[2:]
    (ph, pw), (eh, ew) = padding, windows.end_padding(input_shape, kernel, stride, padding, dilation, out_hw)
    disjoint = all(stride[a] >= dilation[a] * (kernel[a] - 1) + 1 for a in range(2))
    # Windows that tile the padded image exactly write every pixel: no need to zero it first.
    covered = disjoint and stride == kernel and (h + 2 * ph + eh, w + 2 * pw + ew) == (
        out_hw[0] * kernel[0], out_hw[1] * kernel[1])
    # argmax has the pooled input's memory layout; the gradient image takes it too
    padded = (np.empty_like if covered else np.zeros_like)(
        argmax, dtype=values.dtype, shape=(n, c, h + 2 * ph + eh, w + 2 * pw + ew))
    values = _in_layout_of(values, argmax)  # a small copy that keeps the writes in memory order

    def scatter(batch: slice) -> None:
        for k, view in enumerate(windows.offsets(padded[batch], kernel, stride, out_hw, dilation)):
            mask = argmax[batch] == k  # (selected by bits: an infinite or NaN value elsewhere gives 0, not NaN)
            if disjoint:  # each pixel belongs to one window: write, don't accumulate
                select_bits(values[batch], mask, view)
            else:
                view += select_bits(values[batch], mask, np.empty_like(values[batch]))

    for_each_slice(scatter, n, padded.size)
    return windows.crop(padded, padding, (h, w))


def max_pool2d_scatter_reference(values: np.ndarray, argmax: np.ndarray, input_shape: tuple[int, ...],
                                 kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> np.ndarray:
    n, c, h, w = input_shape
    end = windows.end_padding(input_shape, kernel, stride, padding, dilation, values.shape[2:])
    padded = np.zeros((n, c, h + 2 * padding[0] + end[0], w + 2 * padding[1] + end[1]), dtype=values.dtype)
    for k, view in enumerate(windows.offsets(padded, kernel, stride, values.shape[2:], dilation)):
        view += np.where(argmax == k, values, 0)
    return windows.crop(padded, padding, (h, w))
