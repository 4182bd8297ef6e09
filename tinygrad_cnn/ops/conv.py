"""Convolution primitives: conv2d, conv_transpose2d and conv2d's weight gradient.

The three close under differentiation: conv2d's backward is conv_transpose2d (input gradient)
plus conv2d_weight (weight gradient), and their backwards are made of the same three, so
derivatives of any order work.

Each primitive is one matrix product (per kernel offset for a stride-1 transposed
convolution). im2col copies the input's windows into a matrix whose layout follows the
input's memory: windows as rows (channels innermost) for channels-last memory, as columns
(width innermost) for NCHW memory, so the copy always runs along contiguous memory. Results
are NCHW views of channels-last memory, which the next convolution and the elementwise
operations read without a copy. conv2d keeps its im2col matrix for the weight gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..tensor import Tensor
from . import parallel
from .arguments import pair

Pair = tuple[int, int]


# --------------------------------------------------------------------------- shared kernels

def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """PyTorch's output length of a convolution or pooling window along one axis."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def output_padding_for(size: int, out: int, kernel: int, stride: int, padding: int,
                       dilation: int) -> int:
    """The output_padding that makes conv_transpose2d give back ``size`` from ``out``."""
    return size + 2 * padding - dilation * (kernel - 1) - 1 - (out - 1) * stride


def _is_channels_last(x: np.ndarray) -> bool:
    return x.strides[1] < x.strides[3]


def pad_spatial(x: np.ndarray, padding: Pair, value: float = 0.0) -> np.ndarray:
    """Pad H and W of NCHW ``x`` with ``value``, keeping its memory layout."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    padded = np.full_like(x, value, shape=(n, c, h + 2 * ph, w + 2 * pw))
    padded[:, :, ph:ph + h, pw:pw + w] = x
    return padded


def _grouped_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, M, K) @ (G, K, N), one 2-D product per group, rows split over the workers."""
    return np.stack([parallel.matmul(a[g], b[g]) for g in range(a.shape[0])]) if a.shape[0] > 1 \
        else parallel.matmul(a[0], b[0])[None]


def _grouped_matmul_inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, P, M) @ (G, M, Q) for a long shared dimension M (weight gradients)."""
    return np.stack([parallel.matmul_inner(a[g], b[g]) for g in range(a.shape[0])])


@dataclass
class Columns:
    """An input's im2col matrix, per group: ``rows`` (G, M, K) with K ordered (kH, kW, C/g),
    or ``k_major`` (G, K, M) with K ordered (C/g, kH, kW); M runs over (N, OH, OW).

    With ``ones`` (one group only) K gains a last entry of ones, so the product with a
    weight matrix extended by the bias adds the bias for free.
    """

    data: np.ndarray
    k_major: bool
    ones: bool = False

    @classmethod
    def of(cls, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
           out_hw: Pair, groups: int, ones: bool = False) -> Columns:
        if ones and groups != 1:
            raise ValueError("Columns: a ones entry needs a single group")
        xp = pad_spatial(x, padding)
        n, c = x.shape[:2]
        (kh, kw), (oh, ow), cg = kernel, out_hw, c // groups
        k = kh * kw * cg
        sn, sc, sh, sw = xp.strides
        if _is_channels_last(x):  # one copy of the window view, channels innermost
            windows = as_strided(
                xp, shape=(groups, n, oh, ow, kh, kw, cg),
                strides=(sc * cg, sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc),
                writeable=False)
            data = np.empty((groups, n, oh, ow, k + ones), dtype=x.dtype)
            item = data.itemsize
            body = as_strided(data, shape=windows.shape,
                              strides=data.strides[:4] + (kw * cg * item, cg * item, item))
            parallel.for_each_slice(lambda b: np.copyto(body[:, b], windows[:, b]), n, body.size)
            if ones:
                data[..., k] = 1
            return cls(data.reshape(groups, n * oh * ow, k + ones), k_major=False, ones=ones)
        data = np.empty((k * groups + ones, n, oh, ow), dtype=x.dtype)
        body = data[:k * groups].reshape(c, kh, kw, n, oh, ow)

        def copy(batch: slice) -> None:  # one copy per kernel offset, along rows of the image
            for i in range(kh):
                for j in range(kw):
                    view = as_strided(xp[batch, :, i * dilation[0]:, j * dilation[1]:],
                                      shape=(batch.stop - batch.start, c, oh, ow),
                                      strides=(sn, sc, sh * stride[0], sw * stride[1]), writeable=False)
                    body[:, i, j, batch] = view.transpose(1, 0, 2, 3)

        parallel.for_each_slice(copy, n, body.size)
        if ones:
            data[k] = 1
        return cls(data.reshape(groups, k + ones, n * oh * ow), k_major=True, ones=ones)

    def times_weight(self, weight: np.ndarray, groups: int, bias: np.ndarray | None = None) -> np.ndarray:
        """The convolution as (G, M, O/g) = columns @ weight (+ bias, when built with ones)."""
        o, cg, kh, kw = weight.shape
        grouped = weight.reshape(groups, o // groups, cg, kh, kw)
        if self.k_major:  # K ordered (C/g, kH, kW): the weight's own order
            matrix = grouped.reshape(groups, o // groups, -1).transpose(0, 2, 1)
        else:
            matrix = grouped.transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * cg, o // groups)
        if self.ones:
            matrix = np.concatenate([matrix, bias.reshape(1, 1, o).astype(matrix.dtype)], axis=1)
        return _grouped_matmul(self.data.transpose(0, 2, 1) if self.k_major else self.data, matrix)

    def weight_gradient(self, rows: np.ndarray, kernel: Pair) -> np.ndarray:
        """(O, C/g, kH, kW) = output-gradient rows (G, M, O/g) transposed @ columns."""
        g, _, og = rows.shape
        kh, kw = kernel
        k = self.data.shape[1 if self.k_major else 2] - self.ones
        if self.k_major:  # (K, M) @ (M, O/g): BLAS is faster this way round for small K
            grad = _grouped_matmul_inner(self.data, rows)[:, :k]
            return np.ascontiguousarray(grad.transpose(0, 2, 1)).reshape(g * og, -1, kh, kw)
        grad = _grouped_matmul_inner(rows.transpose(0, 2, 1), self.data)[:, :, :k]
        return np.ascontiguousarray(grad.reshape(g * og, kh, kw, -1).transpose(0, 3, 1, 2))


def _from_group_columns(y: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """(G, N*H*W, O/g) -> NCHW view of channels-last (N, H, W, O) memory."""
    g, _, og = y.shape
    if g == 1:
        return y[0].reshape(n, h, w, og).transpose(0, 3, 1, 2)
    return y.reshape(g, n, h, w, og).transpose(1, 2, 3, 0, 4).reshape(n, h, w, g * og).transpose(0, 3, 1, 2)


def _to_group_rows(y: np.ndarray, groups: int) -> np.ndarray:
    """NCHW (N, O, H, W) -> (G, N*H*W, O/g)."""
    n, o, h, w = y.shape
    rows = y.transpose(0, 2, 3, 1).reshape(n * h * w, groups, o // groups)
    return rows[None, :, 0] if groups == 1 else rows.transpose(1, 0, 2)


def _add_bias(out: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    if bias is not None:
        column = bias[:, None, None]
        parallel.for_each_slice(lambda b: np.add(out[b], column, out=out[b]), out.shape[0], out.size)
    return out


def _transposed_conv(x: np.ndarray, weight: np.ndarray, out_hw: Pair, stride: Pair, padding: Pair,
                     dilation: Pair, groups: int) -> np.ndarray:
    """Scatter every input pixel's weighted kernel into the output (the adjoint of im2col +
    matmul): per kernel offset, one matrix product added into a shifted view of the output."""
    n, c_in, h, w = x.shape
    _, cg, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    grouped = weight.reshape(groups, c_in // groups, cg, kh, kw)
    padded = np.zeros((n, out_hw[0] + 2 * ph, out_hw[1] + 2 * pw, groups * cg), dtype=x.dtype)

    def scatter(batch: slice) -> None:  # each worker owns a slice of the batch
        rows = _to_group_rows(x[batch], groups)                          # (G, n*H*W, C_in/g)
        size = batch.stop - batch.start
        for i in range(kh):
            for j in range(kw):
                part = _from_group_columns(np.matmul(rows, grouped[:, :, :, i, j]), size, h, w)
                target = padded[batch, i * dh:i * dh + (h - 1) * sh + 1:sh, j * dw:j * dw + (w - 1) * sw + 1:sw]
                target += part.transpose(0, 2, 3, 1)

    parallel.for_each_slice(scatter, n, padded.size)
    return padded[:, ph:ph + out_hw[0], pw:pw + out_hw[1]].transpose(0, 3, 1, 2)


# --------------------------------------------------------------------------- primitives

class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        n, _, h, w = x.shape
        kernel = weight.shape[2:]
        oh = output_size(h, kernel[0], stride[0], padding[0], dilation[0])
        ow = output_size(w, kernel[1], stride[1], padding[1], dilation[1])
        fold_bias = bias is not None and groups == 1  # a column of ones adds it in the product
        columns = Columns.of(x, kernel, stride, padding, dilation, (oh, ow), groups, ones=fold_bias)
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(columns)  # reused by the weight gradient
        out = _from_group_columns(columns.times_weight(weight, groups, bias if fold_bias else None), n, oh, ow)
        return out if fold_bias else _add_bias(out, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        s = ctx.settings
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _conv_transpose2d_to_size(grad, weight, x.shape, s)
        if ctx.needs_input_grad[1]:
            (columns,) = ctx.saved_tensors
            grad_w = Conv2dWeight.apply(x, grad, kernel_size=weight.shape[2:], columns=columns, **s)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        h, w = x.shape[2:]
        kh, kw = weight.shape[2:]
        out_hw = tuple(
            (size - 1) * stride[a] - 2 * padding[a] + dilation[a] * (k - 1) + output_padding[a] + 1
            for a, (size, k) in enumerate(((h, kh), (w, kw))))
        return _add_bias(_transposed_conv(x, weight, out_hw, stride, padding, dilation, groups), bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        s = dict(ctx.settings)
        s.pop("output_padding")
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _conv2d_to_size(grad, weight, x.shape[2:], s)
        if ctx.needs_input_grad[1]:
            grad_w = Conv2dWeight.apply(grad, x, kernel_size=weight.shape[2:], **s)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


class Conv2dWeight(Function):
    """The gradient of conv2d with respect to its weight: (input x, output gradient) -> dW.

    ``columns``, when given, is x's im2col matrix that conv2d's forward already built.
    """

    @staticmethod
    def forward(ctx, x, grad_out, kernel_size, stride, padding, dilation, groups, columns=None):
        if columns is None:
            columns = Columns.of(x, kernel_size, stride, padding, dilation, grad_out.shape[2:], groups)
        return columns.weight_gradient(_to_group_rows(grad_out, groups), kernel_size)

    @staticmethod
    def backward(ctx, grad):
        x, grad_out = ctx.inputs
        s = dict(ctx.settings)
        s.pop("kernel_size")
        s.pop("columns", None)
        grad_x = grad_g = None
        if ctx.needs_input_grad[0]:
            grad_x = _conv_transpose2d_to_size(grad_out, grad, x.shape, s)
        if ctx.needs_input_grad[1]:
            grad_g = _conv2d_to_size(x, grad, grad_out.shape[2:], s)
        return grad_x, grad_g


def _conv_transpose2d_to_size(grad: Tensor, weight: Tensor, shape: tuple[int, ...], settings: dict) -> Tensor:
    """conv_transpose2d with the output_padding that gives back a conv2d input of ``shape``."""
    output_padding = tuple(
        output_padding_for(shape[2 + a], grad.shape[2 + a], weight.shape[2 + a],
                           settings["stride"][a], settings["padding"][a], settings["dilation"][a])
        for a in range(2))
    return ConvTranspose2d.apply(grad, weight, None, output_padding=output_padding, **settings)


def _conv2d_to_size(x: Tensor, weight: Tensor, size: tuple[int, int], settings: dict) -> Tensor:
    """conv2d cropped to ``size``: when a transposed convolution's output_padding is at least
    its stride (allowed when dilation is larger), conv2d of its output has extra trailing
    rows or columns that correspond to no input pixel."""
    out = Conv2d.apply(x, weight, None, **settings)
    if out.shape[2:] != tuple(size):
        out = out[:, :, :size[0], :size[1]]
    return out


# --------------------------------------------------------------------------- functional API

def _check_tensors(op: str, x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    for name, t in (("input", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim != 4:
            expected = "(N, C, H, W)" if name == "input" else "4-D"
            raise ValueError(f"{op}: expected a 4-D {name} {expected}, got shape {t.shape}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.ndim != 1):
        raise ValueError(f"{op}: bias must be a 1-D Tensor, got {getattr(bias, 'shape', type(bias).__name__)}")


def _check_groups(op: str, groups: int, channels: int, other: int, other_name: str) -> None:
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if channels % groups or other % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide both in_channels ({channels}) and "
            f"{other_name} ({other})")


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1,
           padding: int | Pair = 0, dilation: int | Pair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of NCHW ``x`` with (O, C/groups, kH, kW) weights."""
    op = "conv2d"
    _check_tensors(op, x, weight, bias)
    stride, padding, dilation = pair(op, "stride", stride, 1), pair(op, "padding", padding, 0), \
        pair(op, "dilation", dilation, 1)
    o, cg, kh, kw = weight.shape
    _check_groups(op, groups, x.shape[1], o, "out_channels")
    if x.shape[1] != cg * groups:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels but weight of shape {weight.shape} with "
            f"groups={groups} expects {cg * groups}")
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {bias.shape}")
    for a, name in enumerate(("height", "width")):
        padded = x.shape[2 + a] + 2 * padding[a]
        extent = dilation[a] * (weight.shape[2 + a] - 1) + 1
        if extent > padded:
            raise ValueError(
                f"{op}: kernel {name} {weight.shape[2 + a]} (dilated to {extent}) is larger than "
                f"the padded input {name} {padded} (input {x.shape[2 + a]} + 2*padding {padding[a]})")
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1,
                     padding: int | Pair = 0, output_padding: int | Pair = 0, groups: int = 1,
                     dilation: int | Pair = 1) -> Tensor:
    """Transposed convolution (the adjoint of conv2d) with (C_in, C_out/groups, kH, kW) weights."""
    op = "conv_transpose2d"
    _check_tensors(op, x, weight, bias)
    stride, padding, dilation = pair(op, "stride", stride, 1), pair(op, "padding", padding, 0), \
        pair(op, "dilation", dilation, 1)
    output_padding = pair(op, "output_padding", output_padding, 0)
    c_in, cg, kh, kw = weight.shape
    _check_groups(op, groups, x.shape[1], c_in, "the weight's first dimension")
    if x.shape[1] != c_in:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels but weight of shape {weight.shape} expects {c_in}")
    if bias is not None and bias.shape != (cg * groups,):
        raise ValueError(f"{op}: bias must have shape ({cg * groups},), got {bias.shape}")
    for a in range(2):
        if output_padding[a] >= max(stride[a], dilation[a]):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than stride {stride} "
                f"or dilation {dilation}")
        size = (x.shape[2 + a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (
            weight.shape[2 + a] - 1) + output_padding[a] + 1
        if size <= 0:
            raise ValueError(f"{op}: the output would be empty along dimension {2 + a} (size {size})")
    return ConvTranspose2d.apply(x, weight, bias, stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation, groups=groups)
