"""Matrix products split over the workers (BLAS itself runs on one thread: see threads.py)."""
from __future__ import annotations

import numpy as np

from .threads import MULTIPLY_ADDS_PER_ELEMENT, for_each_slice, workers


def _work(a: np.ndarray, b: np.ndarray) -> int:
    """A 2-D product's multiply-adds, in the element passes ``for_each_slice`` weighs work by."""
    return a.shape[0] * a.shape[1] * b.shape[1] // MULTIPLY_ADDS_PER_ELEMENT


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b``; for 2-D operands the rows of ``a`` are split over the workers, or the columns
    of ``b`` when ``a`` has fewer rows than ``b`` has columns: a classifier's weight at a small
    batch (VGG-11's is 25088 x 4096) is then read once in all, not once per worker."""
    if a.ndim != 2 or b.ndim != 2:
        workers()  # BLAS on one thread before it runs
        return np.matmul(a, b)
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    if a.shape[0] < b.shape[1]:
        for_each_slice(lambda s: np.matmul(a, b[:, s], out=out[:, s]), b.shape[1], _work(a, b))
    else:
        for_each_slice(lambda s: np.matmul(a[s], b, out=out[s]), a.shape[0], _work(a, b))
    return out


def matmul_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)


def matmul_inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D operands with a long shared dimension (weight gradients, sums): the
    shared dimension is split over the workers and the partial products are added. Where the
    shared dimension is the short one (a late layer's weight gradient at small batch: 512 x 32
    @ 32 x 4608), the partial outputs would cost more than the product: rows are split instead."""
    (p, m), q = a.shape, b.shape[1]
    if m * (p + q) < p * q:
        return matmul(a, b)
    partials = for_each_slice(lambda s: a[:, s] @ b[s], m, _work(a, b))
    total = partials[0]
    for part in partials[1:]:
        total += part
    return total


def matmul_inner_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)


def grouped_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, M, K) @ (G, K, N): one 2-D product per group, each split over rows."""
    if a.shape[0] == 1:
        return matmul(a[0], b[0])[None]
    return np.stack([matmul(a[g], b[g]) for g in range(a.shape[0])])


def grouped_matmul_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)


def grouped_matmul_inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, P, M) @ (G, M, Q) for a long shared dimension M, each group split over M."""
    return np.stack([matmul_inner(a[g], b[g]) for g in range(a.shape[0])])


def grouped_matmul_inner_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)
