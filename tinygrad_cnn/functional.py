"""The functional API (``import tinygrad_cnn.functional as F``), PyTorch's names and semantics.

The operations live in ``ops/``; this layer adds what PyTorch's ``F`` decides on top of them:
``inplace=`` (the change itself is ``inplace.py``'s)."""
from __future__ import annotations

from collections.abc import Callable

from . import inplace as in_place
from .inplace import elu_, hardtanh_, leaky_relu_, relu_, selu_
from .ops import activation
from .ops import dropout as dropouts
from .ops.activation import gelu, logsigmoid, sigmoid, softplus, tanh
from .ops.conv import conv2d, conv_transpose2d
from .ops.embedding import embedding
from .ops.interpolate import interpolate
from .ops.linalg import cosine_similarity, normalize
from .ops.linear import linear
from .ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    log_softmax,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
    softmax,
    softmin,
)
from .ops.norm import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm
from .ops.one_dimensional import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    avg_pool1d,
    conv1d,
    conv_transpose1d,
    max_pool1d,
)
from .ops.pad import pad
from .ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from .ops.select import one_hot
from .tensor import Tensor

__all__ = [
    "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "batch_norm",
    "cross_entropy", "log_softmax", "softmax", "softmin", "dropout",
    "relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "mish", "hardswish",
    "hardsigmoid", "logsigmoid", "sigmoid", "tanh", "pad", "group_norm", "layer_norm", "instance_norm",
    "local_response_norm", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "interpolate", "normalize", "cosine_similarity", "one_hot",
    "conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
    "dropout1d", "dropout2d", "dropout3d", "embedding", "pixel_shuffle", "pixel_unshuffle",
    "relu_", "hardtanh_", "leaky_relu_", "elu_", "selu_",
]


def _in_place_or_not(name: str, x: Tensor, inplace: bool, compute: Callable[[Tensor], Tensor],
                     reads_old: bool = True) -> Tensor:
    """``compute(x)``, or with ``inplace`` the same written into x (``reads_old``: whether
    compute's backward reads x, which is then copied first; see ``inplace.change``)."""
    if not inplace:
        return compute(x)
    return in_place.change(x, f"{name}_", compute, reads_old=reads_old)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return relu_(input) if inplace else activation.relu(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    return hardtanh_(input, min_val, max_val) if inplace else activation.hardtanh(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    return leaky_relu_(input, negative_slope) if inplace else activation.leaky_relu(input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    return elu_(input, alpha) if inplace else activation.elu(input, alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return selu_(input) if inplace else activation.selu(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return _in_place_or_not("silu", input, inplace, activation.silu)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return _in_place_or_not("mish", input, inplace, activation.mish)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return _in_place_or_not("hardswish", input, inplace, activation.hardswish)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return _in_place_or_not("hardsigmoid", input, inplace, activation.hardsigmoid)


def _dropout(name: str, x: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    """``ops/dropout.py``'s ``name``, in place or not (its backward reads the mask, not x: no copy)."""
    drop = getattr(dropouts, name)
    return _in_place_or_not(name, x, inplace, lambda t: drop(t, p, training), reads_old=False)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    return _dropout("dropout", input, p, training, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    return _dropout("dropout1d", input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    return _dropout("dropout2d", input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    return _dropout("dropout3d", input, p, training, inplace)
