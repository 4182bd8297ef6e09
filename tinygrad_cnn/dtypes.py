"""PyTorch's dtype names for the NumPy dtypes a Tensor holds (``x.dtype == tc.float32``)."""
import numpy as np

float32 = float = np.float32  # noqa: A001  (PyTorch's names)
float64 = double = np.float64
int64 = long = np.int64
int32 = int = np.int32  # noqa: A001
int16 = short = np.int16
int8 = np.int8
uint8 = np.uint8
bool = np.bool_  # noqa: A001

__all__ = ["float32", "float", "float64", "double", "int64", "long", "int32", "int", "int16", "short", "int8",
           "uint8", "bool"]
