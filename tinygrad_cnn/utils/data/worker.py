"""What runs in a DataLoader worker process: its seeds, ``get_worker_info()``, and the loop
that turns index batches into collated batches (PyTorch's ``torch.utils.data._utils.worker``)."""
from __future__ import annotations

import os
import queue
import random
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import random as tc_random

POLL_SECONDS = 0.5  # how often an idle worker checks that the main process still runs


@dataclass(frozen=True)
class WorkerInfo:
    """Inside a worker: which one it is, how many there are, its seed and its copy of the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The current worker's ``WorkerInfo``, or None in the main process (an ``IterableDataset``
    uses it to give each worker its own share of the stream)."""
    return _worker_info


def generate_state(base_seed: int, worker_id: int) -> list[int]:
    """PyTorch's ``_generate_state``: four 32-bit words that seed NumPy's global generator in a
    worker, mixed from the base seed and the worker id (NumPy's SeedSequence hash)."""
    mask = 0xFFFFFFFF
    hash_constant = 0x43B0D7E5

    def hashed(value: int) -> int:
        nonlocal hash_constant
        value = (value ^ hash_constant) & mask
        hash_constant = (hash_constant * 0x931E8875) & mask
        value = (value * hash_constant) & mask
        return (value ^ (value >> 16)) & mask

    def mix(x: int, y: int) -> int:
        result = ((0xCA01F9DD * x) - (0x4973F715 * y)) & mask
        return (result ^ (result >> 16)) & mask

    pool = [hashed(v) for v in (worker_id, base_seed & mask, base_seed >> 32, 0)]
    for source in range(4):
        for target in range(4):
            if source != target:
                pool[target] = mix(pool[target], hashed(pool[source]))
    state, constant = [], 0x8B51F9DD
    for value in pool:
        value = (value ^ constant) & mask
        constant = (constant * 0x58F38DED) & mask
        value = (value * constant) & mask
        state.append((value ^ (value >> 16)) & mask)
    return state


class WorkerFailure:
    """An exception raised in a worker, carried to the main process to be raised there."""

    def __init__(self, worker_id: int, indices: Any) -> None:
        self.type = sys.exc_info()[0]
        self.worker_id, self.indices = worker_id, indices
        self.traceback = "".join(traceback.format_exception(*sys.exc_info()))

    def reraise(self) -> None:
        where = f"in DataLoader worker process {self.worker_id}"
        if self.indices is not None:
            where += f" while fetching indices {self.indices}"
        message = f"Caught {self.type.__name__} {where}.\nOriginal {self.traceback}"
        try:
            error = self.type(message)
        except Exception:  # an exception class that cannot be built from one message
            error = RuntimeError(message)
        raise error


@dataclass(frozen=True)
class IterationEnd:
    """A worker's copy of an IterableDataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class Resume:
    """Start a new epoch (persistent workers): an IterableDataset's iterator is made anew."""


def fetch(dataset: Any, iterable: bool, batched: bool, collate_fn: Callable[[Any], Any], drop_last: bool,
          indices: Any, iterator: Any) -> Any:
    """One batch (or one sample): ``indices`` from a map-style dataset, or as many samples as
    ``indices`` has entries from an iterable one's ``iterator`` (StopIteration when it ends)."""
    if iterable:
        if not batched:
            return collate_fn(next(iterator))
        samples = []
        for _ in indices:
            try:
                samples.append(next(iterator))
            except StopIteration:
                break
        if not samples or (drop_last and len(samples) < len(indices)):
            raise StopIteration
        return collate_fn(samples)
    if not batched:
        return collate_fn(dataset[indices])
    getitems = getattr(dataset, "__getitems__", None)
    return collate_fn(getitems(indices) if callable(getitems) else [dataset[i] for i in indices])


def worker_loop(dataset: Any, iterable: bool, batched: bool, collate_fn: Callable[[Any], Any], drop_last: bool,
                index_queue: Any, result_queue: Any, done_event: Any, base_seed: int,
                init_fn: Callable[[int], None] | None, worker_id: int, num_workers: int, parent: int) -> None:
    """A worker process: seed as PyTorch seeds its workers, run ``init_fn``, then answer each
    ``(task, indices)`` from ``index_queue`` with ``(task, batch)`` on ``result_queue`` until
    told to stop (None) or the main process is gone."""
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    seed = base_seed + worker_id
    random.seed(seed)
    tc_random.manual_seed(seed)
    np.random.seed(generate_state(base_seed, worker_id))
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    failure, iterator = None, None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        iterator = iter(dataset) if iterable else None
    except Exception:
        failure = WorkerFailure(worker_id, None)
    ended = False
    while os.getppid() == parent:
        try:
            task = index_queue.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue
        if task is None:
            break
        if isinstance(task, Resume):
            if iterable:
                iterator, ended = iter(dataset), False
            result_queue.put((task, None))
            continue
        if done_event.is_set() or ended:
            continue
        number, indices = task
        if failure is not None:
            data, failure = failure, None
        else:
            try:
                data = fetch(dataset, iterable, batched, collate_fn, drop_last, indices, iterator)
            except StopIteration:
                data, ended = IterationEnd(worker_id), True
            except Exception:
                data = WorkerFailure(worker_id, None if iterable else indices)
        result_queue.put((number, data))
    result_queue.cancel_join_thread()
