"""Pooling primitives: max_pool2d (with saved argmax positions) and avg_pool2d.

Both read windows through views of the padded input (``tinygrad_cnn.windows``), one view per
kernel offset, never a loop over pixels: each pass handles one offset of every window at once.

Max pooling remembers, for each output, which kernel offset held the first maximum of its
window. Its backward scatters to those offsets and the scatter's backward gathers from them
(PoolScatter and PoolGather are each other's adjoint), so higher derivatives work too.
The forward and the scatter run as threaded kernels (``tinygrad_cnn.kernels.pool``).
"""
from __future__ import annotations

import numpy as np

from .. import kernels, windows
from ..autograd import Function
from ..tensor import Tensor
from .arguments import pair

Pair = tuple[int, int]


# --------------------------------------------------------------------------- max pooling

class MaxPool2d(Function):
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        best, argmax = kernels.max_pool2d(x, kernel_size, stride, padding, with_argmax=ctx.requires_grad)
        ctx.save_for_backward(argmax)  # which offset of each window held its first maximum
        return best

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        (argmax,) = ctx.saved_tensors
        return PoolScatter.apply(grad, argmax=argmax, input_shape=x.shape, **ctx.settings)


class PoolScatter(Function):
    """Put each value at its window's recorded offset in a zero image of ``input_shape``."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, values, argmax, input_shape, kernel_size, stride, padding):
        return kernels.max_pool2d_scatter(values, argmax, input_shape, kernel_size, stride, padding)

    @staticmethod
    def backward(ctx, grad):
        return PoolGather.apply(grad, **ctx.settings_without("input_shape"))


class PoolGather(Function):
    """Read each window's value at its recorded offset (PoolScatter's adjoint)."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, image, argmax, kernel_size, stride, padding):
        out = np.zeros_like(image, shape=argmax.shape)
        for k, view in enumerate(windows.offsets(windows.pad(image, padding), kernel_size, stride, argmax.shape[2:])):
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
    ones = windows.pad(np.ones(shape[2:], dtype=dtype), padding)
    return sum(windows.offsets(ones, kernel, stride, windows.output_hw(shape, kernel, stride, padding)))


class AvgPool2d(Function):
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        out_hw = windows.output_hw(x.shape, kernel_size, stride, padding)
        views = windows.offsets(windows.pad(x, padding), kernel_size, stride, out_hw)
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

    backward_reads = ()

    @staticmethod
    def forward(ctx, grad, input_shape, kernel_size, stride, padding, count_include_pad):
        n, c, h, w = input_shape
        ph, pw = padding
        share = grad / _divisor(input_shape, kernel_size, stride, padding, count_include_pad, grad.dtype)
        padded = np.zeros_like(grad, shape=(n, c, h + 2 * ph, w + 2 * pw))
        for view in windows.offsets(padded, kernel_size, stride, grad.shape[2:]):
            view += share
        return windows.crop(padded, padding, (h, w))

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.apply(grad, **ctx.settings_without("input_shape"))


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
