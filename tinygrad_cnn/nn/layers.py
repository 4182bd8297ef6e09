"""The standard layers: thin Modules that hold parameters and call the functional API."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .. import windows
from ..ops.arguments import integer, pair, single
from ..ops.conv import same_padding
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter, parameter_dtype

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _uniform_parameter(shape: tuple[int, ...], bound: float, dtype: np.dtype) -> Parameter:
    return init.uniform_(Parameter(np.empty(shape, dtype=dtype)), -bound, bound)


class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features), PyTorch's initialisation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        in_features = integer("Linear", "in_features", in_features, minimum=0)
        out_features = integer("Linear", "out_features", out_features, minimum=0)
        dtype = parameter_dtype(device, dtype)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(in_features) if in_features else 0.0
        self.bias = _uniform_parameter((out_features,), bound, dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: checked settings, the weight and bias with
    PyTorch's initialisation, the repr."""

    def __init__(self, name: str, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, groups: int, bias: bool, padding_mode: str, weight_shape: tuple[int, int],
                 device: Any, dtype: Any, dims: int = 2) -> None:
        super().__init__()
        self.in_channels = integer(name, "in_channels", in_channels, minimum=1)
        self.out_channels = integer(name, "out_channels", out_channels, minimum=1)
        self.groups = integer(name, "groups", groups, minimum=1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: groups={self.groups} must divide in_channels ({self.in_channels}) "
                             f"and out_channels ({self.out_channels})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                             f"got {padding_mode!r}")
        as_tuple = pair if dims == 2 else single
        self.kernel_size = as_tuple(name, "kernel_size", kernel_size, 1)
        self.stride = as_tuple(name, "stride", stride, 1)
        self.padding = padding if isinstance(padding, str) else as_tuple(name, "padding", padding, 0)
        self.dilation = as_tuple(name, "dilation", dilation, 1)
        self.padding_mode = padding_mode
        dtype = parameter_dtype(device, dtype)
        self.weight = Parameter(np.empty(weight_shape + self.kernel_size, dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
        self.bias = _uniform_parameter((self.out_channels,), 1 / math.sqrt(fan_in), dtype) if bias else None

    def extra_repr(self) -> str:
        zeros, ones = (0,) * len(self.kernel_size), (1,) * len(self.kernel_size)
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != zeros:
            text += f", padding={self.padding}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", zeros) != zeros:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text + (f", padding_mode={self.padding_mode}" if self.padding_mode != "zeros" else "")


class Conv2d(_ConvNd):
    """2-D convolution layer over NCHW input, weight (out, in/groups, kH, kW); ``padding`` may be
    "same" or "valid", and ``padding_mode`` pads with zeros, a reflection, the edge or a wrap."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        in_channels = integer("Conv2d", "in_channels", in_channels, minimum=1)
        groups = integer("Conv2d", "groups", groups, minimum=1)
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, (out_channels, in_channels // groups), device, dtype)
        if isinstance(self.padding, str):
            same_padding("Conv2d", self.padding, self.kernel_size, self.stride, self.dilation)  # checks it

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if isinstance(self.padding, str):
            before, after = same_padding("Conv2d", self.padding, self.kernel_size, self.stride, self.dilation)
        else:
            before = after = self.padding
        padded = F.pad(x, (before[1], after[1], before[0], after[0]), mode=self.padding_mode)
        return F.conv2d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C, L) input, weight (out, in/groups, K): the 2-D layer over
    a height of 1 (``ops/one_dimensional.py``), with PyTorch's state-dict layout."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] | str = 0, dilation: int | tuple[int] = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        in_channels = integer("Conv1d", "in_channels", in_channels, minimum=1)
        groups = integer("Conv1d", "groups", groups, minimum=1)
        super().__init__("Conv1d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, (out_channels, in_channels // groups), device, dtype, dims=1)
        if isinstance(self.padding, str):
            same_padding("Conv1d", self.padding, (1, *self.kernel_size), (1, *self.stride), (1, *self.dilation))

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if isinstance(self.padding, str):
            before, after = same_padding("Conv1d", self.padding, (1, *self.kernel_size), (1, *self.stride),
                                         (1, *self.dilation))
            before, after = before[1], after[1]
        else:
            before = after = self.padding[0]
        padded = F.pad(x, (before, after), mode=self.padding_mode)
        return F.conv1d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class ConvTranspose1d(_ConvNd):
    """Transposed 1-D convolution layer, weight (in, out/groups, K)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] = 0, output_padding: int | tuple[int] = 0,
                 groups: int = 1, bias: bool = True, dilation: int | tuple[int] = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose1d: only 'zeros' padding_mode is supported, got {padding_mode!r}")
        out_channels = integer("ConvTranspose1d", "out_channels", out_channels, minimum=1)
        groups = integer("ConvTranspose1d", "groups", groups, minimum=1)
        super().__init__("ConvTranspose1d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, (in_channels, out_channels // groups), device, dtype, dims=1)
        self.output_padding = single("ConvTranspose1d", "output_padding", output_padding, 0)

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = (windows.output_padding_for(tuple(output_size)[-1], x.shape[-1], self.kernel_size[0],
                                                         self.stride[0], self.padding[0], self.dilation[0]),)
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                                  self.dilation)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution layer, weight (in, out/groups, kH, kW): the adjoint of Conv2d,
    used to upsample."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int, int] = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only 'zeros' padding_mode is supported, got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair, got {padding!r}")
        out_channels = integer("ConvTranspose2d", "out_channels", out_channels, minimum=1)
        groups = integer("ConvTranspose2d", "groups", groups, minimum=1)
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, (in_channels, out_channels // groups), device, dtype)
        self.output_padding = pair("ConvTranspose2d", "output_padding", output_padding, 0)

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        output_padding = self.output_padding
        if output_size is not None:  # choose the output_padding that gives this size (PyTorch's option)
            size = tuple(output_size)[-2:]
            output_padding = tuple(
                windows.output_padding_for(size[a], x.shape[2 + a], self.kernel_size[a], self.stride[a],
                                           self.padding[a], self.dilation[a]) for a in range(2))
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                                  self.dilation)


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``."""

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Zero elements with probability p in training (``functional``: which dropout)."""

    functional = staticmethod(F.dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return self.functional(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) input."""

    functional = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) input."""

    functional = staticmethod(F.dropout2d)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) input."""

    functional = staticmethod(F.dropout3d)


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
