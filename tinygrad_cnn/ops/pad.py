"""``F.pad``: constant, reflect, replicate and circular padding of the last dimensions.

Padding moves data, so it is built from indexing primitives: a constant pad writes the input
into a filled tensor (SetItem), and the other modes gather each output position's source
index along every padded dimension (GetItem with an index array, whose gradient adds the
repeats back up). Negative constant padding crops, as in PyTorch.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import memory_format as formats
from ..tensor import Tensor
from .arguments import ArgumentError, NotImplementedArgumentsError, is_integer
from .shape import SetItem

MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of the padded dimension, the input position it copies."""
    position = np.arange(-before, size + after)
    if mode == "reflect":  # mirror without repeating the edge: -1 -> 1, size -> size - 2
        period = 2 * (size - 1)
        folded = np.abs(position) % period if period else np.zeros_like(position)
        return np.where(folded >= size, period - folded, folded)
    if mode == "replicate":
        return np.clip(position, 0, size - 1)
    return position % size  # circular


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the last len(pad) // 2 dimensions: ``pad = (left, right, top, bottom, ...)``, the last
    dimension first (PyTorch's order); negative amounts crop."""
    op = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode not in MODES:
        raise ArgumentError(f"{op}: unknown padding mode {mode!r}; expected one of {', '.join(MODES)}")
    amounts = tuple(pad)
    if len(amounts) % 2 or not all(is_integer(a) for a in amounts):
        raise ArgumentError(f"{op}: pad must be an even number of ints (before, after) per dimension, got {pad!r}")
    if len(amounts) // 2 > input.ndim:
        raise ArgumentError(f"{op}: pad {pad!r} pads {len(amounts) // 2} dimensions of a {input.ndim}-D input")
    if mode != "constant" and value not in (None, 0):
        raise ArgumentError(f"{op}: a value can only be given for mode 'constant', not {mode!r}")
    # (dimension, before, after), innermost dimension first as PyTorch lists them
    sides = [(input.ndim - 1 - i, int(amounts[2 * i]), int(amounts[2 * i + 1])) for i in range(len(amounts) // 2)]
    if mode == "constant":
        return _constant(input, sides, 0.0 if value is None else value)
    return _gathered(op, input, sides, mode)


def _constant(x: Tensor, sides: list[tuple[int, int, int]], value: float) -> Tensor:
    for dim, before, after in sides:
        if x.shape[dim] + min(before, 0) + min(after, 0) < 0:  # cropped first, as PyTorch's narrow()
            raise ArgumentError(f"pad: padding ({before}, {after}) would crop dimension {dim} of a tensor of shape "
                                f"{x.shape} to a negative size (narrow(): length must be non-negative)")
    crop = [slice(None)] * x.ndim
    for dim, before, after in sides:  # negative amounts crop
        crop[dim] = slice(max(-before, 0), x.shape[dim] - max(-after, 0))
    if any(before < 0 or after < 0 for _, before, after in sides):
        x = x[tuple(crop)]
    shape, interior = list(x.shape), [slice(None)] * x.ndim
    for dim, before, after in sides:
        before, after = max(before, 0), max(after, 0)
        interior[dim] = slice(before, before + x.shape[dim])
        shape[dim] = x.shape[dim] + before + after
    if tuple(shape) == x.shape:
        return x.clone()  # new memory, as PyTorch's (x may be a crop of the input)
    filled = Tensor(formats.in_format(np.full(shape, value, dtype=x.dtype), formats.suggest(x._strides_array())))
    return SetItem.apply(filled, x, index=tuple(interior))


def _gathered(op: str, source: Tensor, sides: list[tuple[int, int, int]], mode: str) -> Tensor:
    x = source
    if not (len(sides) in (x.ndim - 2, x.ndim - 1) and 1 <= len(sides) <= 3):
        raise NotImplementedArgumentsError(
            f"{op}: mode {mode!r} pads the last 1 to 3 dimensions of an input with batch and channel "
            f"dimensions (or channels only) first: {len(sides)} dimensions cannot be padded in a "
            f"tensor of shape {x.shape}")
    batched = x.ndim == len(sides) + 2
    if mode != "circular" and 0 in x.shape[1 if batched else 0:]:  # PyTorch's rule: only a batch may be empty
        raise ArgumentError(f"{op}: mode {mode!r} needs every dimension but the batch to be non-empty, got a tensor "
                            f"of shape {x.shape}")
    for dim, before, after in sides:
        if mode == "circular" and min(before, after) < 0:  # PyTorch crops first, then wraps the rest
            x = x[(slice(None),) * dim + (slice(max(-before, 0), x.shape[dim] - max(-after, 0)),)]
            before, after = max(before, 0), max(after, 0)
        size = x.shape[dim]
        # replicate repeats the edge as far as asked; reflect and circular read inside the dimension
        limit, rule = {"reflect": (size - 1, "less than"), "circular": (size, "at most")}.get(mode, (math.inf, ""))
        if size == 0 or size + before + after <= 0:
            raise ArgumentError(f"{op}: mode {mode!r} cannot pad dimension {dim} of size {size} by ({before}, "
                                f"{after}) in a tensor of shape {x.shape}")
        if max(before, after) > limit:
            raise ArgumentError(f"{op}: mode {mode!r} needs padding {rule} dimension {dim}'s size {size}, got "
                                f"({before}, {after}) for a tensor of shape {x.shape}")
        x = x[(slice(None),) * dim + (_source_index(size, before, after, mode),)]
    # PyTorch's layout: circular padding writes row-major memory, the others keep channels-last
    form = formats.contiguous_format if mode == "circular" else formats.suggest(source._strides_array())
    return x.contiguous(memory_format=form)
