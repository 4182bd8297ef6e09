"""NCHW arrays and per-group pixel rows, the form every convolution product reads and writes.

A product's result (G, N*H*W, O/g) is a pixel per row with the channels innermost, so the
NCHW array made from it is a view of channels-last memory: the next convolution and the
elementwise kernels read it without a copy.
"""
from __future__ import annotations

import numpy as np

from ..threads import for_each_slice


def from_group_columns(y: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """(G, N*H*W, O/g) -> NCHW view of channels-last (N, H, W, O) memory."""
    g, _, og = y.shape
    if g == 1:
        return y[0].reshape(n, h, w, og).transpose(0, 3, 1, 2)
    return y.reshape(g, n, h, w, og).transpose(1, 2, 3, 0, 4).reshape(n, h, w, g * og).transpose(0, 3, 1, 2)


def to_group_rows(y: np.ndarray, groups: int) -> np.ndarray:
    """NCHW (N, O, H, W) -> (G, N*H*W, O/g)."""
    n, o, h, w = y.shape
    rows = y.transpose(0, 2, 3, 1).reshape(n * h * w, groups, o // groups)
    return rows[None, :, 0] if groups == 1 else rows.transpose(1, 0, 2)


def add_bias(out: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``out += bias`` per channel, in place."""
    if bias is not None:
        column = bias[:, None, None]
        for_each_slice(lambda b: np.add(out[b], column, out=out[b]), out.shape[0], out.size)
    return out
