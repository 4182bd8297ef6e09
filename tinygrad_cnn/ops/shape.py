"""Shape primitives: reshape, permute, broadcast and indexing. They move data, never change it."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import memory_format as formats
from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, IndexRangeError, integer, normalize_dim, normalize_dims
from .broadcast import sum_to_shape


class Reshape(Primitive):
    backward_reads = ()
    returns_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad.reshape(x.shape)


class Permute(Primitive):
    backward_reads = ()
    returns_view = True

    @staticmethod
    def forward(ctx, x, dims):
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(tuple(np.argsort(ctx.settings["dims"]).tolist()))


class BroadcastTo(Primitive):
    backward_reads = ()
    returns_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return sum_to_shape(grad, x.shape)


@dataclass(frozen=True)
class IndexArray:
    """Where an index array sits in an index kept in ``settings``: the array itself is one of
    the node's inputs (the ``which``-th after the tensor operands), so it is version-checked and
    released like any input, and the settings hold hyper-parameters only."""

    which: int
    shape: tuple[int, ...]

    def __repr__(self) -> str:
        return f"<{'x'.join(map(str, self.shape)) or 'scalar'} indices>"


def split_index(index: tuple) -> tuple[tuple, tuple[Tensor, ...]]:
    """``index`` with its arrays replaced by ``IndexArray`` markers, and the arrays as Tensors."""
    if not any(isinstance(part, np.ndarray) for part in index):
        return index, ()
    pattern, arrays = [], []
    for part in index:
        if isinstance(part, np.ndarray):
            pattern.append(IndexArray(len(arrays), part.shape))
            arrays.append(Tensor(part))
        else:
            pattern.append(part)
    return tuple(pattern), tuple(arrays)


def join_index(pattern: tuple, arrays: Sequence[Any]) -> tuple:
    """The index ``split_index`` took apart, from its pattern and the arrays (or Tensors)."""
    return tuple(arrays[part.which] if isinstance(part, IndexArray) else part for part in pattern)


def _arrays_after(first: int) -> Callable[[tuple[bool, ...]], range]:
    """``backward_reads`` for an indexing primitive: its index arrays, inputs ``first`` on."""
    return lambda needs: range(first, len(needs))


class GetItem(Primitive):
    """``x[index]``; the index's arrays are the inputs after x (see ``split_index``)."""

    backward_reads = staticmethod(_arrays_after(1))
    returns_view = True

    @staticmethod
    def forward(ctx, x, *arrays, index):
        index = join_index(index, arrays)
        out = x[index]
        # an element is a 0-d view of x's memory (as PyTorch's t[i]), not NumPy's scalar copy
        if not isinstance(out, np.ndarray):
            return x[index + (Ellipsis,)]
        if not _is_basic(index):
            return formats.advanced_index_layout(out, x, index)
        return formats.with_strides_at(out, _new_axis_strides(x, index)) if None in index else out

    @staticmethod
    def backward(ctx, grad):
        x, *arrays = ctx.inputs
        return (IndexAdd.apply(grad, *arrays, index=ctx.settings["index"], shape=x.shape), *[None] * len(arrays))


class IndexAdd(Primitive):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices accumulate); the
    index's arrays are the inputs after values."""

    backward_reads = staticmethod(_arrays_after(1))

    @staticmethod
    def forward(ctx, values, *arrays, index, shape):
        index = join_index(index, arrays)
        out = np.zeros(shape, dtype=values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        _, *arrays = ctx.inputs
        return (GetItem.apply(grad, *arrays, index=ctx.settings["index"]), *[None] * len(arrays))


class SetItem(Primitive):
    """A copy of ``x`` with ``value`` written at ``index``: ``x[index] = value`` without
    changing x (the in-place form builds on it); the index's arrays are the inputs after value."""

    backward_reads = staticmethod(_arrays_after(2))

    @staticmethod
    def forward(ctx, x, value, *arrays, index):
        out = np.copy(x, order="K")
        out[join_index(index, arrays)] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        x, value, *arrays = ctx.inputs
        index = ctx.settings["index"]
        grad_x = SetItem.apply(grad, 0.0, *arrays, index=index) if ctx.needs_input_grad[0] else None
        grad_value = None
        if ctx.needs_input_grad[1]:
            grad_value = sum_to_shape(GetItem.apply(grad, *arrays, index=index), value.shape)
        return (grad_x, grad_value, *[None] * len(arrays))


class Flip(Primitive):
    """``x`` reversed along ``dims`` (a copy); the gradient is reversed back."""

    backward_reads = ()

    output_layout = "preserve"

    @staticmethod
    def forward(ctx, x, dims):
        return np.flip(x, dims).copy(order="K")

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, dims=ctx.settings["dims"])


class Clone(Primitive):
    """A copy of ``x`` in new memory, laid out as ``form`` says (PyTorch's ``memory_format``);
    its gradient is the identity."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, x, form=formats.preserve_format):
        return formats.copy_in(x, form)

    @staticmethod
    def backward(ctx, grad):
        return grad


def _new_axis_strides(x: np.ndarray, index: tuple) -> dict[int, int]:
    """The result axes a basic index's ``None`` parts make, each with the stride PyTorch's
    left-to-right indexing gives it: an unsqueeze before the next axis of x not yet indexed."""
    consumed = sum(isinstance(i, (int, slice)) for i in index)
    strides, position, source_axis = {}, 0, 0
    for part in index:
        if part is None:
            strides[position] = formats.unsqueeze_stride(x, source_axis)
            position += 1
        elif part is Ellipsis:
            position += x.ndim - consumed
            source_axis += x.ndim - consumed
        else:
            position += isinstance(part, slice)
            source_axis += 1
    return strides


class Unsqueeze(Primitive):
    """A new size-1 dimension at ``dim``, with PyTorch's stride for it (see
    ``memory_format.unsqueeze_stride``)."""

    backward_reads = ()
    returns_view = True

    @staticmethod
    def forward(ctx, x, dim):
        return formats.with_strides_at(np.expand_dims(x, dim), {dim: formats.unsqueeze_stride(x, dim)})

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad.reshape(x.shape)


def _is_basic(index: tuple) -> bool:
    """True for ints, slices, None and Ellipsis only: each element is selected at most once."""
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in index)


def _resolved(op: str, x: Tensor, shape: Sequence[int]) -> tuple[int, ...]:
    """``shape`` with its -1 resolved, checked to hold x's elements."""
    shape = tuple(int(n) for n in shape)
    try:  # a zero-byte array resolves -1 and validates the size without touching the data
        return np.empty(x.shape, dtype=[]).reshape(shape).shape
    except ValueError:
        raise ArgumentError(
            f"{op}: cannot reshape a tensor of shape {x.shape} ({x._data.size} elements) into {shape}"
        ) from None


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    resolved = _resolved("reshape", x, shape)
    return x if resolved == x.shape else Reshape.apply(x, shape=resolved)


def view(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``x`` in ``shape`` over the same memory; refused, as PyTorch refuses, where x's strides
    allow no such view (``reshape`` copies there)."""
    resolved = _resolved("view", x, shape)
    if resolved == x.shape:
        return Reshape.apply(x, shape=resolved)  # a new tensor over the same memory, as PyTorch's
    x._settle_layout()  # (the memory PyTorch's strides describe)
    try:
        x._data.reshape(resolved, copy=False)
    except ValueError:
        raise ArgumentError(
            f"view: view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces): shape {x.shape} with strides "
            f"{x.stride()} cannot be viewed as {resolved}. Use .reshape(...) instead."
        ) from None
    return Reshape.apply(x, shape=resolved)


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    normalized = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
    if sorted(normalized) != list(range(x.ndim)):
        raise ArgumentError(
            f"permute: dims {tuple(dims)} are not a permutation of the {x.ndim} dimensions "
            f"of a tensor of shape {x.shape}"
        )
    if normalized == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims=normalized)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    dims = list(range(x.ndim))
    d0, d1 = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, dims)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return x.reshape(1)
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    if start > end:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def narrow(x: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """Elements ``start`` to ``start + length - 1`` along ``dim`` (a view); a negative start
    counts from the end, as in PyTorch."""
    if x.ndim == 0:
        raise ArgumentError("narrow() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim("narrow", dim, x.ndim)
    if isinstance(start, Tensor) and start.ndim == 0 and start.dtype.kind in "iu":
        start = start.item()
    start, length, size = integer("narrow", "start", start), integer("narrow", "length", length), x.shape[dim]
    if not -size <= start <= size:
        raise IndexRangeError(f"narrow: start out of range (expected to be in range of [{-size}, {size}], "
                              f"but got {start})")
    start += size if start < 0 else 0
    if length < 0:
        raise ArgumentError("narrow(): length must be non-negative.")
    if start + length > size:
        raise ArgumentError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one of which may be -1), as a view."""
    dim = normalize_dim("unflatten", dim, x.ndim)
    sizes = tuple(int(n) for n in sizes)
    if not sizes:
        raise ArgumentError("unflatten: sizes must be non-empty")
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[dim]) or \
            (-1 in sizes and (known == 0 or x.shape[dim] % known)):
        raise ArgumentError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                            f"({x.shape[dim]}) in the input tensor")
    return x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1:])


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    return Unsqueeze.apply(x, dim=normalize_dim("unsqueeze", dim, x.ndim + 1))


def squeeze(x: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Drop the size-1 dimensions (of ``dim`` only, when given: an int or a tuple)."""
    dims = range(x.ndim) if dim is None else normalize_dims("squeeze", dim, x.ndim) if x.ndim else ()
    dropped = {d for d in dims if x.shape[d] == 1}
    return x.reshape(tuple(n for d, n in enumerate(x.shape) if d not in dropped)) if dropped else x


def expand(x: Tensor, sizes: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``sizes`` (a view); -1 keeps a dimension's size, as in PyTorch."""
    sizes = tuple(sizes)
    if len(sizes) < x.ndim:
        raise ArgumentError(f"expand: the number of sizes {len(sizes)} must be at least the tensor's "
                            f"{x.ndim} dimensions (shape {x.shape})")
    lead = len(sizes) - x.ndim
    for i, n in enumerate(sizes):
        if n == -1 and i < lead:
            raise ArgumentError(f"expand: -1 is not allowed for the new leading dimension {i}")
    target = tuple(x.shape[i - lead] if n == -1 else int(n) for i, n in enumerate(sizes))
    for i, (old, new) in enumerate(zip(x.shape, target[lead:])):
        if old != new and old != 1:
            raise ArgumentError(f"expand: the expanded size {new} must match the existing size {old} at dimension "
                                f"{lead + i} (a tensor of shape {x.shape} cannot be expanded to {target}; only "
                                "size-1 dimensions expand)")
    return broadcast_to(x, target)


def repeat(x: Tensor, sizes: Sequence[int]) -> Tensor:
    """``x`` tiled ``sizes[d]`` times along each dimension (PyTorch's repeat, NumPy's tile)."""
    sizes = tuple(integer("repeat", "a repeat count", n, minimum=0) for n in sizes)
    if len(sizes) < x.ndim:
        raise ArgumentError(f"repeat: the number of repeats {len(sizes)} must be at least the tensor's "
                            f"{x.ndim} dimensions (shape {x.shape})")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    spread = tuple(n for pair in zip(sizes, shape) for n in pair)           # (r0, s0, r1, s1, ...)
    single = tuple(n for s in shape for n in (1, s))
    tiled = x.reshape(single).broadcast_to(spread).reshape(tuple(r * s for r, s in zip(sizes, shape)))
    # new memory, as PyTorch's: the reshape is a view where the counts allow one (all 1)
    if np.may_share_memory(tiled._data, x._data) or not formats.is_contiguous(tiled._data):
        return Clone.apply(tiled, form=formats.contiguous_format)
    return tiled


def flip(x: Tensor, dims: int | Sequence[int]) -> Tensor:
    """``x`` reversed along ``dims``, in new memory (as PyTorch's; NumPy's would be a view)."""
    return Flip.apply(x, dims=normalize_dims("flip", dims, x.ndim))


def contiguous(x: Tensor, memory_format: formats.memory_format = formats.contiguous_format) -> Tensor:
    """``x`` itself when its strides are contiguous in ``memory_format`` (row-major by default),
    else a copy that is."""
    if memory_format is formats.preserve_format:
        raise ArgumentError("contiguous: preserve memory format is unsupported by the contiguous operator")
    if x.is_contiguous(memory_format):
        return x
    x._settle_layout()  # (the copy follows the memory)
    return Clone.apply(x, form=memory_format)


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    if shape == x.shape:
        return x
    try:
        valid = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        valid = False
    if not valid:
        raise ArgumentError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to {shape}")
    return BroadcastTo.apply(x, shape=shape)


def getitem(x: Tensor, index: Any) -> Tensor:
    pattern, arrays = split_index(checked_index("getitem", x, index))
    return GetItem.apply(x, *arrays, index=pattern)


def checked_index(op: str, x: Tensor, index: Any) -> tuple:
    """``index`` normalised (see ``_normalize_index``) after checking it fits x's shape."""
    index = _normalize_index(index)
    try:
        np.empty(x.shape, dtype=[])[index]
    except IndexError as error:
        raise IndexError(f"{op}: index {index!r} is invalid for a tensor of shape {x.shape}: {error}") from None
    return index


def setitem(x: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of ``x`` with ``value`` (a Tensor, array or number) written at ``index``."""
    index = checked_index("setitem", x, index)
    if not isinstance(value, Tensor):
        value = float(value) if isinstance(value, (bool, int, float, np.generic)) else Tensor(np.asarray(value))
    target_shape = np.empty(x.shape, dtype=[])[index].shape
    shape = getattr(value, "shape", ())
    try:
        valid = np.broadcast_shapes(shape, target_shape) == target_shape
    except ValueError:
        valid = False
    if not valid:
        raise ArgumentError(f"setitem: a value of shape {shape} cannot be written into a selection of shape "
                            f"{target_shape} of a tensor of shape {x.shape}")
    pattern, arrays = split_index(index)
    return SetItem.apply(x, value, *arrays, index=pattern)


def clone(x: Tensor, *, memory_format: formats.memory_format = formats.preserve_format) -> Tensor:
    """A differentiable copy of ``x`` that shares no memory with it, laid out as ``memory_format``
    says (``preserve_format``: as x, where x is dense)."""
    if memory_format is not formats.preserve_format:
        x._settle_layout()  # (the copy follows the memory)
    return Clone.apply(x, form=memory_format)


def _normalize_index(index: Any) -> tuple:
    """A tuple whose integer-array parts are NumPy arrays (Tensors and lists converted)."""
    parts = index if isinstance(index, tuple) else (index,)
    result = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part._data
        elif isinstance(part, list):
            part = np.asarray(part)
        if isinstance(part, np.ndarray) and part.dtype.kind not in "iub":
            raise TypeError(f"getitem: index arrays must be integer or bool, got dtype {part.dtype}")
        if isinstance(part, np.integer):
            part = int(part)
        result.append(part)
    return tuple(result)
