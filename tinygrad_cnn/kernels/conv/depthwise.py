"""The depthwise backends: one input and one output channel per group (MobileNet's 3x3 layers).

A grouped product per channel would be a thousand tiny matrix products. Instead each kernel
offset's view of the input is multiplied by that offset's weights, one per channel, and
added over whole images in the input's memory layout (idea 24), along whole channels-last
output rows (idea 41); the transposed convolution adds each offset's products where the
offset lands (idea 42), and the weight gradient is a dot product per offset and channel.
"""
from __future__ import annotations

import numpy as np

from ... import windows
from ..layout import is_channels_last
from ..threads import for_each_slice

Pair = tuple[int, int]


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair, padding: Pair,
           dilation: Pair, out_hw: Pair) -> np.ndarray:
    """out[:, c] = sum over offsets (i, j) of that offset's view of x[:, c] times weight[c, 0, i, j],
    in x's memory layout (channels-last stays channels-last)."""
    n, c = x.shape[:2]
    kh, kw = weight.shape[2:]
    xp = windows.pad(x, padding)
    dtype = np.result_type(x, weight)
    if is_channels_last(x):
        return _forward_rows(xp, weight, bias, stride, dilation, out_hw, dtype)
    out = np.empty((n, c, *out_hw), dtype=dtype)
    taps = weight.reshape(c, kh * kw).T[:, :, None, None]                 # (kH*kW, C, 1, 1)

    def part(batch: slice) -> None:
        target = out[batch]
        scratch = np.empty_like(target)
        for k, view in enumerate(windows.offsets(xp[batch], (kh, kw), stride, out_hw, dilation)):
            if k == 0:
                np.multiply(view, taps[0], out=target)
            else:
                target += np.multiply(view, taps[k], out=scratch)
        if bias is not None:
            target += bias[:, None, None]

    for_each_slice(part, n, out.size * kh * kw)
    return out


def _forward_rows(xp: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair,
                  dilation: Pair, out_hw: Pair, dtype: np.dtype) -> np.ndarray:
    """``conv2d`` for channels-last input: each offset's view is (N, OH, OW * C) with
    whole output rows contiguous, against that offset's weights tiled OW times, so NumPy's loops
    run along rows instead of one pixel's C channels. With a column stride s the padded input
    is first split into its s column phases (one copy), each read at stride 1."""
    n, c = xp.shape[:2]
    kh, kw = weight.shape[2:]
    (oh, ow), (dh, dw), (sh, sw) = out_hw, dilation, stride
    out = np.empty((n, oh, ow, c), dtype=dtype)
    rows = out.reshape(n, oh, ow * c)
    taps = np.tile(weight.reshape(c, kh * kw).T, (1, ow))                    # (kH*kW, OW*C)
    pixels = xp.transpose(0, 2, 3, 1)                                      # (N, Hp, Wp, C)

    def part(batch: slice) -> None:
        target = rows[batch]
        scratch = np.empty_like(target)
        phases = [pixels[batch, :, b::sw] if sw == 1 else np.ascontiguousarray(pixels[batch, :, b::sw])
                  for b in range(sw)]
        for k in range(kh * kw):
            i, j = divmod(k, kw)
            phase, start = phases[j * dw % sw], j * dw // sw
            view = phase[:, i * dh:i * dh + (oh - 1) * sh + 1:sh, start:start + ow].reshape(-1, oh, ow * c)
            if k == 0:
                np.multiply(view, taps[0], out=target)
            else:
                target += np.multiply(view, taps[k], out=scratch)
        if bias is not None:
            target += np.tile(bias, ow)

    for_each_slice(part, n, out.size * kh * kw)
    return out.transpose(0, 3, 1, 2)


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, out_hw: Pair, stride: Pair, padding: Pair,
                     dilation: Pair) -> np.ndarray:
    """The transposed depthwise convolution (a depthwise layer's input gradient): each input
    pixel times its channel's weight at offset (i, j) is added where that offset lands, as
    whole rows of channels-last memory when the column stride is 1 (a grouped product per
    channel would be a thousand 1x1 matrix products)."""
    n, c, h, w = x.shape
    kh, kw = weight.shape[2:]
    (dh, dw), (sh, sw), dtype = dilation, stride, np.result_type(x, weight)
    padded = np.zeros((n, out_hw[0] + 2 * padding[0], out_hw[1] + 2 * padding[1], c), dtype=dtype)
    source = x.transpose(0, 2, 3, 1)                                         # (N, H, W, C)
    taps = weight.reshape(c, kh * kw).T                                     # (kH*kW, C)
    if sw == 1:  # whole rows: (N, H, W*C) against a tap tiled W times
        source, taps = source.reshape(n, h, w * c), np.tile(taps, (1, w))

    def part(batch: slice) -> None:
        scratch = np.empty(source[batch].shape, dtype=dtype)
        for k in range(kh * kw):
            i, j = divmod(k, kw)
            target = padded[batch, i * dh:i * dh + (h - 1) * sh + 1:sh, j * dw:j * dw + (w - 1) * sw + 1:sw]
            if sw == 1:
                target = target.reshape(-1, h, w * c, copy=False)  # a view: written through
            target += np.multiply(source[batch], taps[k], out=scratch)

    for_each_slice(part, n, x.size * kh * kw)  # a multiply-add over x per offset
    return windows.crop(padded.transpose(0, 3, 1, 2), padding, out_hw)


def conv2d_weight(x: np.ndarray, grad_out: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """grad_w[c, 0, i, j] = sum over (n, oh, ow) of grad_out[:, c] * offset (i, j)'s view of x[:, c]."""
    n, c = x.shape[:2]
    kh, kw = kernel
    xp = windows.pad(x, padding)

    def part(batch: slice) -> np.ndarray:
        views = windows.offsets(xp[batch], kernel, stride, grad_out.shape[2:], dilation)
        g = grad_out[batch]
        return np.stack([np.einsum("nchw,nchw->c", g, view) for view in views], axis=1)   # (C, kH*kW)

    partial = for_each_slice(part, n, grad_out.size * kh * kw)
    return np.sum(partial, axis=0).reshape(c, 1, kh, kw)
