"""Broadcasting's inverse: a gradient summed back to the shape of an input that was broadcast."""
from __future__ import annotations

from collections.abc import Sequence

from ..tensor import Tensor
from .arguments import ArgumentError


def sum_to_shape(gradient: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast gradient back down to ``shape`` (which must broadcast to the gradient's)."""
    if gradient._data.shape == shape:
        return gradient
    lead = gradient.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gradient.shape[lead + i] != 1
    )
    summed = gradient.sum(dim=axes, keepdim=True) if axes else gradient
    return summed.reshape(shape)


def broadcasts_to(shape: Sequence[int], target: Sequence[int]) -> bool:
    """True when a tensor of ``shape`` broadcasts to ``target`` (is expandable to it)."""
    return len(shape) <= len(target) and all(n in (1, m) for n, m in zip(shape[::-1], target[::-1]))


def sum_to_size(x: Tensor, *size: int | Sequence[int]) -> Tensor:
    """PyTorch's ``Tensor.sum_to_size``: ``x`` summed to ``size``, which must be expandable to
    x's shape; x itself when the shapes are equal."""
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
    if not broadcasts_to(shape, x.shape):
        raise ArgumentError(f"sum_to_size: size {{{list(shape)}}} is not expandable to size {{{list(x.shape)}}}.")
    return sum_to_shape(x, shape)
