"""Functions that create tensors: constants, ranges and random draws from the shared generator.

Dtypes follow PyTorch: the default float dtype (float32 unless ``set_default_dtype``) unless
given, except that ``arange`` and ``full`` infer an integer (int64) or bool dtype from integer
or bool arguments. Every function takes ``device=`` (the CPU), as PyTorch's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .device import device as _device
from .dtypes import get_default_dtype
from .errors import DtypeError
from .ops.arguments import integer, is_integer
from .random import Generator
from .random import generator as numpy_generator
from .tensor import Tensor, sizes_argument


def _float(dtype: Any, device: Any) -> np.dtype:
    """The dtype asked for (the default float dtype when None), after checking the device."""
    if device is not None:
        _device(device)
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _shape(op: str, shape: tuple) -> tuple[int, ...]:
    return tuple(integer(op, "a size", n, minimum=0) for n in sizes_argument(shape))


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (as ``torch.tensor``; ``Tensor(array)`` shares)."""
    if device is not None:
        _device(device)
    source = data._data if isinstance(data, Tensor) else data
    array = Tensor(source, dtype=dtype)._data
    if isinstance(source, np.ndarray) and np.shares_memory(array, source):
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor(array)


def empty(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.empty(_shape("empty", shape), dtype=_float(dtype, device)), requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape("zeros", shape), dtype=_float(dtype, device)), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape("ones", shape), dtype=_float(dtype, device)), requires_grad=requires_grad)


def _fill_dtype(value: Any, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    if isinstance(value, (bool, np.bool_)):
        return np.bool_
    return np.int64 if is_integer(value) else get_default_dtype()


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (int64 for an integer, bool for a bool)."""
    _float(None, device)
    return Tensor(np.full(_shape("full", (size,)), fill_value, dtype=_fill_dtype(fill_value, dtype)),
                  requires_grad=requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``[start, end)`` in steps of ``step`` (``arange(end)`` starts at 0); int64 when all three
    are integers, else the default float dtype."""
    start, end = (0, start) if end is None else (start, end)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        dtype = np.int64 if all(is_integer(v) for v in (start, end, step)) else _float(None, device)
    elif device is not None:
        _device(device)
    count = max(int(np.ceil((end - start) / step)), 0)
    values = start + step * np.arange(count, dtype=np.float64 if np.dtype(dtype).kind == "f" else np.int64)
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    n = integer("eye", "n", n, minimum=0)
    m = n if m is None else integer("eye", "m", m, minimum=0)
    return Tensor(np.eye(n, m, dtype=_float(dtype, device)), requires_grad=requires_grad)


def randn(*shape: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    data = numpy_generator(generator).standard_normal(_shape("randn", shape), dtype=_float(dtype, device).type)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    data = numpy_generator(generator).random(_shape("rand", shape), dtype=_float(dtype, device).type)
    return Tensor(data, requires_grad=requires_grad)


def randint(*args: Any, generator: Generator | None = None, dtype: Any = np.int64, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    if len(args) not in (2, 3):
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {len(args)} arguments")
    low, high, size = (0, *args) if len(args) == 2 else args
    _float(None, device)
    low, high = integer("randint", "low", low), integer("randint", "high", high)
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    if requires_grad:
        raise DtypeError("randint: only Tensors of floating point and complex dtype can require gradients")
    return Tensor(numpy_generator(generator).integers(low, high, _shape("randint", (size,)), dtype=dtype))


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = np.int64, device: Any = None) -> Tensor:
    """A random permutation of 0..n-1, from ``generator`` or the shared one."""
    _float(None, device)
    return Tensor(numpy_generator(generator).permutation(integer("randperm", "n", n, minimum=0)).astype(dtype))


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return empty(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    steps = integer("linspace", "steps", steps, minimum=0)
    values = np.linspace(float(start), float(end), steps)
    dtype = _float(dtype, device)
    if dtype.kind in "iu":  # PyTorch truncates toward zero for integer dtypes
        values = np.trunc(values)
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the exponent."""
    steps = integer("logspace", "steps", steps, minimum=0)
    values = float(base) ** np.linspace(float(start), float(end), steps)
    return Tensor(values.astype(_float(dtype, device)), requires_grad=requires_grad)
