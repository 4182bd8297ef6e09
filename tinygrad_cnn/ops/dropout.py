"""Inverted dropout: zero each element (or, for dropout1d/2d/3d, each whole channel) with
probability p, scale the rest by 1 / (1 - p). The ``inplace=`` choice is the functional
layer's (``functional.py``)."""
from __future__ import annotations

import warnings
from typing import Any

from ..random import generator
from ..tensor import Tensor
from .arguments import ArgumentError


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Identity outside training (x itself); the mask comes from the generator seeded by
    ``manual_seed``."""
    return _dropped("dropout", x, p, training, lambda shape: shape)


def _dropped(op: str, x: Tensor, p: float, training: bool, mask_shape: Any) -> Tensor:
    """``x`` times a scaled keep-mask of ``mask_shape(x.shape)`` (broadcast over the rest)."""
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{op}: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = generator().random(mask_shape(x.shape), dtype=x.dtype.type) >= p
    return x * (keep * x.dtype.type(1.0 / (1.0 - p)))


def _channels(batched_ndim: int) -> Any:
    """The mask shape of a channel-wise dropout: one draw per (sample, channel), or per channel
    of an unbatched input (one dimension fewer than ``batched_ndim``)."""
    def shape(full: tuple[int, ...]) -> tuple[int, ...]:
        kept = 2 if len(full) == batched_ndim else 1
        return full[:kept] + (1,) * (len(full) - kept)
    return shape


def _warn_unless_spatial(op: str, x: Tensor, spatial: int) -> None:
    """PyTorch's deprecation warning for an input without ``spatial`` dimensions, a channel
    dimension and an optional batch dimension (it still drops whole channels)."""
    if x.ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{op}: Received a {x.ndim}-D input to {op}, which is deprecated and will result in an error "
                      f"in a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {op} exists to provide channel-wise dropout on inputs with {spatial} "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Zero whole channels of (N, C, L) or unbatched (C, L) input."""
    if input.ndim not in (2, 3):
        raise ArgumentError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                            "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _dropped("dropout1d", input, p, training, _channels(3))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Zero whole channels of (N, C, H, W) input; a 3-D input is read as (N, C, L), with
    PyTorch's warning."""
    _warn_unless_spatial("dropout2d", input, 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _dropped("dropout2d", input, p, training, _channels(input.ndim if input.ndim == 3 else 4))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    _warn_unless_spatial("dropout3d", input, 3)
    return _dropped("dropout3d", input, p, training, _channels(5))
