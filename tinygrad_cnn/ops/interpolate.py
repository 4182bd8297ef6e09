"""``F.interpolate``: nearest and bilinear resizing of (N, C, H, W) images, PyTorch's rules.

Both are separable, so each axis is resized on its own by indexing: nearest picks one source
row (column) per output row, bilinear blends the two neighbours with weights that depend on
``align_corners``. Built from indexing and arithmetic primitives, the gradients (and their
derivatives) come from those.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import memory_format as formats
from ..tensor import Tensor
from .arguments import ArgumentError

MODES = ("nearest", "bilinear")


def _scales(op: str, shape: tuple[int, int], size: Any, scale_factor: Any,
            recompute_scale_factor: bool | None) -> tuple[tuple[int, int], tuple[float | None, float | None]]:
    """Output (H, W) and the scale each axis maps output to input positions with (None: in / out)."""
    if (size is None) == (scale_factor is None):
        raise ArgumentError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        if len(sizes) != 2 or min(sizes) < 1:
            raise ArgumentError(f"{op}: size must be a positive int or a pair of them for a 4-D input, got {size!r}")
        return (int(sizes[0]), int(sizes[1])), (None, None)
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    if len(factors) != 2 or min(factors) <= 0:
        raise ArgumentError(f"{op}: scale_factor must be positive, or a pair of them, got {scale_factor!r}")
    out = tuple(int(math.floor(n * f)) for n, f in zip(shape, factors))
    if min(out) < 1:
        raise ArgumentError(f"{op}: scale_factor {scale_factor!r} makes an empty output from size {shape}")
    return out, (None, None) if recompute_scale_factor else tuple(1 / f for f in factors)


def _scale(size: int, out: int, given: float | None) -> float:
    return size / out if given is None else given


def _nearest_index(size: int, out: int, scale: float | None) -> np.ndarray:
    """PyTorch's legacy nearest: source floor(i * scale), at most the last row."""
    return np.minimum(np.floor(np.arange(out) * _scale(size, out, scale)).astype(np.int64), size - 1)


def _linear_weights(size: int, out: int, scale: float | None, align_corners: bool
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower index, upper index, weight of the upper one) for each output position."""
    position = np.arange(out, dtype=np.float64)
    if align_corners:
        source = position * ((size - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        source = np.maximum((position + 0.5) * _scale(size, out, scale) - 0.5, 0.0)
    lower = np.minimum(np.floor(source).astype(np.int64), size - 1)
    upper = np.minimum(lower + 1, size - 1)
    return lower, upper, source - lower


def _along(x: Tensor, axis: int, index: np.ndarray) -> Tensor:
    return x[(slice(None),) * axis + (index,)]


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize an (N, C, H, W) image to ``size`` or by ``scale_factor``: "nearest" or "bilinear"
    (``align_corners`` False by default, as PyTorch)."""
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode not in MODES:
        raise ArgumentError(f"{op}: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if input.ndim != 4:
        raise ArgumentError(f"{op}: expected a 4-D input (N, C, H, W), got shape {input.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ArgumentError(f"{op}: align_corners only applies to the interpolating modes, not {mode!r}")
    if antialias:
        raise ArgumentError(f"{op}: antialias is not supported")
    out, scales = _scales(op, input.shape[2:], size, scale_factor, recompute_scale_factor)
    if min(input.shape[2:]) < 1 or min(out) < 1:
        raise ArgumentError(f"{op}: input and output sizes should be greater than 0, but got input (H, W) = "
                            f"{input.shape[2:]} and output (H, W) = {tuple(out)}")
    if input.shape[1] == 0:
        raise ArgumentError(f"{op}: non-empty 4-D data tensor expected, but got shape {input.shape}")
    x = input
    for axis, (n, m, scale) in enumerate(zip(input.shape[2:], out, scales), start=2):
        if n == m and mode == "nearest" and scale in (None, 1.0):
            continue
        if mode == "nearest":
            x = _along(x, axis, _nearest_index(n, m, scale))
            continue
        lower, upper, weight = _linear_weights(n, m, scale, bool(align_corners))
        shape = [1] * 4
        shape[axis] = m
        upper_weight = weight.reshape(shape).astype(x.dtype)
        x = _along(x, axis, lower) * (1 - upper_weight) + _along(x, axis, upper) * upper_weight
    form = formats.suggest(input._strides_array())  # PyTorch's layout; new memory also at the same size
    return x.clone(memory_format=form) if x is input else x.contiguous(memory_format=form)
