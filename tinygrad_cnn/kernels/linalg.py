"""Matrix products split over the workers (BLAS itself runs on one thread: see threads.py).

How a product is split is a plan (``plan_product``: "batched", "rows" of a, "columns" of b,
or the "shared dimension" with the partial products added), as the convolutions' backends
are: ``explain`` prints it, and the tests force every split on the same operands.
"""
from __future__ import annotations

import numpy as np

from .explain import Choice, note, recording_now
from .threads import MULTIPLY_ADDS_PER_ELEMENT, for_each_slice, workers

SPLITS = ("batched", "rows", "columns", "shared dimension")
_SHORT = ("the shared dimension is the short one: the partial products would cost more than the product, "
          "so it is split as matmul splits (idea 32); ")
_WHY = {
    "batched": "a stack of products: NumPy's loop over them, BLAS on one thread",
    "rows": "as many rows of a as columns of b, or more: each worker takes rows of a (idea 10)",
    "columns": "fewer rows of a than columns of b: each worker takes columns of b, so b is read once in "
               "all (idea 40)",
    "shared dimension": "a long shared dimension: each worker takes a slice of it and the partial products "
                        "are added (ideas 10, 11)",
}


def _rule(computes: str, a: np.ndarray, b: np.ndarray) -> tuple[str, bool]:
    """The split the rules choose, and whether matmul_inner fell back from its own."""
    if a.ndim != 2 or b.ndim != 2:
        return "batched", False
    (p, m), q = a.shape, b.shape[1]
    if computes == "matmul_inner":
        if m * (p + q) >= p * q:
            return "shared dimension", False
        return ("columns" if p < q else "rows"), True
    return ("columns" if p < q else "rows"), False


def plan_product(computes: str, a: np.ndarray, b: np.ndarray, split: str | None = None) -> Choice:
    """The split for ``a @ b`` and why: ``split`` when given (any but "batched" for 2-D
    operands; only "batched" for others), else the rules'."""
    operands = f"{a.shape} @ {b.shape}"
    if split is not None:
        flat = a.ndim == 2 and b.ndim == 2
        if split not in SPLITS or (split == "batched") == flat:
            allowed = "rows, columns or the shared dimension" if flat else "'batched' (a stack of products)"
            raise ValueError(f"{computes}: cannot split {operands} by {split!r}; it splits by {allowed}")
        return Choice(computes, operands, split, "asked for")
    backend, fell_back = _rule(computes, a, b)
    return Choice(computes, operands, backend, (_SHORT if fell_back else "") + _WHY[backend])


def _split(computes: str, a: np.ndarray, b: np.ndarray, split: str | None) -> str:
    """The split to run; the plan object is made only where it is asked for or recorded."""
    if split is None and not recording_now():
        return _rule(computes, a, b)[0]
    plan = plan_product(computes, a, b, split)
    note(plan)
    return plan.backend


def _work(a: np.ndarray, b: np.ndarray) -> int:
    """A 2-D product's multiply-adds, in the element passes ``for_each_slice`` weighs work by."""
    return a.shape[0] * a.shape[1] * b.shape[1] // MULTIPLY_ADDS_PER_ELEMENT


def _batched(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    workers()  # BLAS on one thread before it runs
    return np.matmul(a, b)


def _split_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for_each_slice(lambda s: np.matmul(a[s], b, out=out[s]), a.shape[0], _work(a, b))
    return out


def _split_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for_each_slice(lambda s: np.matmul(a, b[:, s], out=out[:, s]), b.shape[1], _work(a, b))
    return out


def _split_shared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    partials = for_each_slice(lambda s: a[:, s] @ b[s], a.shape[1], _work(a, b))
    total = partials[0]
    for part in partials[1:]:
        total += part
    return total


_RUN = {"batched": _batched, "rows": _split_rows, "columns": _split_columns, "shared dimension": _split_shared}


def matmul(a: np.ndarray, b: np.ndarray, split: str | None = None) -> np.ndarray:
    """``a @ b``; for 2-D operands the rows of ``a`` are split over the workers, or the columns
    of ``b`` when ``a`` has fewer rows than ``b`` has columns: a classifier's weight at a small
    batch (VGG-11's is 25088 x 4096) is then read once in all, not once per worker."""
    return _RUN[_split("matmul", a, b, split)](a, b)


def matmul_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)


def matmul_inner(a: np.ndarray, b: np.ndarray, split: str | None = None) -> np.ndarray:
    """``a @ b`` for 2-D operands with a long shared dimension (weight gradients, sums): the
    shared dimension is split over the workers and the partial products are added. Where the
    shared dimension is the short one (a late layer's weight gradient at small batch: 512 x 32
    @ 32 x 4608), rows or columns are split instead."""
    return _RUN[_split("matmul_inner", a, b, split)](a, b)


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
