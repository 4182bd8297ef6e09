"""Embedding: a table of learned vectors looked up by integer index (PyTorch's ``nn.Embedding``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..errors import CheckError
from ..ops.arguments import integer
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter, parameter_dtype


class Embedding(Module):
    """``weight`` (num_embeddings, embedding_dim), drawn from N(0, 1) with the ``padding_idx``
    row zero (that row also gets no gradient). ``max_norm`` rescales looked-up rows in place."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings = integer("Embedding", "num_embeddings", num_embeddings, minimum=0)
        self.embedding_dim = integer("Embedding", "embedding_dim", embedding_dim, minimum=0)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise CheckError("Padding_idx must be within num_embeddings")
            padding_idx = padding_idx + num_embeddings if padding_idx < 0 else padding_idx
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=parameter_dtype(device, dtype)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise CheckError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight._data if isinstance(_weight, Tensor) else np.asarray(_weight),
                                    requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise CheckError("Embeddings parameter is expected to be 2-dimensional")
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        return text
