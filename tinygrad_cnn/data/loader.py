"""DataLoader: shuffled (seeded) batches of a dataset as Tensors."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..ops.arguments import is_integer
from ..random import generator
from ..tensor import Tensor
from .dataset import ArrayDataset


class DataLoader:
    """Iterate over ``(inputs, targets)`` batches of Tensors.

    The order is drawn from the library's generator, so ``tc.manual_seed`` fixes it. For
    exact resumption mid-epoch, ``epoch_order()`` draws an epoch's order and
    ``batches(order, start)`` yields its batches from any point.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False) -> None:
        if not is_integer(batch_size):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        batch_size = int(batch_size)
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last

    def __len__(self) -> int:
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def epoch_order(self) -> np.ndarray:
        n = len(self.dataset)
        return generator().permutation(n) if self.shuffle else np.arange(n)

    def batches(self, order: np.ndarray, start: int = 0) -> Iterator[tuple[Tensor, Tensor]]:
        for b in range(start, len(self)):
            yield self._fetch(order[b * self.batch_size:(b + 1) * self.batch_size])

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return self.batches(self.epoch_order())

    def _fetch(self, indices: np.ndarray) -> tuple[Tensor, Tensor]:
        if isinstance(self.dataset, ArrayDataset):
            inputs, targets = self.dataset[indices]
        else:  # any sequence of (input, target) pairs
            pairs = [self.dataset[int(i)] for i in indices]
            inputs, targets = np.stack([p[0] for p in pairs]), np.asarray([p[1] for p in pairs])
        return Tensor(np.asarray(inputs)), Tensor(np.asarray(targets))
