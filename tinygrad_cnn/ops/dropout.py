"""Inverted dropout: zero each element with probability p, scale the rest by 1 / (1 - p)."""
from __future__ import annotations

from .. import inplace as in_place
from ..random import generator
from ..tensor import Tensor
from .arguments import ArgumentError


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Identity outside training; the mask comes from the generator seeded by ``manual_seed``."""
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x

    def drop(t: Tensor) -> Tensor:
        if p == 1.0:
            return t * 0.0
        keep = generator().random(t.shape, dtype=t.dtype.type) >= p
        return t * (keep * t.dtype.type(1.0 / (1.0 - p)))

    return in_place.change(x, "dropout_", drop) if inplace else drop(x)
