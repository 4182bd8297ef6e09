"""Kernel offsets that only ever see padding, and how a convolution leaves them out (idea 39).

A ResNet's 3x3 layers on a 1x1 image read their input with the centre offset alone: the
other eight only multiply padding. The planner's "live window" backend runs such a problem
as the padding-0 problem of the offsets that touch the input (``live_input``), which gives the
same result, except where a left-out weight is infinite or NaN: PyTorch multiplies those by
the padding's zeros and gets NaN, which ``poisoned_channels`` finds.
"""
from __future__ import annotations

import weakref

import numpy as np

from ... import windows
from ...versions import version_of

Pair = tuple[int, int]


def live_window(x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                out_hw: Pair) -> tuple[Pair, Pair] | None:
    """The (first, last) kernel offsets along each axis that ever touch the input (stride-1
    axes only), or None when every offset does."""
    if padding == (0, 0):  # every window lies inside the input
        return None
    spans = tuple(windows.live_taps(x_shape[2 + a], kernel[a], padding[a], dilation[a], out_hw[a])
                  if stride[a] == 1 else (0, kernel[a] - 1) for a in range(2))
    if spans == ((0, kernel[0] - 1), (0, kernel[1] - 1)) or any(first > last for first, last in spans):
        return None  # all live, or none (an output of padding alone: the full computation gives its zeros)
    return spans


def live_input(x: np.ndarray, live: tuple[Pair, Pair], stride: Pair, padding: Pair, dilation: Pair,
               out_hw: Pair) -> np.ndarray:
    """x padded and cut to what the live offsets read: a padding-0 convolution with the live
    part of the kernel gives the same output."""
    (i0, i1), (j0, j1) = live
    return windows.pad(x, padding)[:, :, i0 * dilation[0]:(out_hw[0] - 1) * stride[0] + i1 * dilation[0] + 1,
                                   j0 * dilation[1]:(out_hw[1] - 1) * stride[1] + j1 * dilation[1] + 1]


def live_kernel(weight: np.ndarray, live: tuple[Pair, Pair]) -> np.ndarray:
    (i0, i1), (j0, j1) = live
    return weight[:, :, i0:i1 + 1, j0:j1 + 1]


def live_size(live: tuple[Pair, Pair]) -> Pair:
    (i0, i1), (j0, j1) = live
    return i1 - i0 + 1, j1 - j0 + 1


_POISONED: dict[int, tuple] = {}  # id(weight) -> (weak reference, version, live window, channels)


def poisoned_channels(weight: np.ndarray, live: tuple[Pair, Pair]) -> np.ndarray | None:
    """The output channels whose weight is NaN or infinite at an offset outside ``live``, None
    when there is none. Reading a whole weight every forward costs a deep layer on a 1x1 image
    as much as its product, so the answer is kept per weight array and version: weights change
    in place, and a change bumps it."""
    version, entry = version_of(weight), _POISONED.get(id(weight))
    if entry is not None and entry[0]() is weight and entry[1:3] == (version, live):
        return entry[3]
    found = None
    if not _all_finite(weight):
        (i0, i1), (j0, j1) = live
        dead = ~np.isfinite(weight)
        dead[:, :, i0:i1 + 1, j0:j1 + 1] = False
        channels = dead.any(axis=(1, 2, 3))
        found = channels if channels.any() else None
    key = id(weight)
    _POISONED[key] = (weakref.ref(weight, lambda _: _POISONED.pop(key, None)), version, live, found)
    return found


def _all_finite(weight: np.ndarray) -> bool:
    """Whether every element of a float weight is finite, from its rows' sums against ones: a
    matrix-vector product runs at BLAS's speed without ``isfinite``'s mask (idea 70), NaN and
    infinity carry into the sums, and a sum that overflows only sends the caller to the exact
    check."""
    if weight.flags.c_contiguous and weight.dtype in (np.float32, np.float64):
        rows = weight.reshape(weight.shape[0], -1)
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(rows @ np.ones(rows.shape[1], weight.dtype)).all())
    return bool(np.isfinite(weight).all())
