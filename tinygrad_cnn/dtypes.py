"""PyTorch's dtype names for the NumPy dtypes a Tensor holds (``x.dtype == tc.float32``), and
the default floating-point dtype (``set_default_dtype``)."""
from typing import Any

import numpy as np

float32 = float = np.float32  # noqa: A001  (PyTorch's names)
float64 = double = np.float64
int64 = long = np.int64
int32 = int = np.int32  # noqa: A001
int16 = short = np.int16
int8 = np.int8
uint8 = np.uint8
bool = np.bool_  # noqa: A001

_default_float = [np.dtype(np.float32)]


def get_default_dtype() -> np.dtype:
    """The dtype of Python floats in new tensors, of creation functions without ``dtype=`` and
    of float results from integers (float32 unless set)."""
    return _default_float[0]


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` (float32 or float64) the default floating-point dtype, as PyTorch's."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 can be the default dtype, got {dtype}")
    _default_float[0] = dtype


__all__ = ["get_default_dtype", "set_default_dtype",
           "float32", "float", "float64", "double", "int64", "long", "int32", "int", "int16", "short", "int8",
           "uint8", "bool"]
