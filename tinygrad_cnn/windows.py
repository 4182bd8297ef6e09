"""Sliding-window geometry shared by convolution and pooling.

A convolution or pooling layer slides a (kH, kW) window over a padded image: with stride s
and dilation d, output pixel (oh, ow) reads input rows ``oh * s + i * d`` for kernel offsets
``i`` (and columns alike). Everything here follows from that one formula: the output sizes,
the transposed convolution's size and its inverse, padding and cropping, and strided views
that show every window without copying the image.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool = False) -> int:
    """PyTorch's output length of a convolution or pooling window along one axis.

    With ``ceil_mode`` (pooling) a last, partial window is kept when it starts inside the
    input or its left padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


def output_hw(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair,
              dilation: Pair = (1, 1), ceil_mode: bool = False) -> Pair:
    """The (OH, OW) of windows slid over the last two axes of ``shape``."""
    return tuple(output_size(shape[-2 + a], kernel[a], stride[a], padding[a], dilation[a], ceil_mode)
                 for a in range(2))


def end_padding(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                out_hw: Pair) -> Pair:
    """How much padding beyond ``padding`` the bottom and right need so that ``out_hw`` windows
    fit (the partial last windows of ``ceil_mode``); usually (0, 0)."""
    return tuple(max(0, (out_hw[a] - 1) * stride[a] + dilation[a] * (kernel[a] - 1) + 1
                     - (shape[-2 + a] + 2 * padding[a])) for a in range(2))


def transposed_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                           output_padding: int) -> int:
    """Output length of a transposed convolution: the input length of the convolution it inverts."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def output_padding_for(size: int, out: int, kernel: int, stride: int, padding: int,
                       dilation: int) -> int:
    """The output_padding that makes a transposed convolution of length ``out`` give back ``size``
    (several input lengths give the same convolution output; this picks one)."""
    return size - transposed_output_size(out, kernel, stride, padding, dilation, 0)


def pad(x: np.ndarray, padding: Pair, value: float = 0.0, end: Pair = (0, 0)) -> np.ndarray:
    """``x`` with H and W (the last two axes) padded by ``value`` on both sides (and by ``end``
    more at the bottom and right), in x's memory layout."""
    (ph, pw), (eh, ew) = padding, end
    if ph == pw == eh == ew == 0:
        return x
    h, w = x.shape[-2:]
    padded = np.full_like(x, value, shape=x.shape[:-2] + (h + 2 * ph + eh, w + 2 * pw + ew))
    padded[..., ph:ph + h, pw:pw + w] = x
    return padded


def crop(padded: np.ndarray, padding: Pair, size: Pair) -> np.ndarray:
    """The (H, W) = ``size`` interior of an image padded by ``padding`` (undoes ``pad``)."""
    (ph, pw), (h, w) = padding, size
    return padded[..., ph:ph + h, pw:pw + w]


def sliding(padded: np.ndarray, kernel: Pair, stride: Pair, out_hw: Pair,
            dilation: Pair = (1, 1)) -> np.ndarray:
    """A (..., OH, OW, kH, kW) view of every window of an already padded image, no copy.

    ``view[..., oh, ow, i, j] == padded[..., oh * stride + i * dilation, ow * stride + j * dilation]``
    (per axis). The view is writeable when ``padded`` is; windows overlap when the stride is
    smaller than the kernel, so write through one kernel offset at a time (``offsets``).
    """
    sh, sw = padded.strides[-2:]
    return as_strided(
        padded, shape=padded.shape[:-2] + tuple(out_hw) + tuple(kernel),
        strides=padded.strides[:-2] + (sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]),
        writeable=padded.flags.writeable)


def live_taps(size: int, kernel: int, padding: int, dilation: int, out: int) -> tuple[int, int]:
    """The first and last kernel offsets, along one axis of a stride-1 window, that ever touch
    the input rather than only its padding (offset i reads input rows i * dilation - padding
    up to that plus out - 1). On an image smaller than its padding, as a network's last layers
    on small inputs have, the others only ever multiply zeros. first > last when no offset
    touches the input."""
    first = max(0, -(-(padding - out + 1) // dilation))
    return first, min(kernel - 1, (size - 1 + padding) // dilation)


def offsets(padded: np.ndarray, kernel: Pair, stride: Pair, out_hw: Pair, dilation: Pair = (1, 1)):
    """For each kernel offset (i, j), row-major, the (..., OH, OW) view of that pixel of every window.

    Pooling and its gradients loop over these kH * kW views, never over pixels.
    """
    view = sliding(padded, kernel, stride, out_hw, dilation)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield view[..., i, j]
