"""How samples become a batch (``default_collate``) and how unbatched samples become Tensors
(``default_convert``), as PyTorch's ``torch.utils.data`` does it."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...tensor import Tensor

ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


class StackedSamples(Sequence):
    """A batch that a dataset fetched whole (``__getitems__``): the arrays of all its samples
    stacked, which ``default_collate`` turns into Tensors without splitting them into samples.
    Indexing and iterating give the samples, for a ``collate_fn`` of one's own."""

    def __init__(self, *fields: np.ndarray) -> None:
        self.fields = fields

    def __len__(self) -> int:
        return len(self.fields[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return tuple(field[index] for field in self.fields)


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _is_text_array(array: np.ndarray) -> bool:
    return array.dtype.kind in "USO"


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch: Tensors and NumPy arrays are stacked along a new
    first dimension, Python ints, floats and bools become int64, float64 and bool Tensors,
    strings stay a list, and tuples, lists, dicts and named tuples are collated field by field."""
    if isinstance(batch, StackedSamples):
        return [Tensor(np.ascontiguousarray(field)) for field in batch.fields]
    elem = batch[0]
    if isinstance(elem, Tensor):
        from ...ops.join import stack
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if _is_text_array(elem):
            raise TypeError(ERROR.format(elem.dtype))
        return Tensor(np.stack(batch))
    if isinstance(elem, np.generic):
        if _is_text_array(np.asarray(elem)):
            raise TypeError(ERROR.format(elem.dtype))
        return Tensor(np.array(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Samples as they are, with NumPy arrays and scalars made Tensors (what a DataLoader with
    ``batch_size=None`` yields)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        return data if _is_text_array(np.asarray(data)) else Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
