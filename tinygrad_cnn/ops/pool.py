"""Pooling primitives: max_pool2d (with saved argmax positions) and avg_pool2d.

Both read windows through a strided view of the padded input and loop over the kH*kW kernel
offsets, never over pixels: each pass handles one offset of every window at once. Outputs
keep the input's memory layout (channels-last memory from a convolution stays so), so the
elementwise operations around them never mix layouts.

Max pooling remembers, for each output, which kernel offset held the first maximum of its
window. Its backward scatters to those offsets and the scatter's backward gathers from them
(PoolScatter and PoolGather are each other's adjoint), so higher derivatives work too.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..tensor import Tensor
from .arguments import pair
from . import parallel
from .conv import output_size, pad_spatial

Pair = tuple[int, int]


def _offsets(xp: np.ndarray, kernel: Pair, stride: Pair, out_hw: Pair) -> Iterator[np.ndarray]:
    """For each kernel offset (row-major), the (N, C, OH, OW) view of that pixel of every window."""
    sn, sc, sh, sw = xp.strides
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            base = xp[:, :, i:, j:]
            yield as_strided(base, xp.shape[:2] + tuple(out_hw), (sn, sc, sh * stride[0], sw * stride[1]),
                             writeable=xp.flags.writeable)


def _in_layout_of(array: np.ndarray, prototype: np.ndarray) -> np.ndarray:
    """``array``, copied if needed so its memory layout matches ``prototype``'s."""
    aligned = np.empty_like(prototype, dtype=array.dtype)
    if aligned.strides == array.strides:
        return array
    np.copyto(aligned, array)
    return aligned


def _out_hw(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair) -> Pair:
    return tuple(output_size(shape[2 + a], kernel[a], stride[a], padding[a], 1) for a in range(2))


# --------------------------------------------------------------------------- max pooling

class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        out_hw = _out_hw(x.shape, kernel_size, stride, padding)
        xp = pad_spatial(x, padding, -np.inf)
        best = np.empty_like(x, shape=x.shape[:2] + out_hw)
        argmax = np.empty_like(best, dtype=np.uint8 if kernel_size[0] * kernel_size[1] <= 256 else np.uint16) \
            if ctx.requires_grad else None

        def pool(batch: slice) -> None:
            views = list(_offsets(xp[batch], kernel_size, stride, out_hw))
            top = best[batch]
            if len(views) == 1:
                np.copyto(top, views[0])
            else:
                np.maximum(views[0], views[1], out=top)
            for view in views[2:]:
                np.maximum(top, view, out=top)
            if argmax is not None:
                _first_argmax(views, top, argmax[batch])

        parallel.for_each_slice(pool, x.shape[0], xp.size)
        ctx.save_for_backward(argmax)
        return best

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        (argmax,) = ctx.saved_tensors
        return PoolScatter.apply(grad, argmax=argmax, input_shape=x.shape, **ctx.settings)


def _first_argmax(views: list[np.ndarray], best: np.ndarray, index: np.ndarray) -> None:
    """Write into ``index`` which view first equals ``best``, elementwise, with no loop over
    pixels: index = miss_0 * (1 + miss_1 * (1 + ...)), built from the last offset backwards,
    where miss_k says offset k is not the maximum; ties therefore go to the first maximum."""
    index[...] = 0
    for view in reversed(views[:-1]):
        index += 1
        index *= np.not_equal(view, best)


class PoolScatter(Function):
    """Put each value at its window's recorded offset in a zero image of ``input_shape``."""

    @staticmethod
    def forward(ctx, values, argmax, input_shape, kernel_size, stride, padding):
        n, c, h, w = input_shape
        ph, pw = padding
        disjoint = stride[0] >= kernel_size[0] and stride[1] >= kernel_size[1]
        # Windows that tile the padded image exactly write every pixel: no need to zero it first.
        covered = disjoint and stride == kernel_size and all(
            (size + 2 * p) % k == 0 for size, p, k in zip((h, w), padding, kernel_size))
        # argmax has the pooled input's memory layout; the gradient image takes it too
        padded = (np.empty_like if covered else np.zeros_like)(
            argmax, dtype=values.dtype, shape=(n, c, h + 2 * ph, w + 2 * pw))
        values = _in_layout_of(values, argmax)  # a small copy that keeps the writes in memory order

        def scatter(batch: slice) -> None:
            for k, view in enumerate(_offsets(padded[batch], kernel_size, stride, values.shape[2:])):
                if disjoint:  # each pixel belongs to one window: write, don't accumulate
                    np.multiply(values[batch], argmax[batch] == k, out=view)
                else:
                    view += values[batch] * (argmax[batch] == k)

        parallel.for_each_slice(scatter, n, padded.size)
        return padded[:, :, ph:ph + h, pw:pw + w]

    @staticmethod
    def backward(ctx, grad):
        s = dict(ctx.settings)
        s.pop("input_shape")
        return PoolGather.apply(grad, **s)


class PoolGather(Function):
    """Read each window's value at its recorded offset (PoolScatter's adjoint)."""

    @staticmethod
    def forward(ctx, image, argmax, kernel_size, stride, padding):
        out = np.zeros_like(image, shape=argmax.shape)
        for k, view in enumerate(_offsets(pad_spatial(image, padding), kernel_size, stride, argmax.shape[2:])):
            out += view * (argmax == k)
        return out

    @staticmethod
    def backward(ctx, grad):
        (image,) = ctx.inputs
        return PoolScatter.apply(grad, input_shape=image.shape, **ctx.settings)


# --------------------------------------------------------------------------- average pooling

def _divisor(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair,
             count_include_pad: bool, dtype: np.dtype) -> np.ndarray | float:
    """What each window's sum is divided by: the window size, or its count of real pixels."""
    if count_include_pad or padding == (0, 0):
        return float(kernel[0] * kernel[1])
    ones = pad_spatial(np.ones((1, 1) + tuple(shape[2:]), dtype=dtype), padding)
    return sum(_offsets(ones, kernel, stride, _out_hw(shape, kernel, stride, padding)))[0, 0]


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        out_hw = _out_hw(x.shape, kernel_size, stride, padding)
        views = _offsets(pad_spatial(x, padding), kernel_size, stride, out_hw)
        total = np.empty_like(x, shape=x.shape[:2] + out_hw)
        np.copyto(total, next(views))
        for view in views:
            total += view
        total /= _divisor(x.shape, kernel_size, stride, padding, count_include_pad, x.dtype)
        return total

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return AvgPool2dBackward.apply(grad, input_shape=x.shape, **ctx.settings)


class AvgPool2dBackward(Function):
    """Spread each output gradient evenly over its window (the adjoint of AvgPool2d)."""

    @staticmethod
    def forward(ctx, grad, input_shape, kernel_size, stride, padding, count_include_pad):
        n, c, h, w = input_shape
        ph, pw = padding
        share = grad / _divisor(input_shape, kernel_size, stride, padding, count_include_pad, grad.dtype)
        padded = np.zeros_like(grad, shape=(n, c, h + 2 * ph, w + 2 * pw))
        for view in _offsets(padded, kernel_size, stride, grad.shape[2:]):
            view += share
        return padded[:, :, ph:ph + h, pw:pw + w]

    @staticmethod
    def backward(ctx, grad):
        s = dict(ctx.settings)
        s.pop("input_shape")
        return AvgPool2d.apply(grad, **s)


# --------------------------------------------------------------------------- functional API

def _pool_arguments(op: str, x: Tensor, kernel_size, stride, padding) -> tuple[Pair, Pair, Pair]:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    for a, name in enumerate(("height", "width")):
        if 2 * padding[a] > kernel[a]:
            raise ValueError(
                f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
        if kernel[a] > x.shape[2 + a] + 2 * padding[a]:
            raise ValueError(
                f"{op}: kernel {name} {kernel[a]} is larger than the padded input {name} "
                f"{x.shape[2 + a] + 2 * padding[a]} (input {x.shape[2 + a]} + 2*padding {padding[a]})")
    return kernel, stride, padding


def max_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0) -> Tensor:
    """Max over windows; stride defaults to kernel_size; padding is -inf; the gradient goes
    to the first maximum of each window (as PyTorch)."""
    kernel, stride, padding = _pool_arguments("max_pool2d", x, kernel_size, stride, padding)
    return MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding)


def avg_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, count_include_pad: bool = True) -> Tensor:
    """Mean over windows; zero padding counts in the mean unless ``count_include_pad=False``."""
    kernel, stride, padding = _pool_arguments("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                           count_include_pad=count_include_pad)
