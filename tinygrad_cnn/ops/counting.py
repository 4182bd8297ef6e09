"""Operations that count or locate entries: ``nonzero``, ``unique``, ``bincount``, and the
index-built ``repeat_interleave`` and ``index_add`` (differentiable through ``index_select``
and ``scatter_add``). Their results' sizes depend on the values, as in PyTorch."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .arguments import ArgumentError, DtypeError, normalize_dim
from .select import index_select, scatter_add


def _tensor(op: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    return x


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:  # noqa: A002
    """The indices of the non-zero entries: an (n, ndim) int64 tensor, or one per dimension."""
    x = _tensor("nonzero", input)
    found = np.nonzero(x._data) if x.ndim else np.nonzero(x._data.reshape(1))
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in found)
    return Tensor(np.stack(found, axis=1).astype(np.int64) if x.ndim else np.zeros((len(found[0]), 0), np.int64))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
    """The distinct values (sorted), with where each entry's value is among them and how often
    each occurs on request; ``dim`` takes distinct slices along that dimension."""
    x = _tensor("unique", input)
    axis = None if dim is None else normalize_dim("unique", dim, x.ndim)
    values, inverse, counts = np.unique(x._data, return_inverse=True, return_counts=True, axis=axis)
    results = [Tensor(values)]
    if return_inverse:
        results.append(Tensor(inverse.reshape(x.shape if axis is None else (-1,)).astype(np.int64)))
    if return_counts:
        results.append(Tensor(counts.astype(np.int64)))
    return results[0] if len(results) == 1 else tuple(results)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How often each value 0, 1, ... occurs in a 1-D tensor of non-negative integers (or the
    sum of ``weights`` at its occurrences)."""
    x = _tensor("bincount", input)
    if x.ndim != 1 or x.dtype.kind not in "iub":
        raise ArgumentError(f"bincount: only 1-d non-negative integral inputs are supported, got shape {x.shape} "
                            f"and dtype {x.dtype}")
    if x._data.size and x._data.min() < 0:
        raise ArgumentError("bincount: only 1-d non-negative integral inputs are supported, got a negative value")
    if weights is not None and _tensor("bincount", weights).shape != x.shape:
        raise ArgumentError(f"bincount: weights of shape {weights.shape} for input of shape {x.shape}")
    counted = np.bincount(x._data, None if weights is None else weights._data, minlength)
    return Tensor(counted if weights is not None else counted.astype(np.int64))


def repeat_interleave(input: Tensor, repeats: int | Tensor, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:
    """Each entry (or slice along ``dim``; the flattened input without one) repeated
    ``repeats`` times, a count per entry when ``repeats`` is a tensor."""
    x = _tensor("repeat_interleave", input)
    if dim is None:
        x, dim = x.reshape(-1), 0
    dim = normalize_dim("repeat_interleave", dim, x.ndim)
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts.ndim == 1 and counts.size not in (1, x.shape[dim])):
        raise ArgumentError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor of "
                            f"{x.shape[dim]} counts, got {repeats!r}")
    if (counts < 0).any():
        raise ArgumentError("repeat_interleave: repeats can not be negative")
    index = np.repeat(np.arange(x.shape[dim]), counts.reshape(-1) if counts.ndim else int(counts))
    if output_size is not None and output_size != index.size:
        raise ArgumentError(f"repeat_interleave: output_size {output_size} for {index.size} entries")
    return index_select(x, dim, Tensor(index))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``alpha * source``'s slices along ``dim`` added at ``index``
    (repeated indices add up); differentiable in both tensors."""
    x, source = _tensor("index_add", input), _tensor("index_add", source)
    dim = normalize_dim("index_add", dim, x.ndim)
    positions = np.asarray(_tensor("index_add", index)._data)
    if positions.ndim > 1 or positions.dtype.kind not in "iu":
        raise ArgumentError(f"index_add: index must be a 1-D integer tensor, got shape {positions.shape}")
    if source.dtype != x.dtype:
        raise DtypeError(f"index_add: source of dtype {source.dtype} for input of dtype {x.dtype}")
    expected = x.shape[:dim] + (positions.size,) + x.shape[dim + 1:]
    if source.shape != expected:
        raise ArgumentError(f"index_add: source of shape {source.shape} for input {x.shape}, dim {dim} and "
                            f"{positions.size} indices: expected {expected}")
    shape = [1] * x.ndim
    shape[dim] = positions.size
    spread = np.broadcast_to(positions.reshape(shape), expected)
    return scatter_add(x, dim, Tensor(np.ascontiguousarray(spread)), source * alpha if alpha != 1 else source)
