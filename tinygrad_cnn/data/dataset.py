"""ArrayDataset: examples held in two arrays, read one sample at a time or a whole batch at once."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..utils.data.collate import StackedSamples
from ..utils.data.dataset import Dataset
from .transforms import batchable


class ArrayDataset(Dataset):
    """Sample i is ``(transform(inputs[i]), target_transform(targets[i]))``.

    A DataLoader fetches a batch through ``__getitems__``: when the transforms can take a whole
    batch (``transforms.batchable``), it is indexed and transformed in one vectorised step and
    collated without being split into samples; otherwise sample by sample.
    """

    def __init__(self, inputs: np.ndarray, targets: np.ndarray, transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None) -> None:
        if len(inputs) != len(targets):
            raise ValueError(f"{type(self).__name__}: {len(inputs)} inputs but {len(targets)} targets")
        self.data, self.targets = inputs, targets
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        sample, target = self.data[index], self.targets[index]
        if isinstance(target, np.integer):
            target = int(target)  # a Python int, as torchvision's datasets give
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __getitems__(self, indices: Sequence[int]) -> StackedSamples | list[tuple[Any, Any]]:
        if not (batchable(self.transform) and batchable(self.target_transform)):
            return [self[i] for i in indices]
        index = np.asarray(indices, dtype=np.int64)
        samples, targets = self.data[index], self.targets[index]
        if self.transform is not None:
            samples = self.transform.batch(samples)
        if self.target_transform is not None:
            targets = self.target_transform.batch(targets)
        return StackedSamples(samples, targets)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self)} examples, inputs {self.data.shape[1:]}, "
                f"transform={self.transform!r})")
