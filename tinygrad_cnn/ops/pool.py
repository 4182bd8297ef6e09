"""Pooling primitives: max_pool2d (with saved argmax positions) and avg_pool2d.

Both read windows through a strided view of the padded input; no loop over pixels. Max
pooling remembers, for each output, the flat position of the first maximum of its window in
the padded input; its backward scatters to those positions and the scatter's backward gathers
from them (PoolScatter and PoolGather are each other's adjoint).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..tensor import Tensor
from .arguments import pair
from .conv import output_size

Pair = tuple[int, int]


def _pad(x: np.ndarray, padding: Pair, value: float) -> np.ndarray:
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    return padded


def _windows(xp: np.ndarray, kernel: Pair, stride: Pair, out_hw: Pair) -> np.ndarray:
    """A (N, C, OH, OW, kH, kW) read-only view of the windows of a padded NCHW array."""
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return as_strided(xp, (n, c) + tuple(out_hw) + tuple(kernel),
                      (sn, sc, sh * stride[0], sw * stride[1], sh, sw), writeable=False)


def _out_hw(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair) -> Pair:
    return tuple(output_size(shape[2 + a], kernel[a], stride[a], padding[a], 1) for a in range(2))


# --------------------------------------------------------------------------- max pooling

class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        xp = _pad(x, padding, -np.inf)
        out_hw = _out_hw(x.shape, kernel_size, stride, padding)
        n, c, oh, ow = x.shape[:2] + out_hw
        kh, kw = kernel_size
        flat = _windows(xp, kernel_size, stride, out_hw).reshape(n, c, oh, ow, kh * kw)
        local = flat.argmax(axis=-1)  # the first maximum of each window
        out = np.take_along_axis(flat, local[..., None], axis=-1)[..., 0]
        if ctx.requires_grad:
            hp, wp = xp.shape[2:]
            rows = np.arange(oh)[:, None] * stride[0] + local // kw
            cols = np.arange(ow) * stride[1] + local % kw
            planes = np.arange(n * c).reshape(n, c, 1, 1) * (hp * wp)
            ctx.save_for_backward(planes + rows * wp + cols)
            ctx.padded_shape = xp.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (positions,) = ctx.saved_tensors
        s = ctx.settings
        disjoint = all(st >= k for st, k in zip(s["stride"], s["kernel_size"]))
        return PoolScatter.apply(grad, positions=positions, padded_shape=ctx.padded_shape,
                                 padding=s["padding"], disjoint=disjoint)


class PoolScatter(Function):
    """Add each value at its flat position in a zero padded image, then crop the padding."""

    @staticmethod
    def forward(ctx, values, positions, padded_shape, padding, disjoint):
        out = np.zeros(int(np.prod(padded_shape)), dtype=values.dtype)
        if disjoint:  # every position appears once: a plain assignment is exact
            out[positions.ravel()] = values.ravel()
        else:
            out += np.bincount(positions.ravel(), weights=values.ravel(), minlength=out.size)
        (ph, pw), (hp, wp) = padding, padded_shape[2:]
        return out.reshape(padded_shape)[:, :, ph:hp - ph, pw:wp - pw]

    @staticmethod
    def backward(ctx, grad):
        s = ctx.settings
        return PoolGather.apply(grad, positions=s["positions"], padded_shape=s["padded_shape"],
                                padding=s["padding"], disjoint=s["disjoint"])


class PoolGather(Function):
    """Read the values at flat positions of the zero padded image (PoolScatter's adjoint)."""

    @staticmethod
    def forward(ctx, image, positions, padded_shape, padding, disjoint):
        return _pad(image, padding, 0.0).reshape(-1)[positions]

    @staticmethod
    def backward(ctx, grad):
        return PoolScatter.apply(grad, **ctx.settings)


# --------------------------------------------------------------------------- average pooling

def _divisor(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair,
             count_include_pad: bool, dtype: np.dtype) -> np.ndarray | float:
    """What each window's sum is divided by: the window size, or its count of real pixels."""
    if count_include_pad or padding == (0, 0):
        return float(kernel[0] * kernel[1])
    ones = _pad(np.ones((1, 1) + tuple(shape[2:]), dtype=dtype), padding, 0.0)
    return _windows(ones, kernel, stride, _out_hw(shape, kernel, stride, padding)).sum(axis=(-2, -1))[0, 0]


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        out_hw = _out_hw(x.shape, kernel_size, stride, padding)
        sums = _windows(_pad(x, padding, 0.0), kernel_size, stride, out_hw).sum(axis=(-2, -1))
        return sums / _divisor(x.shape, kernel_size, stride, padding, count_include_pad, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return AvgPool2dBackward.apply(grad, input_shape=x.shape, **ctx.settings)


class AvgPool2dBackward(Function):
    """Spread each output gradient evenly over its window (the adjoint of AvgPool2d)."""

    @staticmethod
    def forward(ctx, grad, input_shape, kernel_size, stride, padding, count_include_pad):
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        n, c, h, w = input_shape
        oh, ow = grad.shape[2:]
        share = grad / _divisor(input_shape, kernel_size, stride, padding, count_include_pad, grad.dtype)
        out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=grad.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw] += share
        return out[:, :, ph:ph + h, pw:pw + w]

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
