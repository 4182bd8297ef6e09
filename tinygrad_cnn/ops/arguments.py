"""Validation and normalisation of operation arguments, with errors that name the operation.

Integer settings accept Python and NumPy integers (as PyTorch does) and refuse floats and
bools with a TypeError that names the argument.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ArgumentError, DtypeError, IndexRangeError, NotImplementedArgumentsError

__all__ = ["ArgumentError", "DtypeError", "IndexRangeError", "NotImplementedArgumentsError", "is_integer",
           "integer", "normalize_dim", "normalize_dims", "pair", "same_float_dtype"]


def is_integer(value: Any) -> bool:
    """True for Python and NumPy integers, False for bools (which Python counts as ints)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(op: str, name: str, value: Any, minimum: int | None = None) -> int:
    """``value`` as a Python int, at least ``minimum``."""
    if not is_integer(value):
        raise TypeError(f"{op}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{op}: {name} must be at least {minimum}, got {value}")
    return int(value)


def normalize_dim(op: str, dim: int, ndim: int) -> int:
    """A dimension index in ``range(ndim)``; negative values count from the end."""
    if not is_integer(dim):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not low <= dim <= high:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected {low}..{high})"
        )
    return int(dim) % ndim if ndim else 0


def normalize_dims(op: str, dims: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """A sorted tuple of distinct dimensions; None means all of them. A 0-d tensor has none:
    dim 0 or -1 names nothing there (as in PyTorch)."""
    if dims is None:
        return tuple(range(ndim))
    if ndim == 0:
        for d in (dims,) if is_integer(dims) else dims:
            normalize_dim(op, d, 0)
        return ()
    if is_integer(dims):
        dims = (dims,)
    result = tuple(sorted({normalize_dim(op, d, ndim) for d in dims}))
    if len(result) != len(tuple(dims)):
        raise ArgumentError(f"{op}: dims {tuple(dims)} repeat a dimension")
    return result


def pair(op: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each at least ``minimum``, as a pair."""
    values = (value, value) if is_integer(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != 2 or not all(is_integer(v) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(values) < minimum:
        raise ArgumentError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return int(values[0]), int(values[1])


def single(op: str, name: str, value: Any, minimum: int) -> tuple[int]:
    """An int or a 1-tuple of an int, at least ``minimum``, as a 1-tuple (a 1-D layer's setting)."""
    values = (value,) if is_integer(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != 1 or not is_integer(values[0]):
        raise TypeError(f"{op}: {name} must be an int or a 1-tuple of an int, got {value!r}")
    if values[0] < minimum:
        raise ArgumentError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return (int(values[0]),)


def same_float_dtype(op: str, **tensors: Any) -> None:
    """Refuse tensors of different float dtypes, as PyTorch's layers do (no silent float64)."""
    named = [(name, t) for name, t in tensors.items() if t is not None]
    for name, t in named:
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype}")
    dtypes = {t.dtype for _, t in named}
    if len(dtypes) > 1:
        listing = ", ".join(f"{name} {t.dtype}" for name, t in named)
        raise DtypeError(f"{op}: expected one dtype, got {listing}; convert with .float() or .double() "
                        "(a model follows its parameters: model.double())")
