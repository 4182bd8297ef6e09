"""``F.embedding``: rows of a weight table picked by integer indices.

The lookup and its gradient are a mutually adjoint pair of linear maps, as with the
negative log-likelihood: the gradient adds each output row's gradient into the row it came
from (skipping ``padding_idx``, scaled by the inverse frequency of each index with
``scale_grad_by_freq``), and the gradient of that is the lookup again, so second derivatives
hold.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Primitive, no_grad
from ..errors import IndexRangeError, NotImplementedArgumentsError
from ..tensor import Tensor
from .arguments import ArgumentError


def _row_scale(indices: np.ndarray, rows: int, padding_idx: int | None, by_frequency: bool) -> np.ndarray | None:
    """Per looked-up position, the factor its gradient enters its row with (None: all 1)."""
    if not by_frequency and padding_idx is None:
        return None
    scale = np.ones(indices.shape)
    if by_frequency:
        scale /= np.bincount(indices.reshape(-1), minlength=rows)[indices]
    if padding_idx is not None:
        scale[indices == padding_idx] = 0
    return scale


class EmbeddingLookup(Primitive):
    """weight[indices]: (*indices.shape, embedding_dim). Backward reads the indices (PyTorch
    saves them: changing them in place before backward is refused), not the weight."""

    backward_reads = (1,)

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        weight, indices = ctx.inputs
        return EmbeddingGradient.apply(grad, indices, rows=weight.shape[0], **ctx.settings), None


class EmbeddingGradient(Primitive):
    """Each output row's gradient added into the row it was looked up from."""

    backward_reads = (1,)

    @staticmethod
    def forward(ctx, grad, indices, rows, padding_idx, scale_grad_by_freq):
        scale = _row_scale(indices, rows, padding_idx, scale_grad_by_freq)
        weighted = grad if scale is None else grad * scale[..., None].astype(grad.dtype)
        out = np.zeros((rows, grad.shape[-1]), dtype=grad.dtype)
        np.add.at(out, indices.reshape(-1), weighted.reshape(-1, grad.shape[-1]))
        return out

    @staticmethod
    def backward(ctx, grad_grad):
        _, indices = ctx.inputs
        s = ctx.settings
        picked = EmbeddingLookup.apply(grad_grad, indices, padding_idx=None, scale_grad_by_freq=False)
        scale = _row_scale(indices._data, s["rows"], s["padding_idx"], s["scale_grad_by_freq"])
        return (picked if scale is None else picked * Tensor(scale[..., None].astype(grad_grad.dtype))), None


def _renormalized_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose norm exceeds ``max_norm`` down to it, in place (PyTorch's
    ``embedding_renorm_``, outside the graph)."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight._data[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    with no_grad():
        scaled = weight._data[rows[over]] * (max_norm / (norms[over] + 1e-7))[:, None]
        weight[Tensor(rows[over])] = Tensor(scaled.astype(weight.dtype))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,  # noqa: A002
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input`` indices."""
    op = "embedding"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if input.dtype.kind not in "iu":
        raise ArgumentError(f"{op}: expected indices of an integer dtype (Long, Int), got {input.dtype}")
    if weight.ndim != 2:
        raise ArgumentError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}")
    if sparse:
        raise NotImplementedArgumentsError(f"{op}: sparse=True (sparse gradients) is not supported; the gradient is "
                                           "a dense (num_embeddings, embedding_dim) array")
    indices = input._data
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexRangeError(f"{op}: index out of range in self: indices must be in [0, {weight.shape[0]}), got "
                              f"{int(indices.min())}..{int(indices.max())}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if max_norm is not None:
        _renormalized_rows(weight, indices, max_norm, norm_type)
    return EmbeddingLookup.apply(weight, input, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))
