"""``F.pixel_shuffle`` and ``F.pixel_unshuffle``: channels traded for resolution and back, as a
reshape, a permutation and a reshape (so the gradient is the inverse rearrangement)."""
from __future__ import annotations

import numpy as np

from .. import memory_format as formats
from ..tensor import Tensor
from .arguments import ArgumentError, integer


def _checked(op: str, x: Tensor, factor: int, what: str) -> int:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    factor = integer(op, what, factor)
    if factor <= 0:
        raise ArgumentError(f"{op} expects a positive {what}, but got {factor}")
    if x.ndim < 3:
        raise ArgumentError(f"{op} expects input to have at least 3 dimensions, but got input with {x.ndim} "
                            f"dimension(s)")
    return factor


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    r = _checked("pixel_shuffle", input, upscale_factor, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ArgumentError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    split = input.reshape(*lead, c // (r * r), r, r, h, w)
    order = tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2)
    return _new_memory(input, split.permute(order).reshape(*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    r = _checked("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ArgumentError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                                f"input.size({dim})={size} is not divisible by {r}")
    n = len(lead)
    split = input.reshape(*lead, c, h // r, r, w // r, r)
    order = tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3)
    return _new_memory(input, split.permute(order).reshape(*lead, c * r * r, h // r, w // r))


def _new_memory(input: Tensor, result: Tensor) -> Tensor:  # noqa: A002
    """``result`` in new memory laid out as PyTorch's kernel lays it out (the input's suggested
    format): the reshapes are views where the permutation moves only size-1 dimensions."""
    form = formats.suggest(input._strides_array())
    if form is formats.channels_last or np.may_share_memory(result._data, input._data):
        return result.clone(memory_format=form)  # (channels-last: its strides for size-1 dimensions too)
    return result.contiguous()
