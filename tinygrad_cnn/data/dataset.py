"""ArrayDataset: examples held in arrays, indexable by one index or a whole batch of them."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class ArrayDataset:
    """``inputs[i]`` and ``targets[i]`` form example i; ``transform`` maps a batch of inputs.

    Indexing with an integer array returns the whole batch in one vectorised step, which is
    how ``DataLoader`` reads it.
    """

    def __init__(self, inputs: np.ndarray, targets: np.ndarray,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if len(inputs) != len(targets):
            raise ValueError(f"{type(self).__name__}: {len(inputs)} inputs but {len(targets)} targets")
        self.data, self.targets, self.transform = inputs, targets, transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        inputs = self.data[index]
        return (self.transform(inputs) if self.transform else inputs), self.targets[index]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self)} examples, inputs {self.data.shape[1:]}, "
                f"transform={self.transform!r})")
