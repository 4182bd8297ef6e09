"""Selection: masked_fill, gather, index_select (PyTorch's semantics)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .arguments import ArgumentError, IndexRangeError, normalize_dim
from .elementwise import Where, condition_tensor


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``x`` with ``value`` where ``mask`` holds, the two broadcast together (as PyTorch's
    out-of-place form, whose result may be larger than x)."""
    mask = condition_tensor("masked_fill", mask)
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ArgumentError(f"masked_fill: a mask of shape {mask.shape} does not broadcast with the tensor's "
                            f"shape {x.shape}") from None
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ArgumentError(f"masked_fill: the value must be a number or a 0-d tensor, got shape {value.shape}")
    return Where.apply(mask, value if isinstance(value, Tensor) else float(value), x)


def _index_array(op: str, index: Any) -> np.ndarray:
    array = index._data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must hold integers, got dtype {array.dtype}")
    return array


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j][k] = x[index[i][j][k]][j][k] along ``dim`` (PyTorch's gather): ``index`` has
    x's number of dimensions and is no larger than x except along ``dim``."""
    index = _index_array("gather", index)
    dim = normalize_dim("gather", dim, x.ndim)
    if index.ndim != x.ndim or any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        raise ArgumentError(f"gather: index of shape {index.shape} must have the {x.ndim} dimensions of the input "
                            f"{x.shape} and be no larger except in dimension {dim}")
    _in_range("gather", index, x.shape, dim)
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    return x[tuple(positions)]


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The entries of ``x`` at the 1-D ``index`` along ``dim`` (repeats allowed)."""
    index = _index_array("index_select", index)
    dim = normalize_dim("index_select", dim, x.ndim)
    if index.ndim > 1:
        raise ArgumentError(f"index_select: index must be 1-D, got shape {index.shape}")
    _in_range("index_select", index, x.shape, dim)
    return x[(slice(None),) * dim + (index.reshape(-1),)]


def _in_range(op: str, index: np.ndarray, shape: tuple[int, ...], dim: int) -> None:
    """Refuse indices outside [0, size): PyTorch's gather and index_select take no negative ones."""
    if index.size and (index.min() < 0 or index.max() >= shape[dim]):
        raise IndexRangeError(f"{op}: index values must be in [0, {shape[dim]}) for dimension {dim} of shape "
                              f"{shape}, got {index.min()}..{index.max()}")
