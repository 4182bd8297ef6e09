"""The im2col backends: x's windows copied into a matrix, then one matrix product per group.

im2col copies the input's windows into a matrix whose layout follows the input's memory
(idea 7): windows as rows (channels innermost) for channels-last memory, as columns (width
innermost) for NCHW memory, so the copy always runs along contiguous memory; a 1x1 layer
over pixel rows needs no copy at all (idea 30). Where the weight is larger than the matrix,
the rows take the weight's own (C/g, kH, kW) order so the weight enters as a view (idea 32).
For one group the bias rides along in the product: im2col gains an entry of ones and the
weight matrix a row holding the bias (idea 16); the weight gradient then gets the bias
gradient from the same product (idea 27).

"im2col blocked" (ideas 52, 53) copies the rows of channels-last input a few samples at a
time and multiplies them while they are still in cache; "im2col" builds the whole matrix,
which the forward keeps for the weight gradient when that gradient is wanted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import windows
from ..linalg import grouped_matmul, grouped_matmul_inner
from ..threads import MULTIPLY_ADDS_PER_ELEMENT, for_each_slice
from .group_rows import add_bias, from_group_columns, to_group_rows
from .planner import Plan, weight_outweighs

Pair = tuple[int, int]

CACHE_BLOCK = 1 << 18  # elements of im2col rows copied before they are multiplied (idea 53)


def weight_matrix(weight: np.ndarray, groups: int, weight_order: bool = False,
                  bias: np.ndarray | None = None) -> np.ndarray:
    """The weight as the (G, K, O/g) right-hand side of a product with im2col rows, K in the
    rows' order; a bias becomes a last row (for rows that end in a ones entry)."""
    o, cg, kh, kw = weight.shape
    grouped = weight.reshape(groups, o // groups, cg, kh, kw)
    if weight_order:  # the weight enters as a view, transposed
        matrix = grouped.reshape(groups, o // groups, -1).transpose(0, 2, 1)
    else:
        matrix = grouped.transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * cg, o // groups)
    if bias is not None:
        matrix = np.concatenate([matrix, bias.reshape(1, 1, o).astype(matrix.dtype)], axis=1)
    return matrix


@dataclass
class WindowRows:
    """The windows of x as im2col rows, copied a slice of the batch at a time into blocks of
    shape (G, samples, OH, OW, K), K in (kH, kW, C/g) order (or the weight's (C/g, kH, kW)
    with ``weight_order``) plus a last entry of ones with ``ones``."""

    view: np.ndarray  # (G, N, OH, OW, K split into axes): the padded input's windows
    ones: bool

    @classmethod
    def of(cls, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair,
           groups: int, ones: bool = False, weight_order: bool = False) -> WindowRows:
        n, c = x.shape[:2]
        view = windows.sliding(windows.pad(x, padding), kernel, stride, out_hw, dilation)  # (N, C, OH, OW, kH, kW)
        view = view.reshape(n, groups, c // groups, *out_hw, *kernel, copy=False)
        return cls(view.transpose((1, 0, 3, 4, 2, 5, 6) if weight_order else (1, 0, 3, 4, 5, 6, 2)), ones)

    @property
    def shape(self) -> tuple[int, ...]:
        g, n, oh, ow, *k = self.view.shape
        return g, n, oh, ow, math.prod(k) + self.ones

    def copy(self, batch: slice, block: np.ndarray) -> None:
        """Copy the windows of the samples ``batch`` into ``block`` (G, len(batch), OH, OW, K)."""
        source = self.view[:, batch]
        k = block.shape[-1] - self.ones
        np.copyto(block[..., :k].reshape(source.shape, copy=False), source)
        if self.ones:
            block[..., k] = 1


@dataclass
class Columns:
    """An input's im2col matrix, per group: ``rows`` (G, M, K) or ``k_major`` (G, K, M), where
    M runs over (N, OH, OW) and K over (kH, kW, C/g), or over (C/g, kH, kW) (the weight's own
    order) with ``weight_order``, which k_major columns always have.

    With ``ones`` (one group only) K gains a last entry of ones, so the product with a
    weight matrix extended by the bias adds the bias for free.
    """

    data: np.ndarray
    k_major: bool
    ones: bool = False
    weight_order: bool = False

    @classmethod
    def of(cls, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair,
           groups: int, copy: str, ones: bool = False, weight_order: bool = False) -> Columns:
        """im2col by ``copy``: "none" (x's pixel rows are the matrix), "rows" (windows as
        (kH, kW, C/g) rows, or (C/g, kH, kW) with ``weight_order``, copied from channels-last
        memory) or "columns" (one copy per kernel offset along NCHW image rows)."""
        if ones and (groups != 1 or weight_order):
            raise ValueError("Columns: a ones entry needs a single group and the (kH, kW, C) order")
        if copy == "none":  # both orders at once
            n, c, h, w = x.shape
            rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, groups, c // groups)
            return cls(rows.transpose(1, 0, 2), k_major=False, weight_order=True)
        if copy == "rows":  # one copy of the window view
            rows = WindowRows.of(x, kernel, stride, padding, dilation, out_hw, groups, ones, weight_order)
            data = np.empty(rows.shape, dtype=x.dtype)
            for_each_slice(lambda b: rows.copy(b, data[:, b]), x.shape[0], data.size)
            return cls.of_rows(data, ones, weight_order)
        xp = windows.pad(x, padding)
        n, c = x.shape[:2]
        (kh, kw), (oh, ow), cg = kernel, out_hw, c // groups
        k = kh * kw * cg
        view = windows.sliding(xp, kernel, stride, out_hw, dilation)          # (N, C, OH, OW, kH, kW)
        data = np.empty((k * groups + ones, n, oh, ow), dtype=x.dtype)
        body = data[:k * groups].reshape(c, kh, kw, n, oh, ow)

        def copy_offsets(batch: slice) -> None:  # one copy per kernel offset, along rows of the image
            for i in range(kh):
                for j in range(kw):
                    body[:, i, j, batch] = view[batch, :, :, :, i, j].transpose(1, 0, 2, 3)

        for_each_slice(copy_offsets, n, body.size)
        if ones:
            data[k] = 1
        return cls(data.reshape(groups, k + ones, n * oh * ow), k_major=True, ones=ones, weight_order=True)

    @classmethod
    def of_rows(cls, data: np.ndarray, ones: bool = False, weight_order: bool = False) -> Columns:
        """Columns from ``WindowRows`` blocks filled for the whole batch, (G, N, OH, OW, K)."""
        return cls(data.reshape(data.shape[0], -1, data.shape[-1]), k_major=False, ones=ones,
                   weight_order=weight_order)

    def times_weight(self, weight: np.ndarray, groups: int, bias: np.ndarray | None = None) -> np.ndarray:
        """The convolution as (G, M, O/g) = columns @ weight (+ bias, when built with ones)."""
        matrix = weight_matrix(weight, groups, self.weight_order, bias if self.ones else None)
        return grouped_matmul(self.data.transpose(0, 2, 1) if self.k_major else self.data, matrix)

    def weight_gradient(self, rows: np.ndarray, kernel: Pair) -> tuple[np.ndarray, np.ndarray | None]:
        """(O, C/g, kH, kW) = output-gradient rows (G, M, O/g) transposed @ columns, and with
        the ones entry the bias gradient (the rows summed over M), which that entry's column
        of the product is (else None)."""
        g, _, og = rows.shape
        kh, kw = kernel
        k = self.data.shape[1 if self.k_major else 2] - self.ones
        if self.k_major and weight_outweighs(rows.shape[1], og):  # (O/g, M) @ (M, K): the weight's layout
            grad = grouped_matmul_inner(rows.transpose(0, 2, 1), self.data.transpose(0, 2, 1))
            return grad[:, :, :k].reshape(g * og, -1, kh, kw), (grad[0, :, k].copy() if self.ones else None)
        if self.k_major:  # (K, M) @ (M, O/g): BLAS is faster this way round for small K (idea 11)
            grad = grouped_matmul_inner(self.data, rows)
            weight = np.ascontiguousarray(grad[:, :k].transpose(0, 2, 1)).reshape(g * og, -1, kh, kw)
            return weight, (grad[0, k].copy() if self.ones else None)
        grad = grouped_matmul_inner(rows.transpose(0, 2, 1), self.data)
        if self.weight_order:
            return grad.reshape(g * og, -1, kh, kw), None
        weight = np.ascontiguousarray(grad[:, :, :k].reshape(g * og, kh, kw, -1).transpose(0, 3, 1, 2))
        return weight, (grad[0, :, k].copy() if self.ones else None)


def window_product(rows: WindowRows, matrix: np.ndarray, keep: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """im2col rows @ matrix for one group (a row of the result per row of windows), the rows
    copied a few samples at a time and multiplied while they are in cache. With ``keep`` the
    rows are kept for the weight gradient, (1, N, OH, OW, K); else each worker reuses one block."""
    _, n, oh, ow, k = rows.shape
    per_sample = oh * ow
    step = max(1, CACHE_BLOCK // (per_sample * k))
    dtype = rows.view.dtype
    data = np.empty(rows.shape, dtype=dtype) if keep else None
    out = np.empty((n * per_sample, matrix.shape[1]), dtype=np.result_type(dtype, matrix))

    def part(batch: slice) -> None:
        scratch = None if keep else np.empty((1, min(step, batch.stop - batch.start), oh, ow, k), dtype=dtype)
        for start in range(batch.start, batch.stop, step):
            block = slice(start, min(start + step, batch.stop))
            target = data[:, block] if keep else scratch[:, :block.stop - block.start]
            rows.copy(block, target)
            np.matmul(target.reshape(-1, k), matrix, out=out[block.start * per_sample:block.stop * per_sample])

    for_each_slice(part, n, out.shape[0] * k * (1 + matrix.shape[1] // MULTIPLY_ADDS_PER_ELEMENT))
    return out, data


# --------------------------------------------------------------------------- the backends

def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, plan: Plan) -> tuple[np.ndarray, Columns]:
    """"im2col": the whole matrix, then one product per group; the matrix is returned for the
    weight gradient."""
    p, options = plan.problem, plan.options
    fold_bias = options["fold_bias"]
    columns = Columns.of(x, p.kernel, p.stride, p.padding, p.dilation, p.out_hw, p.groups, options["copy"],
                         ones=fold_bias, weight_order=options["weight_order"])
    product = columns.times_weight(weight, p.groups, bias if fold_bias else None)
    out = from_group_columns(product, x.shape[0], *p.out_hw)
    return (out if fold_bias else add_bias(out, bias)), columns


def conv2d_blocked(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                   plan: Plan) -> tuple[np.ndarray, Columns | None]:
    """"im2col blocked" (one group): rows copied and multiplied a few samples at a time; with
    ``keep_columns`` they are kept for the weight gradient."""
    p, fold_bias = plan.problem, plan.options["fold_bias"]
    rows = WindowRows.of(x, p.kernel, p.stride, p.padding, p.dilation, p.out_hw, 1, ones=fold_bias)
    matrix = weight_matrix(weight, 1, bias=bias if fold_bias else None)[0]
    product, data = window_product(rows, matrix, keep=plan.options["keep_columns"])
    out = from_group_columns(product.reshape(1, -1, weight.shape[0]), x.shape[0], *p.out_hw)
    columns = None if data is None else Columns.of_rows(data, ones=fold_bias)
    return (out if fold_bias else add_bias(out, bias)), columns


def conv2d_weight(x: np.ndarray, grad_out: np.ndarray, plan: Plan,
                  columns: Columns | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The weight gradient from x's im2col (``columns`` when the forward kept them, else built
    again), and the bias gradient when the columns carry a ones entry (else None)."""
    p = plan.problem
    if columns is None:
        columns = Columns.of(x, p.kernel, p.stride, p.padding, p.dilation, p.out_hw, p.groups,
                             plan.options["copy"], weight_order=plan.options["weight_order"])
    return columns.weight_gradient(to_group_rows(grad_out, p.groups), p.kernel)
