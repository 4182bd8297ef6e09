"""Parameter: a leaf Tensor that a Module registers as learnable."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..device import device as tc_device
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad and is found by ``Module.parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def parameter_dtype(device: Any = None, dtype: Any = None) -> np.dtype:
    """The dtype a layer's parameters get from PyTorch's ``device=`` and ``dtype=`` arguments
    (float32 unless given; only the CPU exists)."""
    if device is not None:
        tc_device(device)
    result = np.dtype(np.float32 if dtype is None else dtype)
    if result.kind != "f":
        raise TypeError(f"parameters must be floating point, got dtype={dtype!r}")
    return result
