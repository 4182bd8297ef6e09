"""Elementwise kernels over large activations, split over the batch on the workers.

Each result keeps its input's memory layout (channels-last memory from a convolution stays
so), so the passes that follow read it in order.
"""
from __future__ import annotations

import numpy as np

from .threads import for_each_slice


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0)."""
    if x.ndim == 0:
        return np.maximum(x, 0)
    out = np.empty_like(x)
    for_each_slice(lambda b: np.maximum(x[b], 0, out=out[b]), x.shape[0], x.size)
    return out


def relu_reference(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def threshold_backward(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    """grad where x > 0, else 0 (ReLU's backward), in one pass with no mask array."""
    if grad.ndim == 0:
        return grad * (x > 0)
    out = np.empty_like(grad, dtype=np.result_type(grad, x))
    for_each_slice(lambda b: np.multiply(grad[b], x[b] > 0, out=out[b]), grad.shape[0], grad.size)
    return out


def threshold_backward_reference(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, grad, 0).astype(np.result_type(grad, x))


def scale_shift_channels(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """x * scale + shift with per-channel ``scale``/``shift`` shaped to broadcast over (N, C, ...)."""
    out = np.empty_like(x, dtype=np.result_type(x, scale, shift))

    def part(b: slice) -> None:
        np.multiply(x[b], scale, out=out[b])
        out[b] += shift

    for_each_slice(part, x.shape[0], x.size)
    return out


def scale_shift_channels_reference(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    return x * scale + shift
