"""Pooling primitives: max_pool2d (with saved argmax positions) and avg_pool2d.

Both read windows through views of the padded input (``tinygrad_cnn.windows``), one view per
kernel offset, never a loop over pixels: each pass handles one offset of every window at once.

Max pooling remembers, for each output, which kernel offset held the first maximum of its
window. Its backward scatters to those offsets and the scatter's backward gathers from them
(PoolScatter and PoolGather are each other's adjoint), so higher derivatives work too.
The forward and the scatter run as threaded kernels (``tinygrad_cnn.kernels.pool``).

``ceil_mode`` keeps a last, partial window (PyTorch's rule), which needs a little extra
padding at the bottom and right (``windows.end_padding``). Adaptive pools choose their
windows from the output size: window i covers [floor(i * in / out), ceil((i + 1) * in / out)).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels, windows
from .. import memory_format as formats
from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, integer, pair

Pair = tuple[int, int]


# --------------------------------------------------------------------------- max pooling

class MaxPool2d(Primitive):
    output_layout = "suggest_first"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode):
        out_hw = windows.output_hw(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
        best, argmax = kernels.max_pool2d(x, kernel_size, stride, padding, dilation, out_hw,
                                          with_argmax=ctx.requires_grad)
        ctx.save_for_backward(argmax)  # which offset of each window held its first maximum
        return best

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        (argmax,) = ctx.saved_tensors
        return PoolScatter.apply(grad, Tensor(argmax), input_shape=x.shape, **ctx.settings_without("ceil_mode"))


class PoolScatter(Primitive):
    """Put each value at its window's recorded offset (``argmax``, an input that is not
    differentiated, as PyTorch passes pooling indices) in a zero image of ``input_shape``."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, values, argmax, input_shape, kernel_size, stride, padding, dilation):
        return kernels.max_pool2d_scatter(values, argmax, input_shape, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad):
        return PoolGather.apply(grad, ctx.inputs[1], **ctx.settings_without("input_shape")), None


class PoolGather(Primitive):
    """Read each window's value at its recorded offset (PoolScatter's adjoint)."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, image, argmax, kernel_size, stride, padding, dilation):
        out_hw = argmax.shape[2:]
        end = windows.end_padding(image.shape, kernel_size, stride, padding, dilation, out_hw)
        out = np.zeros_like(image, shape=argmax.shape)
        for k, view in enumerate(windows.offsets(windows.pad(image, padding, 0.0, end), kernel_size, stride,
                                                 out_hw, dilation)):
            out += view * (argmax == k)
        return out

    @staticmethod
    def backward(ctx, grad):
        image, argmax = ctx.inputs
        return PoolScatter.apply(grad, argmax, input_shape=image.shape, **ctx.settings), None


def _flat_indices(argmax: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """PyTorch's ``return_indices``: each window's maximum as h * W + w in its input plane."""
    oh, ow = argmax.shape[2:]
    i, j = np.divmod(argmax.astype(np.int64), kernel[1])
    h = np.arange(oh).reshape(-1, 1) * stride[0] + i * dilation[0] - padding[0]
    w = np.arange(ow) * stride[1] + j * dilation[1] - padding[1]
    return h * shape[3] + w


# --------------------------------------------------------------------------- average pooling

def _divisor(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, out_hw: Pair,
             count_include_pad: bool, divisor_override: int | None, dtype: np.dtype) -> np.ndarray | float:
    """What each window's sum is divided by: ``divisor_override``; or the window's size within
    the padded input (``count_include_pad``); or its count of real pixels."""
    if divisor_override is not None:
        return float(divisor_override)
    end = windows.end_padding(shape, kernel, stride, padding, (1, 1), out_hw)
    if end == (0, 0) and (count_include_pad or padding == (0, 0)):
        return float(kernel[0] * kernel[1])
    counted = np.ones(shape[2:], dtype=dtype)
    counted = windows.pad(counted, padding, 1.0 if count_include_pad else 0.0, (0, 0))
    counted = windows.pad(counted, (0, 0), 0.0, end)  # the ceil_mode margin never counts
    return sum(windows.offsets(counted, kernel, stride, out_hw))


class AvgPool2d(Primitive):
    output_layout = "suggest_first"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
        out_hw = windows.output_hw(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
        end = windows.end_padding(x.shape, kernel_size, stride, padding, (1, 1), out_hw)
        views = windows.offsets(windows.pad(x, padding, 0.0, end), kernel_size, stride, out_hw)
        total = np.empty_like(x, shape=x.shape[:2] + out_hw)
        np.copyto(total, next(views))
        for view in views:
            total += view
        total /= _divisor(x.shape, kernel_size, stride, padding, out_hw, count_include_pad, divisor_override,
                          x.dtype)
        return total

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return AvgPool2dBackward.apply(grad, input_shape=x.shape, **ctx.settings)


class AvgPool2dBackward(Primitive):
    """Spread each output gradient evenly over its window (the adjoint of AvgPool2d)."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, grad, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        n, c, h, w = input_shape
        out_hw = grad.shape[2:]
        (ph, pw), (eh, ew) = padding, windows.end_padding(input_shape, kernel_size, stride, padding, (1, 1), out_hw)
        share = grad / _divisor(input_shape, kernel_size, stride, padding, out_hw, count_include_pad,
                                divisor_override, grad.dtype)
        padded = np.zeros_like(grad, shape=(n, c, h + 2 * ph + eh, w + 2 * pw + ew))
        for view in windows.offsets(padded, kernel_size, stride, out_hw):
            view += share
        return windows.crop(padded, padding, (h, w))

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.apply(grad, **ctx.settings_without("input_shape"))


# --------------------------------------------------------------------------- adaptive pooling

def _adaptive_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's windows: [floor(i * size / out), ceil((i + 1) * size / out)) for each i."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def averaging_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i averages window i."""
    start, stop = _adaptive_bounds(size, out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < stop[:, None])
    return (inside / (stop - start)[:, None]).astype(dtype)


def _window_means(x: np.ndarray, output_size: Pair) -> np.ndarray:
    """Each adaptive window's mean from its own elements (the windows gathered, padded to the
    largest and masked), exact where x holds inf or NaN: the averaging matrices' zeros would
    make inf * 0 = NaN of every window's mean."""
    (h_start, h_stop), (w_start, w_stop) = (_adaptive_bounds(x.shape[2 + a], output_size[a]) for a in range(2))
    height, width = int((h_stop - h_start).max()), int((w_stop - w_start).max())
    rows, columns = h_start[:, None] + np.arange(height), w_start[:, None] + np.arange(width)
    inside = (rows < h_stop[:, None])[:, :, None, None] & (columns < w_stop[:, None])[None, None]
    windows = x[:, :, np.minimum(rows, x.shape[2] - 1)][..., np.minimum(columns, x.shape[3] - 1)]
    sums = np.where(inside, windows, 0).sum(axis=(3, 5))           # (N, C, OH, height, OW, width) -> (N, C, OH, OW)
    return (sums / ((h_stop - h_start)[:, None] * (w_stop - w_start)[None, :])).astype(x.dtype)


class AdaptiveAvgPool2d(Primitive):
    """The mean of each adaptive window: rows @ x @ columns.T with averaging matrices (windows
    summed one by one where x is not finite)."""

    output_layout = "suggest_first"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, output_size):
        if not np.isfinite(x).all():
            return _window_means(x, output_size)
        rows = averaging_matrix(x.shape[2], output_size[0], x.dtype)
        columns = averaging_matrix(x.shape[3], output_size[1], x.dtype)
        return np.matmul(np.matmul(rows, x), columns.T)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        rows = Tensor(averaging_matrix(x.shape[2], grad.shape[2], grad.dtype))
        columns = Tensor(averaging_matrix(x.shape[3], grad.shape[3], grad.dtype))
        return rows.T @ grad @ columns


def _adaptive_argmax(x: np.ndarray, output_size: Pair) -> np.ndarray:
    """For each adaptive window, the flat index h * W + w of its first maximum (row-major)."""
    (h_start, h_stop), (w_start, w_stop) = (_adaptive_bounds(x.shape[2 + a], output_size[a]) for a in range(2))
    height, width = int((h_stop - h_start).max()), int((w_stop - w_start).max())
    # every window padded to the largest by repeating its last row/column: repeats come after the
    # original, so the first maximum is still the real one
    rows = np.minimum(h_start[:, None] + np.arange(height), h_stop[:, None] - 1)       # (OH, height)
    cols = np.minimum(w_start[:, None] + np.arange(width), w_stop[:, None] - 1)        # (OW, width)
    flat = rows[:, None, :, None] * x.shape[3] + cols[None, :, None, :]                # (OH, OW, height, width)
    flat = flat.reshape(output_size + (height * width,))
    values = x.reshape(x.shape[:2] + (-1,))[:, :, flat]                                 # (N, C, OH, OW, hw)
    first = np.argmax(values, axis=-1)
    return np.take_along_axis(np.broadcast_to(flat, values.shape), first[..., None], -1)[..., 0]


# --------------------------------------------------------------------------- functional API

def _pool_arguments(op: str, x: Tensor, kernel_size, stride, padding, dilation=1,
                    ceil_mode=False) -> tuple[Pair, ...]:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim != 4 or 0 in x.shape[1:]:  # (only the batch may be empty, as in PyTorch)
        raise ArgumentError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input in which only the batch may be "
                            f"empty (PyTorch: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                            f"for input), got shape {x.shape}")
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    dilation = pair(op, "dilation", dilation, 1)
    for a, name in enumerate(("height", "width")):
        extent = dilation[a] * (kernel[a] - 1) + 1
        if 2 * padding[a] > kernel[a]:  # PyTorch's rule, on the kernel as given (not dilated)
            raise ArgumentError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
        if extent > x.shape[2 + a] + 2 * padding[a] and not ceil_mode:
            raise ArgumentError(
                f"{op}: kernel {name} {kernel[a]}{f' (dilated to {extent})' if extent != kernel[a] else ''} is "
                f"larger than the padded input {name} {x.shape[2 + a] + 2 * padding[a]} "
                f"(input {x.shape[2 + a]} + 2*padding {padding[a]})")
    out_hw = windows.output_hw(x.shape, kernel, stride, padding, dilation, ceil_mode)
    if min(out_hw) < 1:
        raise ArgumentError(f"{op}: an input of shape {x.shape} gives an output of size {out_hw} with kernel_size "
                            f"{kernel}, stride {stride}, padding {padding}, dilation {dilation}: too small")
    return kernel, stride, padding, dilation


def max_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
               dilation: int | Pair = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows; stride defaults to kernel_size; padding is -inf; the gradient goes
    to the first maximum of each window (as PyTorch). With ``return_indices``, also each
    maximum's flat index h * W + w in its input plane. A 3-D input is one unbatched image."""
    if isinstance(x, Tensor) and x.ndim == 3:
        out = max_pool2d(x.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        return tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)
    kernel, stride, padding, dilation = _pool_arguments("max_pool2d", x, kernel_size, stride, padding, dilation,
                                                        ceil_mode)
    out = MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                          ceil_mode=bool(ceil_mode))
    if not return_indices:
        return out
    out_hw = out.shape[2:]
    _, argmax = kernels.max_pool2d(x._data, kernel, stride, padding, dilation, out_hw, with_argmax=True)
    indices = _flat_indices(argmax, x.shape, kernel, stride, padding, dilation)
    return out, Tensor(formats.in_format(indices, formats.suggest(x._strides_array())))


def avg_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over windows; zero padding counts in the mean unless ``count_include_pad=False``;
    ``divisor_override`` replaces the divisor. A 3-D input is one unbatched image."""
    if isinstance(x, Tensor) and x.ndim == 3:
        return avg_pool2d(x.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    kernel, stride, padding, _ = _pool_arguments("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and integer("avg_pool2d", "divisor_override", divisor_override) == 0:
        raise ArgumentError("avg_pool2d: divisor_override must not be zero")
    return AvgPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding, ceil_mode=bool(ceil_mode),
                           count_include_pad=bool(count_include_pad), divisor_override=divisor_override)


def _adaptive_arguments(op: str, x: Tensor, output_size: Any) -> Pair:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ArgumentError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(sizes) != 2:
        raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(x.shape[-2 + a] if n is None else integer(op, "output_size", n) for a, n in enumerate(sizes))
    if min(sizes) < 1:
        raise ArgumentError(f"{op}: output_size must be at least 1, got {output_size!r} (input of shape {x.shape})")
    if 0 in x.shape[-2:]:
        raise ArgumentError(f"{op}: the input of shape {x.shape} has an empty spatial dimension")
    return sizes


def _batched(x: Tensor, pool: Any) -> Any:
    """Run a 4-D pool on a 3-D (C, H, W) input too, as PyTorch accepts both."""
    if x.ndim == 4:
        return pool(x)
    out = pool(x.unsqueeze(0))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


def adaptive_avg_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """The mean over adaptive windows (output_size None keeps that dimension's size)."""
    size = _adaptive_arguments("adaptive_avg_pool2d", x, output_size)

    def pool(t: Tensor) -> Tensor:
        if size == (1, 1):
            return t.mean((2, 3), keepdim=True)
        h, w = t.shape[2:]
        if h % size[0] == 0 and w % size[1] == 0:  # equal windows: an ordinary pool
            kernel = (h // size[0], w // size[1])
            return avg_pool2d(t, kernel, kernel)
        return AdaptiveAvgPool2d.apply(t, output_size=size)

    return _batched(x, pool)


def adaptive_max_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None],
                        return_indices: bool = False) -> Any:
    """The maximum over adaptive windows; the gradient goes to each window's first maximum."""
    size = _adaptive_arguments("adaptive_max_pool2d", x, output_size)

    def pool(t: Tensor) -> Any:
        n, c, h, w = t.shape
        if h % size[0] == 0 and w % size[1] == 0:  # equal windows: an ordinary pool
            kernel = (h // size[0], w // size[1])
            return max_pool2d(t, kernel, kernel, return_indices=return_indices)
        index = _adaptive_argmax(t._data, size)                                  # (N, C, OH, OW)
        out = t.reshape(n, c, h * w)[np.arange(n)[:, None, None], np.arange(c)[None, :, None],
                                     index.reshape(n, c, -1)].reshape(n, c, *size)
        form = formats.suggest(t._strides_array())  # PyTorch's layout
        out = out.contiguous(memory_format=form)
        return (out, Tensor(formats.in_format(index, form))) if return_indices else out

    return _batched(x, pool)
