"""Elementwise kernels over large activations, split over the batch on the workers.

Each result keeps its input's memory layout (channels-last memory from a convolution stays
so), so the passes that follow read it in order.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .explain import Choice, note, recording_now
from .layout import ChannelRows
from .threads import for_each_slice


def relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """max(x, 0), as a clip to [0, the dtype's top]: NumPy clips between two scalar bounds in a
    vectorised loop, while its maximum against a scalar runs 2.2x slower. A clip keeps -0.0 and
    NaN as they are, as PyTorch's relu does. ``out`` (x itself for an in-place ReLU) receives
    the result."""
    if x.ndim == 0 or x.dtype.kind not in "fiu":
        return np.maximum(x, 0, out=out)
    return clip(x, 0, np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max, out)


def clip(x: np.ndarray, low: float, high: float, out: np.ndarray | None = None) -> np.ndarray:
    """x clipped to [low, high] in x's memory layout, split over the batch on the workers
    (``out``, x itself for an in-place hardtanh, receives the result)."""
    if x.ndim == 0:
        return np.clip(x, low, high, out=out)
    out = np.empty_like(x) if out is None else out  # x's memory layout
    for_each_slice(lambda b: np.clip(x[b], low, high, out=out[b]), x.shape[0], x.size)
    return out


def relu_reference(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def clip_reference(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.minimum(np.maximum(x, low), high)


def select_bits(values: np.ndarray, mask: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``values`` where ``mask``, else +0.0, into ``out`` (of values' dtype), in one pass: the bit
    patterns of the floats times 0 or 1, an integer multiply. Exact, and unlike a float multiply
    by the mask an infinite or NaN value where the mask is off gives 0 (inf * 0 would be NaN)."""
    bits = np.dtype(f"i{values.itemsize}")
    np.multiply(values.view(bits), mask, out=out.view(bits))
    return out


def _masked_gradient(grad: np.ndarray, x: np.ndarray, stopped: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """0 where ``stopped(x)``, else grad: a bool mask and one pass selecting grad's bits
    (``select_bits``), no float mask array, and an infinite or NaN grad where stopped gives 0.

    The result takes x's memory layout (x is an activation of the step, laid out as the step's
    other gradients are): a gradient that arrives in another layout, such as the broadcast one
    of a global average pool's backward, is read once here instead of making every later
    pass mix two layouts (in a ResNet, the whole identity path)."""
    dtype = np.result_type(grad, x)
    if grad.ndim == 0 or grad.dtype != dtype or dtype.kind != "f":
        return np.where(stopped(x), np.zeros((), dtype), grad).astype(dtype)
    out = np.empty_like(x if x.shape == grad.shape else grad, dtype=dtype)

    def part(b: slice) -> None:
        passes = stopped(x[b])
        np.logical_not(passes, out=passes)
        select_bits(grad[b], passes, out[b])

    for_each_slice(part, grad.shape[0], grad.size)
    return out


def threshold_backward(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    """0 where x <= 0, else grad (ReLU's backward, PyTorch's rule: a NaN x passes grad on)."""
    return _masked_gradient(grad, x, lambda v: np.less_equal(v, 0))


def threshold_backward_reference(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0, 0, grad).astype(np.result_type(grad, x))


def hardtanh_backward(grad: np.ndarray, x: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 where x <= low or x >= high, else grad (ReLU6's and hardtanh's backward, PyTorch's
    rule: a NaN x passes grad on)."""
    def stopped(v: np.ndarray) -> np.ndarray:
        mask = np.less_equal(v, low)
        mask |= np.greater_equal(v, high)
        return mask
    return _masked_gradient(grad, x, stopped)


def hardtanh_backward_reference(grad: np.ndarray, x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.where((x <= low) | (x >= high), 0, grad).astype(np.result_type(grad, x))


SMALL = 1 << 18  # elements: below this, plain broadcasting beats arranging rows (ideas 46, 51)
SCALE_SHIFT_FORMS = {
    "broadcast": "fewer than 256K elements: plain broadcasting into an output in x's layout, where arranging "
                 "rows costs more than it saves (ideas 46, 51)",
    "channel rows": "two passes over x's memory as long rows, per-channel vectors tiled to a row, split over "
                    "the workers (ideas 17, 29)",
}


def scale_shift_channels(x: np.ndarray, scale: np.ndarray, shift: np.ndarray, form: str | None = None) -> np.ndarray:
    """x * scale + shift with per-channel ``scale``/``shift`` shaped to broadcast over (N, C, ...),
    in two passes over x's memory as long rows, or by plain broadcasting below SMALL elements
    (``form`` forces one of ``SCALE_SHIFT_FORMS``)."""
    chosen = form or ("broadcast" if x.size < SMALL else "channel rows")
    if form is not None or recording_now():
        if chosen not in SCALE_SHIFT_FORMS:
            raise ValueError(f"scale_shift_channels: no form {form!r}; the forms are {list(SCALE_SHIFT_FORMS)}")
        note(Choice("scale_shift_channels", f"{x.shape}", chosen,
                    "asked for" if form else SCALE_SHIFT_FORMS[chosen]))
    if chosen == "broadcast":
        out = np.empty_like(x, dtype=np.result_type(x, scale, shift))  # x's memory layout
        np.multiply(x, scale, out=out)
        out += shift
        return out
    layout = ChannelRows.of(x)
    result, out = layout.empty(x, np.result_type(x, scale, shift))

    def part(batch: slice) -> None:
        rows = layout.samples(batch)
        np.multiply(layout.rows[rows], layout.per_channel(scale, batch), out=out[rows])
        out[rows] += layout.per_channel(shift, batch)

    for_each_slice(part, x.shape[0], x.size)
    return result


def scale_shift_channels_reference(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    return x * scale + shift


UPDATE_BLOCK = 1 << 17  # elements per pass of an in-place update: the block and its temporary stay in cache


def scale_add_into(target: np.ndarray, a: float, x: np.ndarray, b: float) -> np.ndarray:
    """``target *= a; target += b * x`` in place (an optimiser's update), block by block on the
    workers: no temporary the size of the parameter, the same roundings as the two NumPy lines.
    Operands in other layouts take the two NumPy lines."""
    if target.shape != x.shape or not (target.flags.c_contiguous and x.flags.c_contiguous):
        return scale_add_into_reference(target, a, x, b)
    flat_target, flat_x = target.reshape(-1), x.reshape(-1)

    def part(span: slice) -> None:
        scratch = np.empty(min(UPDATE_BLOCK, span.stop - span.start), dtype=np.result_type(x, b))
        for start in range(span.start, span.stop, UPDATE_BLOCK):
            block = slice(start, min(start + UPDATE_BLOCK, span.stop))
            if a != 1:
                flat_target[block] *= a
            if b == 1:  # momentum's buffer update adds the gradient as it is
                flat_target[block] += flat_x[block]
            else:
                flat_target[block] += np.multiply(flat_x[block], b, out=scratch[:block.stop - block.start])

    for_each_slice(part, flat_target.size, flat_target.size)
    return target


def scale_add_into_reference(target: np.ndarray, a: float, x: np.ndarray, b: float) -> np.ndarray:
    if a != 1:
        target *= a
    target += b * x
    return target
