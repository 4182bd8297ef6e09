"""Use every core: large kernels split over the batch, matrix products over rows.

NumPy runs its elementwise loops and copies on one core. OpenBLAS threads its matrix
products, but its workers busy-wait after each call and steal the cores from whatever runs
next. So with ``set_num_threads(n)`` (n > 1) BLAS is limited to one thread and the hot
kernels split their work over tinygrad_cnn's own n workers, which sleep when idle; NumPy
releases the GIL inside its loops, so the workers run at the same time. With one thread
(the default) nothing changes: every kernel runs on the calling thread and BLAS keeps its
own threads.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

MIN_ELEMENTS = 1 << 16  # below this, splitting costs more than it saves
_threads = 1
_pool: ThreadPoolExecutor | None = None
_blas_limit: Any = None


def set_num_threads(threads: int) -> None:
    """Run large kernels on ``threads`` cores (like ``torch.set_num_threads``)."""
    global _threads, _pool, _blas_limit
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {threads!r}")
    if _pool is not None:
        _pool.shutdown()
        _pool = None
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None
    _threads = threads
    if threads > 1:
        from threadpoolctl import threadpool_limits
        _blas_limit = threadpool_limits(1, user_api="blas")
        _pool = ThreadPoolExecutor(threads, thread_name_prefix="tinygrad_cnn")


def get_num_threads() -> int:
    return _threads


def _parts(n: int, elements: int) -> list[slice]:
    parts = max(1, min(_threads if elements >= MIN_ELEMENTS else 1, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def for_each_slice(kernel: Callable[[slice], Any], n: int, elements: int) -> list[Any]:
    """``[kernel(s) for s in slices covering range(n)]``, on the workers when the work is large."""
    slices = _parts(n, elements)
    if len(slices) == 1 or _pool is None:
        return [kernel(s) for s in slices]
    others = [_pool.submit(kernel, s) for s in slices[1:]]
    first = kernel(slices[0])  # the calling thread takes a share instead of waiting
    return [first] + [f.result() for f in others]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D operands, the rows of ``a`` split over the workers."""
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for_each_slice(lambda s: np.matmul(a[s], b, out=out[s]), a.shape[0], a.size + out.size)
    return out


def matmul_inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D operands, the shared (inner) dimension split over the workers and
    the partial products summed: for long reductions such as weight gradients."""
    partials = for_each_slice(lambda s: a[:, s] @ b[s], a.shape[1], a.size + b.size)
    total = partials[0]
    for part in partials[1:]:
        total += part
    return total


def unary(ufunc: np.ufunc, x: np.ndarray, *scalars: Any) -> np.ndarray:
    """``ufunc(x, *scalars)`` in x's memory layout, split over the batch."""
    if x.ndim == 0:
        return ufunc(x, *scalars)
    out = np.empty_like(x, dtype=np.result_type(x, *scalars) if scalars else None)
    for_each_slice(lambda s: ufunc(x[s], *scalars, out=out[s]), x.shape[0], x.size)
    return out


def binary(ufunc: np.ufunc, a: Any, b: Any) -> np.ndarray:
    """``ufunc(a, b)``; split over the batch when the result is large and neither operand
    broadcasts along the batch axis (a per-channel vector of shape (1, C, 1, 1) is fine)."""
    if not (_threads > 1 and isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return ufunc(a, b)
    shape = np.broadcast_shapes(a.shape, b.shape)
    big = a if a.shape == shape else b if b.shape == shape else None
    if big is None or not shape or math.prod(shape) < MIN_ELEMENTS:
        return ufunc(a, b)

    def part(operand: np.ndarray, s: slice) -> np.ndarray:
        """The batch slice of an operand, or all of it when it broadcasts along the batch."""
        return operand[s] if operand.ndim == len(shape) and operand.shape[0] == shape[0] else operand

    out = np.empty_like(big, dtype=np.result_type(a, b))
    for_each_slice(lambda s: ufunc(part(a, s), part(b, s), out=out[s]), shape[0], out.size)
    return out
