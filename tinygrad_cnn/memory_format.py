"""PyTorch's memory formats: which strides an operation's result has.

A result's strides are part of PyTorch's contract: ``view`` succeeds or refuses by them, and
``stride()``, ``is_contiguous()`` and in-place writes through views depend on them. Each
primitive names the rule PyTorch follows for its output (``Primitive.output_layout``) and the
engine lays the result out by it (``conform``), so our arrays carry PyTorch's strides:

- ``"iterator"``: elementwise operations (PyTorch's TensorIterator). Inputs of one shape that
  are all contiguous, or all channels-last, or all alike give that layout; otherwise the
  dimensions are ordered by the inputs' strides, the first input with an opinion deciding.
- ``"suggest"``, ``"suggest_first"``, ``"suggest_all"``: convolution (input or weight),
  pooling (the input), cat (every input) give channels-last where those inputs are
  channels-last (``suggest_memory_format``), else contiguous.
- ``"batch_norm"``: row-major for a row-major input; else channels-last where the input is
  channels-last contiguous (size-1 dimensions aside) or suggests it; else row-major.
- ``"preserve"``: dense strides kept (flip, sort), else the suggested format.
- ``"contiguous"``: reductions, softmax, cumulative sums and others allocate row-major.

Integer-array indexing has a rule of its own (``advanced_index_layout``).

Strides here count elements, as PyTorch's do; NumPy's count bytes.
"""
from __future__ import annotations

import numpy as np


class memory_format:  # noqa: N801  (PyTorch's name)
    """A memory format: ``contiguous_format``, ``channels_last`` or ``preserve_format``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"tinygrad_cnn.{self.name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
preserve_format = memory_format("preserve_format")


def element_strides(array: np.ndarray) -> tuple[int, ...]:
    """The array's strides in elements, as PyTorch's ``stride()``."""
    return tuple(s // array.itemsize for s in array.strides) if array.itemsize else (0,) * array.ndim


def unsqueeze_stride(source: np.ndarray, axis: int) -> int:
    """PyTorch's stride (in bytes) for a new size-1 dimension placed before ``source``'s dimension
    ``axis`` (its size times its stride; the item size past the last). It decides how PyTorch
    reads the layout (channels-last or not) and what ``stride()`` says; NumPy gives 0."""
    return source.shape[axis] * source.strides[axis] if axis < source.ndim else source.itemsize


def with_strides_at(array: np.ndarray, strides: dict[int, int]) -> np.ndarray:
    """``array`` viewed with the given byte strides on some of its size-1 dimensions."""
    new = list(array.strides)
    for axis, stride in strides.items():
        new[axis] = stride
    if tuple(new) == array.strides:
        return array
    return np.lib.stride_tricks.as_strided(array, array.shape, new, writeable=array.flags.writeable)


def is_contiguous(array: np.ndarray, form: memory_format = contiguous_format) -> bool:
    """PyTorch's ``is_contiguous(memory_format)``: size-1 dimensions' strides do not count."""
    if form is channels_last:
        return array.ndim == 4 and array.transpose(0, 2, 3, 1).flags.c_contiguous
    if form is contiguous_format:
        return array.flags.c_contiguous
    raise ValueError(f"is_contiguous: memory_format must be contiguous_format or channels_last, got {form!r}")


def strides_like_channels_last(array: np.ndarray) -> bool:
    """PyTorch's ``is_channels_last_strides_2d``: the channels vary fastest, then width, height
    and batch, with its tie-breaks for size-1 dimensions (NCHW wins what is ambiguous)."""
    if array.ndim != 4:
        return False
    shape, stride = array.shape, element_strides(array)
    if stride[1] == 0:
        return False
    least = 0
    for d in (1, 3, 2, 0):
        if shape[d] == 0 or stride[d] < least or (d == 0 and least == stride[1]):
            return False
        least = stride[d] * shape[d] if shape[d] > 1 else stride[d]
    return True


def is_transposed_matrix(array: np.ndarray) -> bool:
    """A 2-D array laid out as the transpose of a row-major one (``weight.T``)."""
    return array.ndim == 2 and array.flags.f_contiguous and not array.flags.c_contiguous


def suggest(array: np.ndarray) -> memory_format:
    """PyTorch's ``suggest_memory_format``."""
    return channels_last if strides_like_channels_last(array) else contiguous_format


def row_major(array: np.ndarray) -> np.ndarray:
    """``array`` itself if it is C-contiguous, else a C-contiguous copy (0-d stays 0-d, unlike
    ``np.ascontiguousarray``)."""
    return array if array.flags.c_contiguous else np.asarray(array, order="C")


def in_format(array: np.ndarray, form: memory_format) -> np.ndarray:
    """``array``'s memory if it is already contiguous in ``form``, else a copy that is. A
    channels-last result gets PyTorch's strides for its size-1 dimensions too (NumPy may give
    them others), since ``suggest_memory_format`` reads them."""
    if form is channels_last:
        c, h, w = (max(n, 1) for n in array.shape[1:])
        strides = tuple(s * array.itemsize for s in (h * w * c, 1, w * c, c))
        if not is_contiguous(array, form):
            array = row_major(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        return array if array.strides == strides else np.lib.stride_tricks.as_strided(array, array.shape, strides)
    return row_major(array)


def copy_in(array: np.ndarray, form: memory_format) -> np.ndarray:
    """A copy of ``array`` contiguous in ``form``; ``preserve_format`` keeps dense strides and
    otherwise takes the suggested format, as PyTorch's ``clone``."""
    if form is preserve_format:
        if _non_overlapping_and_dense(array):
            return _with_strides_of(array, array, copy=True)
        form = suggest(array)
    copy = in_format(array, form)
    return copy.copy(order="K") if copy is array else copy


def dense_order(shape: tuple[int, ...], operands: list[np.ndarray]) -> list[int]:
    """PyTorch's ``TensorIterator::reorder_dimensions`` over ``operands`` broadcast to ``shape``."""
    ndim = len(shape)
    table = []
    for a in operands:  # strides over the full shape; broadcast dimensions get 0
        lead = ndim - a.ndim
        own = element_strides(a)
        table.append([0 if d < lead or (a.shape[d - lead] == 1 and shape[d] != 1) else own[d - lead]
                      for d in range(ndim)])
    return _reordered(shape, table)


def _reordered(shape: tuple[int, ...], table: list[list[int]]) -> list[int]:
    """The dimensions from the fastest-varying to the slowest, decided by the first operand
    whose strides (a row of ``table``) tell two dimensions apart; a zero stride (broadcast)
    has no say and equal strides put the smaller size first. An insertion sort that stops at
    an ambiguous comparison, as PyTorch's."""
    def should_swap(dim0: int, dim1: int) -> int:
        for stride in table:
            s0, s1 = stride[dim0], stride[dim1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    ndim = len(shape)
    perm = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    return perm


def _in_order(result: np.ndarray, perm: list[int]) -> np.ndarray:
    """``result`` in dense memory whose dimensions vary fastest in ``perm``'s order."""
    outermost_first = perm[::-1]
    wanted = np.empty([result.shape[d] for d in outermost_first], result.dtype).transpose(np.argsort(outermost_first))
    if wanted.strides == result.strides:
        return result
    wanted[...] = result
    return wanted


def advanced_index_layout(result: np.ndarray, x: np.ndarray, index: tuple) -> np.ndarray:
    """``x[index]`` (an index with integer arrays) laid out as PyTorch's ``index``: an iterator
    over x with the indexed dimensions replaced by the index arrays' (the other dimensions
    keep x's order). Integers, None and boolean masks take PyTorch other paths: row-major."""
    if result.ndim <= 1 or any(i is None or isinstance(i, (int, np.integer)) or
                               (isinstance(i, np.ndarray) and i.dtype == bool) for i in index):
        return row_major(result)
    given = sum(i is not Ellipsis for i in index)
    parts = []
    for i in index:
        parts.extend([slice(None)] * (x.ndim - given) if i is Ellipsis else [i])
    parts += [slice(None)] * (x.ndim - len(parts))
    advanced = [d for d, p in enumerate(parts) if isinstance(p, np.ndarray)]
    view = x[tuple(slice(None) if d in advanced else p for d, p in enumerate(parts))]
    arrays = np.broadcast_arrays(*[parts[d] for d in advanced])
    k = arrays[0].ndim
    rest = [d for d in range(x.ndim) if d not in advanced]
    if advanced == list(range(advanced[0], advanced[-1] + 1)):  # in place of the indexed dimensions
        before = [d for d in rest if d < advanced[0]]
        source = before + [None] * k + [d for d in rest if d > advanced[-1]]
        first = len(before)
    else:  # NumPy's and PyTorch's rule: the index dimensions go first
        source, first = [None] * k + rest, 0
    view_strides = element_strides(view)
    table = [[0 if d is None else view_strides[d] for d in source]]
    for a in arrays:
        own = element_strides(a)
        table.append([own[i - first] if d is None else 0 for i, d in enumerate(source)])
    return _in_order(result, _reordered(result.shape, table))


def iterator_layout(result: np.ndarray, operands: list[np.ndarray]) -> np.ndarray | memory_format:
    """``result`` laid out as TensorIterator lays out the output of ``operands`` (or
    ``contiguous_format``, where that is the answer)."""
    if all(a.flags.c_contiguous for a in operands):  # the common case, and PyTorch's fast path
        return contiguous_format
    if all(a.shape == result.shape for a in operands):
        if all(is_contiguous(a, channels_last) for a in operands):
            return in_format(result, channels_last)
        first = operands[-1]
        if _non_overlapping_and_dense(first) and all(a.strides == first.strides for a in operands):
            return contiguous_format if first.flags.c_contiguous else _with_strides_of(result, first)
    perm = dense_order(result.shape, operands)
    if result.ndim <= 1 or perm == list(range(result.ndim - 1, -1, -1)):
        return contiguous_format
    return _in_order(result, perm)


_SUGGESTED = {  # rule -> whether PyTorch's result is channels-last (for a 4-d result)
    "suggest": lambda inputs: any(strides_like_channels_last(a) for a in inputs),  # conv: input or weight
    "suggest_first": lambda inputs: strides_like_channels_last(inputs[0]),  # pooling
    # batch norm: a row-major input gives row-major, a channels-last contiguous one channels-last
    "batch_norm": lambda inputs: not is_contiguous(inputs[0]) and (
        is_contiguous(inputs[0], channels_last) or strides_like_channels_last(inputs[0])),
    "suggest_all": lambda inputs: all(strides_like_channels_last(a) for a in inputs if a.size),  # cat
}


def conform(result: np.ndarray, rule: str, inputs: list[np.ndarray], defer: bool = False
            ) -> tuple[np.ndarray, bool]:
    """``result`` with the strides PyTorch's rule gives it (a copy only where they differ), and
    whether the copy was deferred: with ``defer``, a channels-last result that should be
    row-major is returned as it is (the caller owes the layout, ``Tensor._settle_layout``), or,
    if it is a channels-last view that is not dense (a crop of a padded buffer), as a dense
    channels-last copy: a copy along its rows instead of a transposing one, and the memory the
    next channels-last kernel reads in order."""
    if rule == "iterator":
        laid = iterator_layout(result, inputs) if result.ndim else result
    elif rule in _SUGGESTED:
        cl = result.ndim == 4 and _SUGGESTED[rule](inputs)
        laid = in_format(result, channels_last) if cl else contiguous_format
    elif rule == "preserve":
        first = inputs[0]
        if _non_overlapping_and_dense(first):
            laid = contiguous_format if first.flags.c_contiguous else _with_strides_of(result, first)
        else:
            laid = in_format(result, channels_last) if suggest(first) is channels_last else contiguous_format
    elif rule == "contiguous":
        laid = contiguous_format
    else:
        raise ValueError(f"unknown output layout rule {rule!r}")
    if laid is not contiguous_format:
        return laid, False
    if defer and result.ndim == 4 and not result.flags.c_contiguous and strides_like_channels_last(result):
        return in_format(result, channels_last), True
    return row_major(result), False


def stays_owed(result: np.ndarray, others: list) -> bool:
    """True when ``conform`` would leave a channels-last ``result`` as it is and owe its layout,
    decided without running the rules (a chain of operations after a convolution meets this
    case at every step): ``result`` is dense channels-last with PyTorch's strides, and the
    inputs other than the owed ones (``others``) are C-contiguous and not, by PyTorch's reading
    of the strides of their size-1 dimensions, channels-last as well."""
    if result.__class__ is not np.ndarray or result.ndim != 4 or result.flags.c_contiguous:
        return False
    _, c, h, w = result.shape
    size = result.itemsize
    if result.strides != (h * w * c * size, size, w * c * size, c * size):
        return False
    for v in others:
        if v.__class__ is np.ndarray:
            if not v.flags.c_contiguous:
                return False
            if v.ndim == 4 and (v.shape[1] == 1 or v.shape[2] * v.shape[3] == 1) and strides_like_channels_last(v):
                return False
    return True


def row_major_stand_in(array: np.ndarray) -> np.ndarray:
    """An array object with ``array``'s shape and row-major strides over its memory, for the
    rules to read strides from (never its values)."""
    if array.ndim == 4 and array.transpose(0, 2, 3, 1).flags.c_contiguous:  # (the owed layout: a view, cheaply)
        return array.transpose(0, 2, 3, 1).reshape(-1).reshape(array.shape)
    stride, strides = array.itemsize, []
    for n in reversed(array.shape):
        strides.append(stride)
        stride *= max(n, 1)
    return np.lib.stride_tricks.as_strided(array, array.shape, tuple(reversed(strides)))


def obeying_layout_contract(grad: np.ndarray, variable: np.ndarray) -> np.ndarray:
    """``grad`` as a leaf's ``.grad`` (PyTorch's "gradient layout contract", AccumulateGrad):
    strided as ``variable`` where that is dense, else row-major; a copy only where it is not
    already (size-1 dimensions' strides do not count)."""
    if grad.shape != variable.shape or grad.dtype.itemsize == 0:
        return grad
    if grad.flags.c_contiguous and variable.flags.c_contiguous:  # (every step, for every parameter)
        return grad
    if _non_overlapping_and_dense(variable):
        scale = grad.itemsize / variable.itemsize
        if all(n == 1 or g == v * scale for g, v, n in zip(grad.strides, variable.strides, grad.shape)):
            return grad
        return _with_strides_of(grad, variable, copy=True)
    return row_major(grad)


def _non_overlapping_and_dense(array: np.ndarray) -> bool:
    order = sorted((s, n) for s, n in zip(array.strides, array.shape) if n != 1)
    expected = array.itemsize
    for s, n in order:
        if s != expected:
            return False
        expected *= n
    return True


def _with_strides_of(result: np.ndarray, like: np.ndarray, copy: bool = False) -> np.ndarray:
    """``result`` (a copy when ``copy``) in memory strided as the dense array ``like``."""
    if result.strides == like.strides and not copy:
        return result
    wanted = np.lib.stride_tricks.as_strided(np.empty(like.size, result.dtype), result.shape,
                                             [s // like.itemsize * result.itemsize for s in like.strides])
    wanted[...] = result
    return wanted
