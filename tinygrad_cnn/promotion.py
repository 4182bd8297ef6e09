"""PyTorch's type promotion: the dtype of ``a + b`` when a and b differ.

NumPy and PyTorch disagree: NumPy gives ``float32 * int64`` float64, PyTorch float32. PyTorch's
rule (``torch.result_type``):

- dtypes fall into categories, bool < integer < floating;
- tensors with dimensions decide among themselves (``promote_types``: the higher category's
  dtype, or within one category the type that holds both, so uint8 + int8 is int16);
- 0-dim tensors and Python numbers can only raise the category: float32 + a float64 0-dim
  tensor stays float32, int32 + a float64 0-dim tensor gives float64, int32 + 2.5 gives the
  default float dtype (a Python float counts as that dtype, an int as int64);
- true division and float functions (exp, sqrt, ...) of integers give the default float dtype.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import get_default_dtype
from .tensor import Tensor

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    return _CATEGORY[dtype.kind]


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The smallest dtype both convert to without leaving their category, as ``torch.promote_types``."""
    a, b = np.dtype(type1), np.dtype(type2)
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)  # within a category NumPy's answer is PyTorch's


def _scalar_dtype(value: Any) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(value, (float, np.floating)):
        return get_default_dtype()
    raise TypeError(f"result_type: expected Tensors or numbers, got {type(value).__name__}")


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's ``combine_categories``: a lower-priority group counts only when it raises the
    category of the higher one."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an operation on ``operands`` (Tensors and numbers)."""
    dimensioned = zero_dim = numbers = None
    for value in operands:
        if isinstance(value, Tensor):
            dtype = value._data.dtype
            if value._data.ndim:
                dimensioned = dtype if dimensioned is None else promote_types(dimensioned, dtype)
            else:
                zero_dim = dtype if zero_dim is None else promote_types(zero_dim, dtype)
        else:
            dtype = _scalar_dtype(value)
            numbers = dtype if numbers is None else promote_types(numbers, dtype)
    result = _combine(dimensioned, _combine(zero_dim, numbers))
    if result is None:
        raise TypeError("result_type: expected at least one Tensor or number")
    return result


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` to ``to``: never to a lower category."""
    return _CATEGORY[np.dtype(from_).kind] <= _CATEGORY[np.dtype(to).kind]


def floating(dtype: np.dtype) -> np.dtype:
    """The dtype of a float function of ``dtype`` values: itself if floating, else the default."""
    return dtype if dtype.kind == "f" else get_default_dtype()
