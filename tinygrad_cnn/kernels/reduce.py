"""Sums over several axes as BLAS matrix-vector products."""
from __future__ import annotations

import math

import numpy as np

from .linalg import matmul, matmul_inner


def sum_axes(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    """``x.sum(dims)``, as one matrix-vector product when the summed axes are the outer (or
    the inner) ones in memory: BLAS runs that several times faster than ``np.sum`` over
    strided axes (bias gradients, batch-norm statistics)."""
    if x.dtype.kind != "f" or x.size < 1 << 14 or not dims or len(dims) == x.ndim:
        return np.sum(x, axis=dims)
    order = sorted(range(x.ndim), key=lambda d: -x.strides[d])  # outermost axis first
    in_memory_order = x.transpose(order)
    if not in_memory_order.flags.c_contiguous:
        return np.sum(x, axis=dims)
    summed = [order.index(d) for d in dims]
    kept = [d for d in order if d not in dims]
    count = len(dims)
    if sorted(summed) == list(range(count)):  # summed axes outermost: ones @ rows
        rows = in_memory_order.reshape(-1, math.prod(x.shape[d] for d in kept))
        result = matmul_inner(np.ones((1, rows.shape[0]), dtype=x.dtype), rows)
    elif sorted(summed) == list(range(x.ndim - count, x.ndim)):  # innermost: rows @ ones
        rows = in_memory_order.reshape(math.prod(x.shape[d] for d in kept), -1)
        result = matmul(rows, np.ones((rows.shape[1], 1), dtype=x.dtype))
    else:
        return np.sum(x, axis=dims)
    result = result.reshape([x.shape[d] for d in kept])
    return result.transpose(np.argsort(kept))  # back to the kept axes' logical order


def sum_axes_reference(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    return np.sum(x, axis=dims)
