"""Joining and splitting tensors: cat, stack, split, chunk (PyTorch's names and rules)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import views
from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, integer, is_integer, normalize_dim


class Cat(Primitive):
    """The inputs joined along ``dim``; each input's gradient is its slice of the output's."""

    output_layout = "suggest_all"
    backward_reads = ()

    @staticmethod
    def forward(ctx, *arrays, dim):
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        dim = ctx.settings["dim"]
        ends = np.cumsum([t.shape[dim] for t in ctx.inputs]).tolist()
        pieces = CatBackward.apply(grad, bounds=tuple(zip([0] + ends[:-1], ends)), dim=dim)  # (a tuple, always)
        return tuple(piece if need else None for need, piece in zip(ctx.needs_input_grad, pieces))


class CatBackward(Primitive):
    """The gradient's slices along ``dim`` between ``bounds``, as new memory in the gradient's
    own memory order. A channels-last gradient (a DenseNet's, from batch norm) is cut along its
    rows and its pieces stay channels-last, where slicing views of it would first transpose the
    whole gradient to the row-major memory PyTorch's views describe."""

    output_layout = None
    backward_reads = ()

    @staticmethod
    def forward(ctx, grad, bounds, dim):
        lead = (slice(None),) * dim
        return tuple(grad[lead + (slice(a, b),)].copy(order="K") for a, b in bounds)

    @staticmethod
    def backward(ctx, *grads):
        return (Cat.apply(*grads, dim=ctx.settings["dim"]),)


def _tensors(op: str, tensors: Sequence[Tensor]) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of Tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ArgumentError(f"{op}: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__} at position {i}")
    return list(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape except along ``dim`` (dtypes promote as in PyTorch)."""
    tensors = _tensors("cat", tensors)
    first = tensors[0]
    if first.ndim == 0:
        raise ArgumentError("cat: zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = normalize_dim("cat", dim, first.ndim)
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(a != b for d, (a, b) in enumerate(zip(t.shape, first.shape)) if d != dim):
            raise ArgumentError(f"cat: sizes of tensors must match except in dimension {dim}; tensor 0 has shape "
                                f"{first.shape}, tensor {i} has shape {t.shape}")
    return Cat.apply(*tensors, dim=dim)  # new memory, even for one tensor (as PyTorch)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension ``dim``."""
    tensors = _tensors("stack", tensors)
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise ArgumentError(f"stack: expects each tensor to be equal size, but got {tensors[0].shape} at entry 0 "
                                f"and {t.shape} at entry {i}")
    dim = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Views of ``tensor`` along ``dim``: pieces of one size (the last may be smaller), or of
    the listed sizes, which must add up to the dimension's size."""
    dim = normalize_dim("split", dim, tensor.ndim)
    size = tensor.shape[dim]
    if is_integer(split_size_or_sections):
        step = integer("split", "split_size", split_size_or_sections, minimum=0)
        if step == 0:
            if size:
                raise ArgumentError(f"split: split_size can only be 0 when dimension {dim} has size 0, not {size}")
            return (tensor,)
        sections = [min(step, size - start) for start in range(0, size, step)] or [0]
    else:
        sections = [integer("split", "a section size", s, minimum=0) for s in split_size_or_sections]
        if sum(sections) != size:
            raise ArgumentError(f"split: section sizes {list(sections)} add up to {sum(sections)}, but dimension "
                                f"{dim} of a tensor of shape {tensor.shape} has size {size}")
    lead = (slice(None),) * dim
    ends = np.cumsum(sections).tolist()
    pieces = tuple(tensor[lead + (slice(end - s, end),)] for s, end in zip(sections, ends))
    views.mark_one_of_many(pieces)
    return pieces


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """At most ``chunks`` views of size ceil(size / chunks) along ``dim`` (as PyTorch: fewer
    when the size does not allow that many)."""
    chunks = integer("chunk", "chunks", chunks, minimum=1)
    dim = normalize_dim("chunk", dim, input.ndim)
    size = input.shape[dim]
    if size == 0:
        return split(input, [0] * chunks, dim)
    return split(input, math.ceil(size / chunks), dim)
