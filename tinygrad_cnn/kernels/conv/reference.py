"""What the convolution kernels compute, in plain NumPy: an einsum over a window view, or a
loop over kernel offsets. Every backend is held to these (tests/test_kernels.py)."""
from __future__ import annotations

import numpy as np

from ... import windows

Pair = tuple[int, int]


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair, padding: Pair,
           dilation: Pair, groups: int) -> np.ndarray:
    """out[n, o] = sum over the window of x (group of o) * weight[o], one einsum."""
    n, c = x.shape[:2]
    o, cg, kh, kw = weight.shape
    oh, ow = windows.output_hw(x.shape, (kh, kw), stride, padding, dilation)
    view = windows.sliding(windows.pad(x, padding), (kh, kw), stride, (oh, ow), dilation)
    view = view.reshape(n, groups, cg, oh, ow, kh, kw)
    out = np.einsum("ngchwij,gocij->ngohw", view, weight.reshape(groups, o // groups, cg, kh, kw))
    out = out.reshape(n, o, oh, ow)
    return out if bias is None else out + bias[:, None, None]


def conv2d_weight(x: np.ndarray, grad_out: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                  dilation: Pair, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """grad_w[o, c, i, j] = sum over (n, oh, ow) of grad_out[n, o] * window[n, c, i, j];
    grad_b[o] = sum over (n, oh, ow) of grad_out[n, o]."""
    n, c = x.shape[:2]
    o, (oh, ow), cg = grad_out.shape[1], grad_out.shape[2:], c // groups
    view = windows.sliding(windows.pad(x, padding), kernel, stride, (oh, ow), dilation)
    grad = np.einsum("ngohw,ngchwij->gocij", grad_out.reshape(n, groups, o // groups, oh, ow),
                     view.reshape(n, groups, cg, oh, ow, *kernel))
    return grad.reshape(o, cg, *kernel), grad_out.sum((0, 2, 3))


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, out_hw: Pair, stride: Pair,
                     padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
    """Per kernel offset, x times that offset's weights added where the offset lands."""
    n, c_in, h, w = x.shape
    _, cg, kh, kw = weight.shape
    padded = np.zeros((n, groups * cg, out_hw[0] + 2 * padding[0], out_hw[1] + 2 * padding[1]),
                      dtype=np.result_type(x, weight))
    xg = x.reshape(n, groups, c_in // groups, h, w)
    wg = weight.reshape(groups, c_in // groups, cg, kh, kw)
    for k, target in enumerate(windows.offsets(padded, (kh, kw), stride, (h, w), dilation)):
        i, j = divmod(k, kw)
        target += np.einsum("ngchw,gco->ngohw", xg, wg[..., i, j]).reshape(n, groups * cg, h, w)
    out = windows.crop(padded, padding, out_hw)
    return out if bias is None else out + bias[:, None, None]
