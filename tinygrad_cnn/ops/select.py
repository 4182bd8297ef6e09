"""Selection: masked_fill, gather, index_select, scatter, scatter_add, masked_select, one_hot
(PyTorch's semantics)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, DtypeError, IndexRangeError, normalize_dim
from .elementwise import Where, condition_tensor
from .pad import pad
from .shape import GetItem, split_index


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``x`` with ``value`` where ``mask`` holds, the two broadcast together (as PyTorch's
    out-of-place form, whose result may be larger than x)."""
    mask = condition_tensor("masked_fill", mask)
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ArgumentError(f"masked_fill: a mask of shape {mask.shape} does not broadcast with the tensor's "
                            f"shape {x.shape}") from None
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ArgumentError(f"masked_fill: the value must be a number or a 0-d tensor, got shape {value.shape}")
    return Where.apply(mask, value if isinstance(value, Tensor) else float(value), x, output_layout="contiguous")


def _index_array(op: str, index: Any) -> np.ndarray:
    array = index._data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise DtypeError(f"{op}: index must hold integers, got dtype {array.dtype}")
    return array


def _along(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The positions ``index`` names along ``dim``, every other coordinate its own (NumPy
    advanced indexing): gather reads there, scatter writes there."""
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    return tuple(positions)


def _checked_index(op: str, x: Tensor, dim: int, index: Any) -> tuple[int, np.ndarray]:
    """gather's and scatter's ``dim`` and index array, checked: the index has x's number of
    dimensions, is no larger than x except along ``dim``, and holds positions inside it."""
    array = _index_array(op, index)
    dim = normalize_dim(op, dim, x.ndim)
    if array.ndim != x.ndim or any(i > n for d, (i, n) in enumerate(zip(array.shape, x.shape)) if d != dim):
        raise ArgumentError(f"{op}: index of shape {array.shape} must have the {x.ndim} dimensions of the input "
                            f"{x.shape} and be no larger except in dimension {dim}")
    _in_range(op, array, x.shape, dim)
    return dim, array


class GatherAlong(Primitive):
    """out[i][j] = x[index[i][j]][j] along ``dim`` (for dim 0). The index is an input, not a
    setting, so an export keeps it a computation (ONNX GatherElements); the gradient adds each
    output's gradient back at the position it was read from."""

    output_layout = "contiguous"
    backward_reads = (1,)  # the index, as PyTorch's gather saves it

    @staticmethod
    def forward(ctx: Primitive, x: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
        return x[_along(index, dim)]

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> tuple[Tensor, None]:
        x, index = ctx.inputs
        zeros = Tensor(np.zeros(x.shape, grad.dtype))
        return ScatterAdd.apply(zeros, grad, index, dim=ctx.settings["dim"]), None


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j][k] = x[index[i][j][k]][j][k] along ``dim`` (PyTorch's gather): ``index`` has
    x's number of dimensions and is no larger than x except along ``dim``."""
    dim, array = _checked_index("gather", x, dim, index)
    return GatherAlong.apply(x, index if isinstance(index, Tensor) else Tensor(array), dim=dim)


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The entries of ``x`` at the 1-D ``index`` along ``dim`` (repeats allowed)."""
    index = _index_array("index_select", index)
    dim = normalize_dim("index_select", dim, x.ndim)
    if index.ndim > 1:
        raise ArgumentError(f"index_select: index must be 1-D, got shape {index.shape}")
    _in_range("index_select", index, x.shape, dim)
    pattern, arrays = split_index((slice(None),) * dim + (index.reshape(-1),))
    return GetItem.apply(x, *arrays, index=pattern, output_layout="contiguous")


def _in_range(op: str, index: np.ndarray, shape: tuple[int, ...], dim: int) -> None:
    """Refuse indices outside [0, size): PyTorch's gather and index_select take no negative ones."""
    if index.size and (index.min() < 0 or index.max() >= shape[dim]):
        raise IndexRangeError(f"{op}: index values must be in [0, {shape[dim]}) for dimension {dim} of shape "
                              f"{shape}, got {index.min()}..{index.max()}")


def _checked_scatter(op: str, x: Tensor, dim: int, index: Any, src: Any) -> tuple[int, np.ndarray]:
    """The scatter family's ``dim`` and index array: gather's checks, and a src no smaller than
    the index."""
    dim, array = _checked_index(op, x, dim, index)
    if isinstance(src, Tensor) and (src.ndim != x.ndim or any(i > n for i, n in zip(array.shape, src.shape))):
        raise ArgumentError(f"{op}: index of shape {array.shape} must be no larger than src {src.shape} in "
                            "every dimension")
    return dim, array


class Scatter(Primitive):
    """A copy of x with src's values (the first ``index.shape`` of them) written at the
    positions ``index`` names along ``dim``. The index is an input, not differentiated (as
    GatherAlong's), read by both gradients."""

    output_layout = "contiguous"
    backward_reads: dict[int, tuple[int, ...]] = {2: (0, 1)}
    add = False

    @staticmethod
    def forward(ctx: Primitive, x: np.ndarray, src: Any, index: np.ndarray, dim: int) -> np.ndarray:
        values = src[tuple(slice(0, n) for n in index.shape)] if isinstance(src, np.ndarray) else src
        out = np.array(x, copy=True)
        if ctx.add:
            np.add.at(out, _along(index, dim), values)
        else:
            out[_along(index, dim)] = values
        return out

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        x, src, index = ctx.inputs
        dim = ctx.settings["dim"]
        grad_x = grad if ctx.add else Scatter.apply(grad, 0.0, index, dim=dim)
        grad_src = None
        if ctx.needs_input_grad[1]:
            grad_src = gather(grad, dim, index)
            if grad_src.shape != src.shape:  # src's unused tail gets zeros
                grad_src = pad(grad_src, [p for n, m in zip(reversed(grad_src.shape), reversed(src.shape))
                                          for p in (0, m - n)])
        return (grad_x if ctx.needs_input_grad[0] else None), grad_src, None


class ScatterAdd(Scatter):
    """``Scatter`` with src's values added at the positions (repeated ones add up); x's
    gradient passes through, so the index is read by src's gradient only."""

    backward_reads = {2: (1,)}
    add = True


def scatter(x: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``x`` with ``src`` (a Tensor) or ``value`` (a number) written at ``index`` along
    ``dim``: ``out[i][index[i][j]] = src[i][j]`` for dim 1."""
    if reduce is not None:
        if reduce != "add":
            raise NotImplementedError(f"scatter: reduce={reduce!r} is not implemented (use 'add' or scatter_add)")
        return scatter_add(x, dim, index, src)
    if (src is None) == (value is None):
        raise TypeError("scatter: give either src (a Tensor or number) or value (a number)")
    src = src if src is not None else value
    dim, array = _checked_scatter("scatter", x, dim, index, src)
    if isinstance(src, Tensor) and src.dtype != x.dtype:
        raise DtypeError(f"scatter: expected src of the input's dtype {x.dtype}, got {src.dtype}")
    index = index if isinstance(index, Tensor) else Tensor(array)
    return Scatter.apply(x, src if isinstance(src, Tensor) else float(src), index, dim=dim)


def scatter_add(x: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of ``x`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    dim, array = _checked_scatter("scatter_add", x, dim, index, src)
    if src.dtype != x.dtype:
        raise DtypeError(f"scatter_add: expected src of the input's dtype {x.dtype}, got {src.dtype}")
    return ScatterAdd.apply(x, src, index if isinstance(index, Tensor) else Tensor(array), dim=dim)


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The elements of ``x`` where ``mask`` holds (both broadcast), as a 1-D tensor."""
    mask = condition_tensor("masked_select", mask)
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ArgumentError(f"masked_select: a mask of shape {mask.shape} does not broadcast with the tensor's "
                            f"shape {x.shape}") from None
    if x.shape != shape:
        x = x.expand(*shape)
    return x[mask._data if mask.shape == shape else np.broadcast_to(mask._data, shape)]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as int64 one-hot rows: a new last dimension of ``num_classes`` (max + 1 if -1)."""
    if not isinstance(tensor, Tensor) or tensor.dtype != np.int64:
        raise DtypeError("one_hot: only applicable to an int64 index tensor, got "
                         f"{tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__}")
    values = tensor._data
    if values.size and values.min() < 0:
        raise ArgumentError("one_hot: class values must be non-negative")
    if num_classes == -1:
        if not values.size:
            raise ArgumentError("one_hot: can not infer the total number of classes from an empty tensor")
        num_classes = int(values.max()) + 1
    elif values.size and values.max() >= num_classes:
        raise ArgumentError(f"one_hot: class values must be smaller than num_classes ({num_classes})")
    # new row-major memory whatever the index's layout, as PyTorch's (zeros, then a scatter)
    return Tensor((values[..., None] == np.arange(num_classes)).astype(np.int64, order="C"))
