"""Memory layouts: (N, C, *) activations as 2-D rows with long inner loops.

NumPy runs a per-channel operation (``x * scale`` with ``scale`` of shape (1, C, 1, 1)) as one
inner loop per run of contiguous memory: C elements on channels-last memory (what a
convolution produces), W elements on NCHW memory. Loops that short spend more time starting
than computing (a pass at C = 32 runs about 3x slower than over long rows). ``ChannelRows``
views the memory as rows of several whole pixels (channels-last) or of one channel's plane
(NCHW), and shapes per-channel vectors to broadcast against a block of those rows, so every
pass runs on long rows.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

ROW_ELEMENTS = 1 << 13  # the longest row of whole pixels; longer rows gain nothing


def is_channels_last(x: np.ndarray) -> bool:
    """True when an (N, C, H, W) array has its channels innermost in memory (an image of one
    pixel, as late layers of a network at small input sizes have, is in both layouts)."""
    spatial = [x.strides[d] for d in (2, 3) if x.shape[d] > 1]
    return not spatial or x.strides[1] < min(spatial)


@functools.lru_cache(maxsize=256)
def _pixels_per_row(spatial: int, channels: int, row_elements: int) -> int:
    """The most pixels of one sample that fit a row and divide the sample."""
    most = max(1, min(spatial, row_elements // channels))
    return next(p for p in range(most, 0, -1) if spatial % p == 0)


@dataclass(frozen=True)
class ChannelRows:
    """An (N, C, *) array's memory as ``rows``: for channels-last memory each row holds
    whole pixels (the channel is the column modulo C), for NCHW memory each row is one
    channel's plane of one sample (the channel is the row modulo C). Either way a sample is
    ``rows_per_sample`` consecutive rows, so a batch slice is a row slice."""

    rows: np.ndarray
    shape: tuple[int, ...]
    channels_last: bool
    rows_per_sample: int

    @classmethod
    def of(cls, x: np.ndarray) -> ChannelRows:
        """The rows of ``x``: a view of its memory when it is laid out either way, else of a
        contiguous copy."""
        n, c = x.shape[:2]
        spatial = math.prod(x.shape[2:])
        pixels_last = x.transpose(0, *range(2, x.ndim), 1)
        if pixels_last.flags.c_contiguous:
            pixels = _pixels_per_row(spatial, c, ROW_ELEMENTS)
            return cls(pixels_last.reshape(n * spatial // pixels, pixels * c), x.shape, True, spatial // pixels)
        return cls(np.ascontiguousarray(x).reshape(n * c, spatial), x.shape, False, c)

    @property
    def channels(self) -> int:
        return self.shape[1]

    def like(self, other: np.ndarray) -> np.ndarray:
        """The rows of ``other`` (same shape) laid out as these: a view, or a copy."""
        rows = ChannelRows.of(other)
        if rows.rows.shape == self.rows.shape and rows.channels_last == self.channels_last:
            return rows.rows
        copy = np.empty(self.rows.shape, dtype=other.dtype)
        np.copyto(self.array(copy), other)
        return copy

    def array(self, rows: np.ndarray) -> np.ndarray:
        """The (N, C, *) array whose memory is ``rows`` (shaped like ``self.rows``)."""
        n, c, *spatial = self.shape
        if self.channels_last:
            return rows.reshape(n, *spatial, c).transpose(0, len(self.shape) - 1, *range(1, len(self.shape) - 1))
        return rows.reshape(self.shape)

    def empty(self, like: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """A new array of ``like``'s shape laid out as these rows, and its rows (a view).

        The array owns its memory, as ``np.empty_like`` makes it: a view of a 2-D buffer with
        the same strides measured 1.4x slower in the ResNet-18 convolutions that read it next
        (reason not found)."""
        array = np.empty_like(like, dtype=dtype)
        rows = ChannelRows.of(array)
        if (rows.rows.shape != self.rows.shape or rows.channels_last != self.channels_last
                or not np.may_share_memory(rows.rows, array)):
            # ``like`` was in neither layout (its rows, and those of empty_like's array, are a
            # copy): rows shaped as these, and the array they hold
            buffer = np.empty(self.rows.shape, dtype)
            return self.array(buffer), buffer
        return array, rows.rows

    def samples(self, batch: slice) -> slice:
        """The rows that hold the samples ``batch``."""
        return slice(batch.start * self.rows_per_sample, batch.stop * self.rows_per_sample)

    def per_channel(self, vector: np.ndarray, batch: slice) -> np.ndarray:
        """A per-channel vector shaped to broadcast against ``rows[samples(batch)]``."""
        flat = vector.reshape(-1)
        if self.channels_last:
            return np.tile(flat, self.rows.shape[1] // self.channels)
        return np.tile(flat, batch.stop - batch.start)[:, None]

    def channel_sum(self, a: np.ndarray) -> np.ndarray:
        """Per channel, the sum of ``a`` over rows of whole samples (a BLAS matrix-vector
        product, faster than NumPy's sum along either axis)."""
        along = (np.ones((1, a.shape[0]), dtype=a.dtype) @ a if self.channels_last
                 else a @ np.ones((a.shape[1], 1), dtype=a.dtype))
        return along.reshape(-1, self.channels).sum(axis=0)


def view_positions(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """For each element of ``view``, its index in ``base.reshape(-1)`` (C order): the view's
    elements found among the base's by their memory addresses."""
    def addresses(a: np.ndarray) -> np.ndarray:
        offset = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        total = np.full(a.shape, offset, dtype=np.int64)
        for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
            shape = [1] * a.ndim
            shape[axis] = n
            total = total + np.arange(n, dtype=np.int64).reshape(shape) * stride
        return total

    wanted = addresses(view)
    if base.flags.c_contiguous:  # addresses are positions times the item size
        return wanted // base.itemsize
    base_addresses = addresses(base).reshape(-1)
    order = np.argsort(base_addresses, kind="stable")
    found = np.minimum(np.searchsorted(base_addresses[order], wanted), max(base.size - 1, 0))
    index = order[found] if base.size else np.zeros(view.shape, dtype=np.int64)
    if view.size and not np.array_equal(base_addresses[index], wanted):
        raise RuntimeError(f"view of shape {view.shape} does not lie within its base of shape {base.shape}")
    return index


def view_positions_reference(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """The same, by writing each element's position into the base and reading the view (the
    base's values are restored; exact where its dtype holds the positions, e.g. float64)."""
    saved = base.copy()
    try:
        base[...] = np.arange(base.size).reshape(base.shape)
        return view.astype(np.int64)
    finally:
        base[...] = saved


def diagonal_view(x: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    """A writable view of the diagonal at ``offset`` of the plane (dim1, dim2), as the last
    dimension (NumPy's own ``diagonal`` is read-only): one stride that steps both dimensions."""
    size = max(0, min(x.shape[dim1] - max(-offset, 0), x.shape[dim2] - max(offset, 0)))
    start = [0] * x.ndim
    start[dim1], start[dim2] = max(-offset, 0), max(offset, 0)
    base = x[tuple(slice(s, None) for s in start)] if size else x
    rest = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    shape = [x.shape[d] for d in rest] + [size]
    strides = [x.strides[d] for d in rest] + [x.strides[dim1] + x.strides[dim2]]
    return np.lib.stride_tricks.as_strided(base, shape, strides)


def diagonal_view_reference(x: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    return np.diagonal(x, offset, dim1, dim2)
