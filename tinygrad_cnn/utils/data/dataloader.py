"""DataLoader: batches of a dataset, read in the main process or by worker processes, as
PyTorch's ``torch.utils.data.DataLoader`` with every argument of torch 2.13's."""
from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...random import Generator
from ...random import generator as numpy_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import IterationEnd, Resume, WorkerFailure, fetch, worker_loop

LIVENESS_SECONDS = 1.0  # how often a waiting main process checks that its workers are alive


class _EndlessSampler(Sampler):
    """The indices an IterableDataset is read with: None, forever (the dataset decides the end)."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


class DataLoader:
    """Batches of ``dataset``: its indices drawn by ``sampler`` (or in order, or shuffled),
    grouped by ``batch_sampler`` (``batch_size`` at a time), fetched and stacked by
    ``collate_fn``; with ``num_workers > 0``, fetched by that many worker processes, in order.

    ``pin_memory`` and ``pin_memory_device`` change nothing (there is no accelerator memory);
    everything else is PyTorch's.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers "
                             "> 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value}")
            sampler = _EndlessSampler()
        elif shuffle not in (None, False) and sampler is not None:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=2)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.timeout, self.worker_init_fn = num_workers, timeout, worker_init_fn
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.pin_memory, self.pin_memory_device, self.in_order = pin_memory, pin_memory_device, in_order
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self._iterator: _WorkersIterator | None = None

    @property
    def multiprocessing_context(self) -> Any:
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: Any) -> None:
        if isinstance(context, str):
            if context not in multiprocessing.get_all_start_methods():
                raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                 f"{multiprocessing.get_all_start_methods()!r}, but got "
                                 f"multiprocessing_context={context!r}")
            context = multiprocessing.get_context(context)
        elif context is not None and not isinstance(context, multiprocessing.context.BaseContext):
            raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                            f"specifying the start method, but got multiprocessing_context={context}")
        self._multiprocessing_context = context

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        return _length(self.dataset, self.iterable, self.batch_size, self.drop_last, self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            return _SingleProcessIterator(self)
        if not self.persistent_workers:
            return _WorkersIterator(self)
        if self._iterator is None:
            self._iterator = _WorkersIterator(self)
        else:
            self._iterator.reset()
        return self._iterator


def _length(dataset: Any, iterable: bool, batch_size: int | None, drop_last: bool, index_sampler: Any) -> int:
    """Batches per epoch: the index sampler's length, or an IterableDataset's length in batches."""
    if not iterable:
        return len(index_sampler)
    length = len(dataset)
    if batch_size is not None:
        length = length // batch_size if drop_last else -(-length // batch_size)
    return length


class _Plan:
    """What an iterator needs of its loader, copied: a persistent loader keeps its iterator, so
    an iterator that kept the loader would make a reference cycle (workers ended only by the
    garbage collector)."""

    def __init__(self, loader: DataLoader) -> None:
        self.fetch_settings = (loader.dataset, loader.iterable, loader._auto_collation, loader.collate_fn,
                               loader.drop_last)
        self.index_sampler = loader._index_sampler
        self.sizes = (loader.dataset, loader.iterable, loader.batch_size, loader.drop_last, self.index_sampler)
        self.num_workers, self.prefetch_factor = loader.num_workers, loader.prefetch_factor
        self.timeout = loader.timeout
        self.worker_init_fn, self.in_order = loader.worker_init_fn, loader.in_order
        self.persistent = loader.persistent_workers
        self.context = loader.multiprocessing_context or multiprocessing.get_context()


def _base_seed(loader: DataLoader) -> int:
    """Drawn once per iterator from the loader's generator (or the shared one): each worker's
    seeds derive from it, as PyTorch's do."""
    return int(numpy_generator(loader.generator).integers(0, 2 ** 63))


class _SingleProcessIterator:
    """Batches fetched in the main process."""

    def __init__(self, loader: DataLoader) -> None:
        self.plan = _Plan(loader)
        self.indices = iter(self.plan.index_sampler)
        self.base_seed = _base_seed(loader)
        self.iterator = iter(loader.dataset) if loader.iterable else None

    def __iter__(self) -> _SingleProcessIterator:
        return self

    def __next__(self) -> Any:
        return fetch(*self.plan.fetch_settings, next(self.indices), self.iterator)

    def __len__(self) -> int:
        return _length(*self.plan.sizes)


class _WorkersIterator:
    """Batches fetched by worker processes: each gets index batches on its own queue, in turn,
    with ``prefetch_factor`` per worker outstanding, and all answer on one result queue; the
    batches are yielded in the sampler's order (or as they come, without ``in_order``)."""

    def __init__(self, loader: DataLoader) -> None:
        self.plan, self.closed = _Plan(loader), True
        context = self.plan.context
        self.base_seed = _base_seed(loader)
        self.result_queue, self.done = context.Queue(), context.Event()
        self.index_queues, self.workers = [], []
        try:
            for worker_id in range(self.plan.num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                worker = context.Process(target=worker_loop, daemon=True, args=(
                    *self.plan.fetch_settings, index_queue, self.result_queue, self.done, self.base_seed,
                    self.plan.worker_init_fn, worker_id, self.plan.num_workers, os.getpid()))
                worker.start()
                self.index_queues.append(index_queue)
                self.workers.append(worker)
        finally:
            self.closed = False
        self._start_epoch()

    def _start_epoch(self) -> None:
        self.indices = iter(self.plan.index_sampler)
        self.sent = self.received = 0
        self.tasks: dict[int, tuple[Any, ...]] = {}  # task number -> (worker,) or (worker, data)
        self.active = [True] * len(self.workers)
        self.turns = itertools.cycle(range(len(self.workers)))
        for _ in range(self.plan.prefetch_factor * len(self.workers)):
            self._send()

    def reset(self) -> None:
        """A new epoch for persistent workers: an IterableDataset's workers restart their streams."""
        if self.plan.fetch_settings[1]:  # an IterableDataset
            for index_queue in self.index_queues:
                index_queue.put(Resume())
            for _ in self.index_queues:
                while not isinstance(self._receive()[0], Resume):
                    pass
        self._start_epoch()

    def __iter__(self) -> _WorkersIterator:
        return self

    def __len__(self) -> int:
        return _length(*self.plan.sizes)

    def _send(self) -> None:
        if not any(self.active):
            return
        try:
            indices = next(self.indices)
        except StopIteration:
            return
        worker = next(w for w in self.turns if self.active[w])
        self.index_queues[worker].put((self.sent, indices))
        self.tasks[self.sent] = (worker,)
        self.sent += 1

    def _receive(self) -> tuple[Any, Any]:
        timeout = self.plan.timeout
        while True:
            try:
                return self.result_queue.get(timeout=min(timeout, LIVENESS_SECONDS) if timeout else LIVENESS_SECONDS)
            except queue.Empty:
                dead = [w.pid for w in self.workers if not w.is_alive()]
                if dead:
                    self.close()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited "
                                       "unexpectedly") from None
                if timeout:
                    self.close()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None

    def __next__(self) -> Any:
        while True:
            while self.received < self.sent:  # skip tasks of workers whose stream ended
                task = self.tasks.get(self.received)
                if task is not None and (len(task) == 2 or self.active[task[0]]):
                    break
                self.tasks.pop(self.received, None)
                self.received += 1
            else:
                if not self.plan.persistent:
                    self.close()
                raise StopIteration
            if len(self.tasks[self.received]) == 2:
                data = self.tasks.pop(self.received)[1]
                self.received += 1
                return self._deliver(data)
            number, data = self._receive()
            if isinstance(data, IterationEnd):
                self.active[data.worker_id] = False
                self.tasks.pop(number, None)
                continue
            if number != self.received and self.plan.in_order:
                self.tasks[number] += (data,)
                continue
            del self.tasks[number]
            if number == self.received:
                self.received += 1
            return self._deliver(data)

    def _deliver(self, data: Any) -> Any:
        self._send()
        if isinstance(data, WorkerFailure):
            self.close()
            data.reraise()
        return data

    def close(self) -> None:
        """Stop the workers and wait for them (terminating any that does not stop in 5 s)."""
        if self.closed:
            return
        self.closed = True
        self.done.set()
        for index_queue in self.index_queues:
            index_queue.put(None)
        for worker in self.workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for q in (*self.index_queues, self.result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        self.close()
