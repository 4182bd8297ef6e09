"""Validation and normalisation of operation arguments, with errors that name the operation."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def normalize_dim(op: str, dim: int, ndim: int) -> int:
    """A dimension index in ``range(ndim)``; negative values count from the end."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not low <= dim <= high:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected {low}..{high})"
        )
    return dim % ndim if ndim else 0


def normalize_dims(op: str, dims: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """A sorted tuple of distinct dimensions; None means all of them."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    result = tuple(sorted({normalize_dim(op, d, ndim) for d in dims}))
    if len(result) != len(tuple(dims)):
        raise ValueError(f"{op}: dims {tuple(dims)} repeat a dimension")
    return result


def pair(op: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each at least ``minimum``, as a pair."""
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return values  # type: ignore[return-value]
