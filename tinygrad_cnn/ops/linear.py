"""The affine map of a fully connected layer, composed from matmul and add."""
from __future__ import annotations

from ..tensor import Tensor
from .arguments import ArgumentError, same_float_dtype


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with PyTorch's (out_features, in_features) weight layout."""
    for name, t in (("input", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 2:
        raise ArgumentError(f"linear: weight must be 2-D (out_features, in_features), got {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ArgumentError(
            f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features but "
            f"weight of shape {weight.shape} expects {weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ArgumentError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    same_float_dtype("linear", input=x, weight=weight, bias=bias)
    out = x @ weight.T
    return out + bias if bias is not None else out
