"""Convolution primitives: conv2d, conv_transpose2d and conv2d's weight gradient.

The three close under differentiation: conv2d's backward is conv_transpose2d (input gradient)
plus conv2d_weight (weight gradient), and their backwards are made of the same three, so
derivatives of any order work.

Inside, images are handled channels-last (N, H, W, C): im2col is one copy of a strided
window view and each primitive is one matrix product, with the channel axis contiguous. The
results are returned as NCHW views of channels-last memory, which the next convolution reads
without a copy.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..tensor import Tensor
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


def _channels_last(x: np.ndarray) -> np.ndarray:
    return x.transpose(0, 2, 3, 1)


def _pad_channels_last(x: np.ndarray, padding: Pair) -> np.ndarray:
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, h, w, c = x.shape
    padded = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    padded[:, ph:ph + h, pw:pw + w] = x
    return padded


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
            out_hw: Pair, groups: int) -> np.ndarray:
    """Windows of NCHW ``x`` as a (groups, N*OH*OW, kH*kW*C/groups) matrix (one copy)."""
    xp = _pad_channels_last(_channels_last(x), padding)
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    (kh, kw), (oh, ow), cg = kernel, out_hw, c // groups
    windows = as_strided(
        xp,
        shape=(groups, n, oh, ow, kh, kw, cg),
        strides=(sc * cg, sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc),
        writeable=False,
    )
    return windows.reshape(groups, n * oh * ow, kh * kw * cg)


def _col2im(cols: np.ndarray, shape: tuple[int, int, int, int], kernel: Pair, stride: Pair,
            padding: Pair, dilation: Pair) -> np.ndarray:
    """Sum (N, H', W', kH, kW, C) window values back into an NCHW image of ``shape``.

    The adjoint of ``_im2col``: one strided add per kernel offset (kH*kW of them), never a
    loop over pixels.
    """
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = cols.shape[1], cols.shape[2]
    out = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw] += cols[:, :, :, i, j]
    return out[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)


def _grouped_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, M, K) @ (G, K, N), with a plain 2-D product (full BLAS speed) when G == 1."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return np.matmul(a, b)


def _weight_matrix(weight: np.ndarray, groups: int) -> np.ndarray:
    """(O, C/g, kH, kW) -> (G, kH*kW*C/g, O/g), matching ``_im2col``'s column order."""
    o, cg, kh, kw = weight.shape
    return weight.reshape(groups, o // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(
        groups, kh * kw * cg, o // groups)


def _from_group_columns(y: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """(G, N*H*W, O/g) -> NCHW view of channels-last (N, H, W, O) memory."""
    g, _, og = y.shape
    if g == 1:
        return y[0].reshape(n, h, w, og).transpose(0, 3, 1, 2)
    return y.reshape(g, n, h, w, og).transpose(1, 2, 3, 0, 4).reshape(n, h, w, g * og).transpose(0, 3, 1, 2)


def _to_group_rows(y: np.ndarray, groups: int) -> np.ndarray:
    """NCHW (N, O, H, W) -> (G, N*H*W, O/g)."""
    n, o, h, w = y.shape
    rows = _channels_last(y).reshape(n * h * w, groups, o // groups)
    return rows[None, :, 0] if groups == 1 else rows.transpose(1, 0, 2)


def _add_bias(out: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    if bias is not None:
        out += bias[:, None, None]
    return out


# --------------------------------------------------------------------------- primitives

class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        n, _, h, w = x.shape
        kernel = weight.shape[2:]
        oh = output_size(h, kernel[0], stride[0], padding[0], dilation[0])
        ow = output_size(w, kernel[1], stride[1], padding[1], dilation[1])
        cols = _im2col(x, kernel, stride, padding, dilation, (oh, ow), groups)
        out = _from_group_columns(_grouped_matmul(cols, _weight_matrix(weight, groups)), n, oh, ow)
        return _add_bias(out, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        s = ctx.settings
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            output_padding = tuple(
                output_padding_for(x.shape[2 + a], grad.shape[2 + a], weight.shape[2 + a],
                                   s["stride"][a], s["padding"][a], s["dilation"][a])
                for a in range(2))
            grad_x = ConvTranspose2d.apply(grad, weight, None, output_padding=output_padding, **s)
        if ctx.needs_input_grad[1]:
            grad_w = Conv2dWeight.apply(x, grad, kernel_size=weight.shape[2:], **s)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        n, _, h, w = x.shape
        c_in, cg, kh, kw = weight.shape
        out_hw = tuple(
            (size - 1) * stride[a] - 2 * padding[a] + dilation[a] * (k - 1) + output_padding[a] + 1
            for a, (size, k) in enumerate(((h, kh), (w, kw))))
        # The adjoint of conv2d: weight rows (C_in/g) -> columns (kH*kW*C_out/g), then col2im.
        weight_t = weight.reshape(groups, c_in // groups, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(
            groups, c_in // groups, kh * kw * cg)
        cols = _grouped_matmul(_to_group_rows(x, groups), weight_t)
        cols = cols.reshape(groups, n, h, w, kh, kw, cg)
        cols = cols[0] if groups == 1 else cols.transpose(1, 2, 3, 4, 5, 0, 6).reshape(n, h, w, kh, kw, groups * cg)
        image = _col2im(cols, (n, groups * cg) + out_hw, (kh, kw), stride, padding, dilation)
        return _add_bias(image, bias)

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
    """The gradient of conv2d with respect to its weight: (input x, output gradient) -> dW."""

    @staticmethod
    def forward(ctx, x, grad_out, kernel_size, stride, padding, dilation, groups):
        out_hw = grad_out.shape[2:]
        cols = _im2col(x, kernel_size, stride, padding, dilation, out_hw, groups)
        rows = _to_group_rows(grad_out, groups)                      # (G, M, O/g)
        dw = _grouped_matmul(rows.transpose(0, 2, 1), cols)          # (G, O/g, kH*kW*C/g)
        g, og, _ = dw.shape
        kh, kw = kernel_size
        cg = x.shape[1] // groups
        return np.ascontiguousarray(dw.reshape(g * og, kh, kw, cg).transpose(0, 3, 1, 2))

    @staticmethod
    def backward(ctx, grad):
        x, grad_out = ctx.inputs
        s = dict(ctx.settings)
        s.pop("kernel_size")
        grad_x = grad_g = None
        if ctx.needs_input_grad[0]:
            output_padding = tuple(
                output_padding_for(x.shape[2 + a], grad_out.shape[2 + a], grad.shape[2 + a],
                                   s["stride"][a], s["padding"][a], s["dilation"][a])
                for a in range(2))
            grad_x = ConvTranspose2d.apply(grad_out, grad, None, output_padding=output_padding, **s)
        if ctx.needs_input_grad[1]:
            grad_g = _conv2d_to_size(x, grad, grad_out.shape[2:], s)
        return grad_x, grad_g


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
