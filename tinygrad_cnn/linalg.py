"""``tc.linalg``, as ``torch.linalg``: vector norms (matrix decompositions are not here)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .ops.arguments import ArgumentError
from .ops.linalg import vector_norm
from .tensor import Tensor


def norm(x: Tensor, ord: Any = None, dim: int | Sequence[int] | None = None, keepdim: bool = False,  # noqa: A002
         *, dtype: Any = None) -> Tensor:
    """A vector norm (1-D input or one ``dim``), or the Frobenius norm (``ord`` None or "fro")."""
    if ord in (None, "fro"):
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    matrix = (dim is None and x.ndim == 2) or (isinstance(dim, Sequence) and len(dim) == 2)
    if matrix:
        raise ArgumentError(f"linalg.norm: the matrix norm ord={ord!r} is not implemented; vector norms "
                            "(one dim) and 'fro' are")
    return vector_norm(x, ord, dim, keepdim, dtype=dtype)


__all__ = ["norm", "vector_norm"]
