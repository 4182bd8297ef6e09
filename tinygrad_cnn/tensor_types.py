"""PyTorch's legacy typed tensor names: ``tc.FloatTensor([1, 2])``, ``tc.LongTensor(2, 3)``,
``isinstance(t, tc.FloatTensor)`` and ``t.type()`` ("torch.FloatTensor"), which old tutorials use."""
from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
          np.dtype(np.int64): "LongTensor", np.dtype(np.int32): "IntTensor", np.dtype(np.int16): "ShortTensor",
          np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor", np.dtype(np.bool_): "BoolTensor"}
_DTYPES = {name: dtype for dtype, name in _NAMES.items()}


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return input.is_floating_point()


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()


def type_name(dtype: np.dtype) -> str:
    """PyTorch's name of a CPU tensor type of ``dtype`` ("torch.FloatTensor")."""
    return "torch." + _NAMES[np.dtype(dtype)]


def dtype_of(kind: Any) -> np.dtype:
    """The dtype that ``kind`` names: a dtype, "torch.LongTensor" / "LongTensor", or a class below."""
    if isinstance(kind, type) and issubclass(kind, TypedTensor):
        return kind.dtype
    if isinstance(kind, str):
        name = kind.rsplit(".", 1)[-1]
        if name not in _DTYPES:
            raise ValueError(f"type: invalid type {kind!r}; expected one of {sorted(_DTYPES)}")
        return _DTYPES[name]
    return np.dtype(kind)


class _TypedTensorMeta(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype


class TypedTensor(metaclass=_TypedTensorMeta):
    """``FloatTensor(data)`` is a float32 copy of data; ``FloatTensor(2, 3)`` an uninitialised
    2x3 tensor; ``FloatTensor()`` an empty one."""

    dtype: np.dtype

    def __new__(cls, *args: Any) -> Tensor:  # type: ignore[misc]
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            source = args[0]._data if isinstance(args[0], Tensor) else args[0]
            return Tensor(np.array(source, dtype=cls.dtype))
        if not all(isinstance(n, (int, np.integer)) for n in args):
            raise TypeError(f"{cls.__name__}: expected data or sizes, got {args!r}")
        return Tensor(np.empty(tuple(int(n) for n in args), dtype=cls.dtype))


def _typed(name: str) -> type[TypedTensor]:
    return _TypedTensorMeta(name, (TypedTensor,), {"dtype": _DTYPES[name], "__module__": __name__})


FloatTensor = _typed("FloatTensor")
DoubleTensor = _typed("DoubleTensor")
LongTensor = _typed("LongTensor")
IntTensor = _typed("IntTensor")
ShortTensor = _typed("ShortTensor")
CharTensor = _typed("CharTensor")
ByteTensor = _typed("ByteTensor")
BoolTensor = _typed("BoolTensor")

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
           "BoolTensor", "type_name", "dtype_of"]
