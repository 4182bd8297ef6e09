"""Ordering: ``sort`` and ``topk``. The values are a gather of the input at the indices, so
their gradient flows back to the positions they came from."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import memory_format as formats
from ..tensor import Tensor
from .arguments import ArgumentError, integer, normalize_dim
from .select import GatherAlong, gather


class SortResult(NamedTuple):
    """What ``sort`` and ``topk`` return, as in PyTorch: ``(values, indices)``."""

    values: Tensor
    indices: Tensor


def _order(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``dim`` (ties keep their order); NaN sorts as the largest value."""
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    flipped = np.flip(x, axis=dim)  # a stable descending order: sort the reversed array ascending ...
    order = np.argsort(flipped, axis=dim, kind="stable")
    return np.flip(x.shape[dim] - 1 - order, axis=dim)  # ... and read it backwards


def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> SortResult:
    """The values of ``x`` sorted along ``dim``, and where each came from (ties in order)."""
    del stable  # (the sort is always stable here)
    if x.ndim == 0:
        return SortResult(x.clone(), Tensor(np.zeros((), np.int64)))
    dim = normalize_dim("sort", dim, x.ndim)
    indices, _ = formats.conform(_order(x._data, dim, descending).astype(np.int64), "preserve", [x._strides_array()])
    return SortResult(GatherAlong.apply(x, Tensor(indices), dim=dim, output_layout="preserve"), Tensor(indices))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    return sort(x, dim, descending, stable=stable).indices


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> SortResult:  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first."""
    del sorted  # (they always come sorted here, which PyTorch allows)
    dim = normalize_dim("topk", dim, x.ndim)
    size = x.shape[dim] if x.ndim else 1
    k = integer("topk", "k", k, minimum=0)
    if k > size:
        raise ArgumentError(f"topk: k ({k}) is out of range for dimension {dim} of size {size}")
    if x.ndim == 0:
        return SortResult(x.clone(), Tensor(np.zeros((), np.int64)))
    indices = _order(x._data, dim, largest).astype(np.int64)
    indices = np.take(indices, np.arange(k), axis=dim)
    return SortResult(gather(x, dim, indices), Tensor(indices))
