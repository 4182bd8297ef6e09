"""The transposed-convolution backends that scatter (the adjoint of conv2d, and conv2d's input
gradient): "scatter" and "1x1 products".

Instead of col2im, each kernel offset's products are added into that offset's strided view
of a zero-filled, padded output (idea 7). Where the weight is larger than a worker's rows
(late layers at small batch) one product with the weight as it lies gives every offset's
products at once (idea 32). A 1x1 kernel scatters nothing: one product per group (idea 30).
"""
from __future__ import annotations

import numpy as np

from ... import windows
from ..linalg import grouped_matmul
from ..threads import MULTIPLY_ADDS_PER_ELEMENT, for_each_slice
from .group_rows import add_bias, from_group_columns, to_group_rows
from .planner import weight_outweighs

Pair = tuple[int, int]


def scatter(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, out_hw: Pair, stride: Pair,
            padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
    """Per kernel offset, one matrix product added into that offset's view of the output."""
    n, c_in, h, w = x.shape
    _, cg, kh, kw = weight.shape
    grouped = weight.reshape(groups, c_in // groups, cg, kh, kw)
    (ph, pw), c_out = padding, groups * cg
    padded = np.zeros((n, out_hw[0] + 2 * ph, out_hw[1] + 2 * pw, c_out), dtype=x.dtype).transpose(0, 3, 1, 2)

    def part(batch: slice) -> None:  # each worker owns a slice of the batch
        rows = to_group_rows(x[batch], groups)                          # (G, n*H*W, C_in/g)
        size = batch.stop - batch.start
        targets = windows.offsets(padded[batch], (kh, kw), stride, (h, w), dilation)
        if weight_outweighs(rows.shape[1], c_in // groups):  # one product with the weight as it lies
            products = np.matmul(rows, grouped.reshape(groups, c_in // groups, -1)).reshape(
                groups, rows.shape[1], cg, kh, kw)
            for k, target in enumerate(targets):
                target += from_group_columns(products[..., k // kw, k % kw], size, h, w)
            return
        for k, target in enumerate(targets):
            i, j = divmod(k, kw)
            target += from_group_columns(np.matmul(rows, grouped[:, :, :, i, j]), size, h, w)

    multiply_adds = n * h * w * c_in * cg * kh * kw // groups  # the products' work, more than the adds' (idea 48)
    for_each_slice(part, n, padded.size + multiply_adds // MULTIPLY_ADDS_PER_ELEMENT)
    return add_bias(windows.crop(padded, padding, out_hw), bias)


def one_by_one(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, groups: int) -> np.ndarray:
    """A 1x1 kernel with stride 1 and no padding: one product per group, no zero-filled image."""
    n, c_in, h, w = x.shape
    grouped = weight.reshape(groups, c_in // groups, weight.shape[1])
    return add_bias(from_group_columns(grouped_matmul(to_group_rows(x, groups), grouped), n, h, w), bias)
