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
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

# Below this many elements a kernel runs on the calling thread: waking a sleeping worker and
# waiting for it costs about what a pass over half a million float32 elements takes on one
# core (ideas 26, 31). Matrix products count
# their multiply-adds divided by MULTIPLY_ADDS_PER_ELEMENT (BLAS does about that many in
# the time of one element's pass).
MIN_ELEMENTS = 1 << 19
MULTIPLY_ADDS_PER_ELEMENT = 8


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


class _Worker:
    """A thread that sleeps on a lock until it is handed one slice of a kernel.

    Two locks and a slot make the round trip cheaper than a ThreadPoolExecutor's future and
    queue (idea 26), which adds up over the tens of kernels in a small batch's step.
    """

    def __init__(self, name: str) -> None:
        self._start = threading.Lock()
        self._done = threading.Lock()
        self._start.acquire()
        self._done.acquire()
        self._task: tuple[Callable[[slice], Any], slice] | None = None
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._start.acquire()
            if self._task is None:  # stop
                self._done.release()
                return
            kernel, part = self._task
            try:
                self._result = kernel(part)
            except BaseException as error:  # handed back to the caller, which raises it
                self._error = error
            self._done.release()

    def submit(self, kernel: Callable[[slice], Any], part: slice) -> None:
        self._task = (kernel, part)
        self._start.release()

    def outcome(self) -> tuple[Any, BaseException | None]:
        """Wait for the slice: (its result, the exception it raised or None)."""
        self._done.acquire()
        outcome = self._result, self._error
        self._task = self._result = self._error = None
        return outcome

    def stop(self) -> None:
        self._task = None
        self._start.release()
        self._done.acquire()
        self._thread.join()


class _Pool:
    """``threads - 1`` workers; the calling thread takes the first slice itself. One caller at
    a time: a second thread that calls a kernel meanwhile runs it on its own."""

    def __init__(self, threads: int) -> None:
        self.workers = [_Worker(f"tinygrad_cnn_{i}") for i in range(threads - 1)]
        self.busy = threading.Lock()

    def shutdown(self) -> None:
        for worker in self.workers:
            worker.stop()


_threads = default_num_threads()
_pool: _Pool | None = None
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


def workers() -> _Pool | None:
    """The worker pool (None on one thread); the first call limits BLAS to one thread, so
    call it before any BLAS product."""
    global _pool, _blas_limit
    if _blas_limit is None:
        from threadpoolctl import threadpool_limits
        _blas_limit = threadpool_limits(1, user_api="blas")
        if _threads > 1:
            _pool = _Pool(_threads)
    return _pool


def _parts(n: int, elements: int) -> list[slice]:
    parts = max(1, min(_threads if elements >= MIN_ELEMENTS else 1, n))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def for_each_slice(kernel: Callable[[slice], Any], n: int, elements: int) -> list[Any]:
    """``[kernel(s) for s in slices covering range(n)]``, on the workers when the work is large."""
    slices = _parts(n, elements)
    pool = workers()
    if len(slices) == 1 or pool is None or not pool.busy.acquire(blocking=False):
        return [kernel(s) for s in slices]
    try:
        helpers = pool.workers[:len(slices) - 1]
        for worker, part in zip(helpers, slices[1:]):
            worker.submit(kernel, part)
        try:
            first = kernel(slices[0])  # the calling thread takes a share instead of waiting
        finally:
            outcomes = [worker.outcome() for worker in helpers]  # every worker is collected, even on error
        for _, error in outcomes:
            if error is not None:
                raise error
        return [first] + [result for result, _ in outcomes]
    finally:
        pool.busy.release()
