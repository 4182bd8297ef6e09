"""The "narrow" backend: two neighbouring output pixels per im2col row (ideas 55, 65).

Layers with few channels (ResNet-20's first stage: 16 in, 16 out) have products with 16
columns, which BLAS runs well below its speed. A row that holds the windows of two
neighbouring output pixels, kH * (kW + 1) * C long, against a weight that holds both pixels'
taps (a 2-pixel Toeplitz matrix, 2 * O columns) makes the product twice as wide for a third
more multiply-adds. The rows are copied and multiplied in cache-sized blocks, as "im2col
blocked" does, and never kept: a weight gradient needs one pixel's rows.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ... import windows
from .group_rows import from_group_columns
from .im2col import WindowRows, window_product
from .planner import Plan

Pair = tuple[int, int]

PIXELS = 2  # output pixels per row


def pixel_pair_rows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair,
                    ones: bool) -> WindowRows:
    """Rows of (kH, kW + 1, C): each window row runs on over the next pixel's columns, which
    are contiguous in channels-last memory (stride and dilation 1 along rows)."""
    n, c = x.shape[:2]
    # (N, Hp, Wp, C) in one block of memory; the strides are derived from the sizes, since
    # those NumPy reports for a size-1 axis are arbitrary
    rows = np.ascontiguousarray(windows.pad(x, padding).transpose(0, 2, 3, 1))
    (kh, kw), (oh, ow), item = kernel, out_hw, rows.itemsize
    s = (rows.shape[1] * rows.shape[2] * c * item, rows.shape[2] * c * item, c * item, item)
    view = as_strided(rows, (1, n, oh, ow // PIXELS, kh, (kw + PIXELS - 1) * c),
                      (0, s[0], stride[0] * s[1], PIXELS * s[2], dilation[0] * s[1], s[3]), writeable=False)
    return WindowRows(view, ones)


def pixel_pair_weight(weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """The (K, PIXELS * O) weight for ``pixel_pair_rows``: output pixel q of a row reads
    columns q .. q + kW - 1 of the row's wider window (zeros elsewhere); a bias becomes a last
    row, repeated for each pixel."""
    o, c, kh, kw = weight.shape
    wide = np.zeros((kh, kw + PIXELS - 1, c, PIXELS, o), dtype=weight.dtype)
    taps = weight.transpose(2, 3, 1, 0)                                       # (kH, kW, C, O)
    for q in range(PIXELS):
        wide[:, q:q + kw, :, q] = taps
    matrix = wide.reshape(-1, PIXELS * o)
    if bias is not None:
        matrix = np.concatenate([matrix, np.tile(bias, PIXELS).reshape(1, -1).astype(matrix.dtype)])
    return matrix


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, plan: Plan) -> tuple[np.ndarray, None]:
    p, fold_bias = plan.problem, plan.options["fold_bias"]
    rows = pixel_pair_rows(x, p.kernel, p.stride, p.padding, p.dilation, p.out_hw, ones=fold_bias)
    product, _ = window_product(rows, pixel_pair_weight(weight, bias if fold_bias else None), keep=False)
    out = from_group_columns(product.reshape(1, -1, weight.shape[0]), x.shape[0], *p.out_hw)
    return out, None
