"""Convolution primitives: conv2d, conv_transpose2d and conv2d's weight gradient.

The three close under differentiation: conv2d's backward is conv_transpose2d (input gradient)
plus conv2d_weight (weight gradient), and their backwards are made of the same three, so
derivatives of any order work. How each one runs fast is in ``tinygrad_cnn.kernels.conv``: a
planner picks a backend (im2col, depthwise, narrow, scatter, ...) and ``tc.kernels.explain``
prints its choices; a plain einsum reference says what they all compute.
"""
from __future__ import annotations

from .. import kernels, windows
from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, integer, pair, same_float_dtype
from .pad import pad

Pair = tuple[int, int]


# --------------------------------------------------------------------------- primitives

class Conv2d(Primitive):
    output_layout = "suggest"
    defers_layout = True
    backward_reads = (0, 1)

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        wanted = ctx.needs_input_grad[1]  # x's im2col matrix, reused by the weight gradient
        out, columns = kernels.conv2d(x, weight, bias, stride, padding, dilation, groups, wanted)
        if wanted:
            ctx.save_for_backward(columns)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        s = ctx.settings
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _conv_transpose2d_to_size(grad, weight, x.shape, s)
        if ctx.needs_input_grad[1]:
            (columns,) = ctx.saved_tensors
            with_bias = ctx.needs_input_grad[2]  # the weight's product gives the bias gradient too
            grad_w = Conv2dWeight.apply(x, grad, columns, kernel_size=weight.shape[2:], with_bias=with_bias, **s)
            if with_bias:
                grad_w, grad_b = grad_w
        elif ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


class ConvTranspose2d(Primitive):
    output_layout = "suggest"
    defers_layout = True
    backward_reads = (0, 1)

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        out_hw = _transposed_output_hw(x.shape, weight.shape, stride, padding, dilation, output_padding)
        return kernels.conv_transpose2d(x, weight, bias, out_hw, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        s = ctx.settings_without("output_padding")
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _conv2d_to_size(grad, weight, x.shape[2:], s)
        if ctx.needs_input_grad[1]:
            grad_w = Conv2dWeight.apply(grad, x, None, kernel_size=weight.shape[2:], **s)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


class Conv2dWeight(Primitive):
    """The gradient of conv2d with respect to its weight: (input x, output gradient) -> dW, and
    with ``with_bias`` also the bias gradient (the output gradient summed over N, H, W).

    ``columns`` (an input that is not differentiated, as PyTorch passes pooling indices), when
    not None, is x's im2col matrix that conv2d's forward already built; its ones entry makes the
    bias gradient a by-product of the weight's.
    """

    @staticmethod
    def forward(ctx, x, grad_out, columns, kernel_size, stride, padding, dilation, groups, with_bias=False):
        return kernels.conv2d_weight(x, grad_out, kernel_size, stride, padding, dilation, groups, columns,
                                     with_bias)

    @staticmethod
    def backward(ctx, grad, grad_bias=None):
        x, grad_out, _ = ctx.inputs
        s = ctx.settings_without("kernel_size", "with_bias")
        grad_x = grad_g = None
        if ctx.needs_input_grad[0]:
            grad_x = _conv_transpose2d_to_size(grad_out, grad, x.shape, s)
        if ctx.needs_input_grad[1]:
            grad_g = _conv2d_to_size(x, grad, grad_out.shape[2:], s)
            if grad_bias is not None:
                grad_g = grad_g + grad_bias.reshape(1, -1, 1, 1)
        return grad_x, grad_g, None


def _conv_transpose2d_to_size(grad: Tensor, weight: Tensor, shape: tuple[int, ...], settings: dict) -> Tensor:
    """conv_transpose2d with the output_padding that gives back a conv2d input of ``shape``."""
    output_padding = tuple(
        windows.output_padding_for(shape[2 + a], grad.shape[2 + a], weight.shape[2 + a],
                           settings["stride"][a], settings["padding"][a], settings["dilation"][a])
        for a in range(2))
    return ConvTranspose2d.apply(grad, weight, None, output_padding=output_padding, **settings)


def _transposed_output_hw(x_shape: tuple[int, ...], weight_shape: tuple[int, ...], stride: Pair,
                          padding: Pair, dilation: Pair, output_padding: Pair) -> Pair:
    return tuple(windows.transposed_output_size(x_shape[2 + a], weight_shape[2 + a], stride[a], padding[a],
                                                dilation[a], output_padding[a]) for a in range(2))


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
            expected = "3-D (C, H, W) or 4-D (N, C, H, W) input" if name == "input" else "4-D weight"
            raise ArgumentError(f"{op}: expected a {expected}, got shape {t.shape}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.ndim != 1):
        raise ArgumentError(f"{op}: bias must be a 1-D Tensor, got {getattr(bias, 'shape', type(bias).__name__)}")
    same_float_dtype(op, input=x, weight=weight, bias=bias)


def _check_groups(op: str, groups: int, channels: int, other: int, other_name: str, weight: Tensor) -> int:
    groups = integer(op, "groups", groups, minimum=1)
    if weight.shape[0] < 1:  # (PyTorch's words; a division by 0 below otherwise)
        raise ArgumentError(f"{op}: given groups={groups}, expected weight to be at least 1 at dimension 0, "
                            f"but got weight of shape {weight.shape}")
    if channels % groups or other % groups:
        raise ArgumentError(
            f"{op}: groups={groups} must divide both in_channels ({channels}) and "
            f"{other_name} ({other})")
    return groups


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1,
           padding: int | Pair | str = 0, dilation: int | Pair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of NCHW ``x`` with (O, C/groups, kH, kW) weights.

    ``padding`` is an int, a pair, "valid" (none) or "same" (the output keeps the input's size;
    stride 1 only; an odd total puts the extra row or column at the bottom or right, as PyTorch).
    A 3-D ``x`` is one unbatched (C, H, W) image.
    """
    op = "conv2d"
    if isinstance(x, Tensor) and x.ndim == 3:
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    _check_tensors(op, x, weight, bias)
    stride, dilation = pair(op, "stride", stride, 1), pair(op, "dilation", dilation, 1)
    if isinstance(padding, str):
        before, after = same_padding(op, padding, weight.shape[2:], stride, dilation)
        if before != after:
            x = pad(x, (before[1], after[1], before[0], after[0]))
            before = (0, 0)
        padding = before
    padding = pair(op, "padding", padding, 0)
    o, cg, kh, kw = weight.shape
    groups = _check_groups(op, groups, x.shape[1], o, "out_channels", weight)
    if x.shape[1] != cg * groups:
        raise ArgumentError(
            f"{op}: input has {x.shape[1]} channels but weight of shape {weight.shape} with "
            f"groups={groups} expects {cg * groups}")
    if bias is not None and bias.shape != (o,):
        raise ArgumentError(f"{op}: bias must have shape ({o},), got {bias.shape}")
    for a, name in enumerate(("height", "width")):
        padded = x.shape[2 + a] + 2 * padding[a]
        extent = dilation[a] * (weight.shape[2 + a] - 1) + 1
        if extent > padded:
            raise ArgumentError(
                f"{op}: kernel {name} {weight.shape[2 + a]} (dilated to {extent}) is larger than "
                f"the padded input {name} {padded} (input {x.shape[2 + a]} + 2*padding {padding[a]})")
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def same_padding(op: str, padding: str, kernel: tuple[int, ...], stride: Pair,
                 dilation: Pair) -> tuple[Pair, Pair]:
    """(top, left) and (bottom, right) padding for ``padding="same"`` or ``"valid"``."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding != "same":
        raise ArgumentError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    if stride != (1, 1):
        raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions (stride {stride})")
    totals = [dilation[a] * (kernel[a] - 1) for a in range(2)]
    before = (totals[0] // 2, totals[1] // 2)
    return before, (totals[0] - before[0], totals[1] - before[1])


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1,
                     padding: int | Pair = 0, output_padding: int | Pair = 0, groups: int = 1,
                     dilation: int | Pair = 1) -> Tensor:
    """Transposed convolution (the adjoint of conv2d) with (C_in, C_out/groups, kH, kW) weights;
    a 3-D ``x`` is one unbatched image."""
    op = "conv_transpose2d"
    if isinstance(x, Tensor) and x.ndim == 3:
        return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    _check_tensors(op, x, weight, bias)
    stride, padding, dilation = pair(op, "stride", stride, 1), pair(op, "padding", padding, 0), \
        pair(op, "dilation", dilation, 1)
    output_padding = pair(op, "output_padding", output_padding, 0)
    c_in, cg, kh, kw = weight.shape
    groups = _check_groups(op, groups, x.shape[1], c_in, "the weight's first dimension", weight)
    if x.shape[1] != c_in:
        raise ArgumentError(
            f"{op}: input has {x.shape[1]} channels but weight of shape {weight.shape} expects {c_in}")
    if bias is not None and bias.shape != (cg * groups,):
        raise ArgumentError(f"{op}: bias must have shape ({cg * groups},), got {bias.shape}")
    out_hw = _transposed_output_hw(x.shape, weight.shape, stride, padding, dilation, output_padding)
    for a, size in enumerate(out_hw):
        if output_padding[a] >= max(stride[a], dilation[a]):
            raise ArgumentError(
                f"{op}: output_padding {output_padding} must be smaller than stride {stride} "
                f"or dilation {dilation}")
        if size <= 0:
            raise ArgumentError(f"{op}: the output would be empty along dimension {2 + a} (size {size})")
    return ConvTranspose2d.apply(x, weight, bias, stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation, groups=groups)
