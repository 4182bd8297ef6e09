"""Functions that create tensors: constants and random draws from the shared generator."""
from __future__ import annotations

from typing import Any

import numpy as np

from .random import generator
from .tensor import Tensor, sizes_argument


def zeros(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(sizes_argument(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(sizes_argument(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    data = generator().standard_normal(sizes_argument(shape), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    data = generator().random(sizes_argument(shape), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad)
