"""Use every core: large kernels split over the batch, matrix products over rows.

NumPy runs its elementwise loops and copies on one core. OpenBLAS threads its matrix
products, but its workers busy-wait after each call and steal the cores from whatever runs
next: our own workers, or another process. So tinygrad_cnn limits BLAS to one thread and
splits the hot kernels over its own workers, which sleep when idle; NumPy releases the GIL
inside its loops, so the workers run at the same time.

The thread count starts at the cores this process may use (``OMP_NUM_THREADS`` when set, as
in PyTorch) and ``set_num_threads`` changes it; one thread means one core, BLAS included.
BLAS is limited the first time a kernel runs, not at import, so importing the library
changes nothing for NumPy code that never calls it.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

MIN_ELEMENTS = 1 << 16  # below this, splitting costs more than it saves


def default_num_threads() -> int:
    """``OMP_NUM_THREADS`` when it is a positive int, else the cores this process may run on."""
    try:
        requested = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        requested = 0
    if requested >= 1:
        return requested
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_threads = default_num_threads()
_pool: ThreadPoolExecutor | None = None
_blas_limit: Any = None


def set_num_threads(threads: int) -> None:
    """Run large kernels on ``threads`` cores (like ``torch.set_num_threads``)."""
    global _threads
    if not isinstance(threads, (int, np.integer)) or isinstance(threads, (bool, np.bool_)) or threads < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {threads!r}")
    _shutdown()
    _threads = int(threads)


def get_num_threads() -> int:
    """The number of cores large kernels are split over."""
    return _threads


def _shutdown() -> None:
    """Stop the workers and give BLAS its own threads back."""
    global _pool, _blas_limit
    if _pool is not None:
        _pool.shutdown()
        _pool = None
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None


def workers() -> ThreadPoolExecutor | None:
    """The worker pool (None on one thread); the first call limits BLAS to one thread, so
    call it before any BLAS product."""
    global _pool, _blas_limit
    if _blas_limit is None:
        from threadpoolctl import threadpool_limits
        _blas_limit = threadpool_limits(1, user_api="blas")
        if _threads > 1:
            _pool = ThreadPoolExecutor(_threads, thread_name_prefix="tinygrad_cnn")
    return _pool


def _parts(n: int, elements: int) -> list[slice]:
    parts = max(1, min(_threads if elements >= MIN_ELEMENTS else 1, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def for_each_slice(kernel: Callable[[slice], Any], n: int, elements: int) -> list[Any]:
    """``[kernel(s) for s in slices covering range(n)]``, on the workers when the work is large."""
    slices = _parts(n, elements)
    pool = workers()
    if len(slices) == 1 or pool is None:
        return [kernel(s) for s in slices]
    others = [pool.submit(kernel, s) for s in slices[1:]]
    first = kernel(slices[0])  # the calling thread takes a share instead of waiting
    return [first] + [f.result() for f in others]
