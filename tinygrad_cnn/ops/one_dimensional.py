"""1-D convolution and pooling as their 2-D forms over a height of 1.

A (N, C, L) signal is an (N, C, 1, L) image: the 2-D kernels, their gradients (first and second
order) and their ONNX mappings serve the 1-D layers unchanged, and a 1-D max pool's indices
(positions along L) are the 2-D ones (h * W + w with h = 0).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .arguments import ArgumentError
from .conv import conv2d, conv_transpose2d
from .pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d


def _single(op: str, name: str, value: Any) -> int:
    """An int, or a 1-tuple of one (PyTorch's ``_single``)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ArgumentError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return value


def _as_image(op: str, x: Tensor) -> tuple[Tensor, Callable[[Tensor], Tensor]]:
    """``x`` (N, C, L) or unbatched (C, L) as (N, C, 1, L), and how to turn a result back."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3):
        raise ArgumentError(f"{op}: expected 2D (unbatched) or 3D (batched) input, but got input of size: "
                            f"{list(x.shape)}")
    batched = x if x.ndim == 3 else x.unsqueeze(0)
    return batched.unsqueeze(2), (lambda y: y.squeeze(2) if x.ndim == 3 else y.squeeze(2).squeeze(0))


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of (N, C, L) with (O, C/groups, K) weights; ``padding`` may be
    "same" or "valid"."""
    image, back = _as_image("conv1d", input)
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ArgumentError(f"conv1d: expected a 3-D weight (out_channels, in_channels/groups, kernel), got "
                            f"{getattr(weight, 'shape', type(weight).__name__)}")
    padding = padding if isinstance(padding, str) else (0, _single("conv1d", "padding", padding))
    out = conv2d(image, weight.unsqueeze(2), bias, (1, _single("conv1d", "stride", stride)), padding,
                 (1, _single("conv1d", "dilation", dilation)), groups)
    return back(out)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """The adjoint of conv1d, with (C_in, O/groups, K) weights."""
    image, back = _as_image("conv_transpose1d", input)
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ArgumentError(f"conv_transpose1d: expected a 3-D weight, got "
                            f"{getattr(weight, 'shape', type(weight).__name__)}")
    one = "conv_transpose1d"
    out = conv_transpose2d(image, weight.unsqueeze(2), bias, (1, _single(one, "stride", stride)),
                           (0, _single(one, "padding", padding)), (0, _single(one, "output_padding", output_padding)),
                           groups, (1, _single(one, "dilation", dilation)))
    return back(out)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows of the last dimension; with ``return_indices``, each maximum's position."""
    image, back = _as_image("max_pool1d", input)
    one = "max_pool1d"
    stride = kernel_size if stride is None or stride == [] else stride
    out = max_pool2d(image, (1, _single(one, "kernel_size", kernel_size)), (1, _single(one, "stride", stride)),
                     (0, _single(one, "padding", padding)), (1, _single(one, "dilation", dilation)), ceil_mode,
                     return_indices)
    return (back(out[0]), back(out[1])) if return_indices else back(out)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of the last dimension."""
    image, back = _as_image("avg_pool1d", input)
    one = "avg_pool1d"
    stride = kernel_size if stride is None or stride == [] else stride
    return back(avg_pool2d(image, (1, _single(one, "kernel_size", kernel_size)), (1, _single(one, "stride", stride)),
                           (0, _single(one, "padding", padding)), ceil_mode, count_include_pad))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    image, back = _as_image("adaptive_avg_pool1d", input)
    return back(adaptive_avg_pool2d(image, (1, _single("adaptive_avg_pool1d", "output_size", output_size))))


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    image, back = _as_image("adaptive_max_pool1d", input)
    out = adaptive_max_pool2d(image, (1, _single("adaptive_max_pool1d", "output_size", output_size)), return_indices)
    return (back(out[0]), back(out[1])) if return_indices else back(out)
