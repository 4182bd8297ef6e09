"""Batch normalisation: one primitive for both modes, with a fused analytic backward.

Training normalises with the batch's biased variance and updates the running statistics in
place with the unbiased one (as PyTorch); evaluation normalises with the running statistics,
which makes it an affine map per channel.
"""
from __future__ import annotations

import math

import numpy as np

from .. import kernels
from .. import memory_format as formats
from ..autograd import Primitive
from ..kernels.norm import channel_shape, reduce_axes
from ..tensor import Tensor
from ..versions import bump_version
from .arguments import ArgumentError, same_float_dtype
from .composite import vjp_by_composition
from .pad import pad


class BatchNorm(Primitive):
    """Batch norm of (N, C, *) input: y = (x - mean) / sqrt(var + eps) * weight + bias per
    channel, computed as x * scale + shift.

    Training uses the batch's mean and biased variance and updates the running statistics (the
    module's buffers, inputs that are not differentiated) in place with a version bump;
    evaluation uses the running statistics.
    """

    output_layout = "batch_norm"
    backward_reads = (0, 1)

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps, training):
        if training:
            mean, var = kernels.batch_norm_statistics(x)
            count = x.size // x.shape[1]
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                bump_version(running_mean)
            if running_var is not None:  # the running variance is the unbiased one
                running_var *= 1 - momentum
                running_var += (momentum * count / (count - 1)) * var
                bump_version(running_var)
        else:  # copies: a later training step updates the running statistics in place
            mean, var = running_mean.astype(x.dtype), running_var
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        ctx.save_for_backward(mean, invstd)
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        shape = channel_shape(x.ndim, x.shape[1])
        return kernels.scale_shift_channels(x, scale.reshape(shape), shift.reshape(shape))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.inputs[:2]
        mean, invstd = ctx.saved_tensors
        if ctx.settings["training"]:
            grad_x, grad_w, grad_b = BatchNormBackward.apply(grad, x, weight, Tensor(mean), Tensor(invstd),
                                                             eps=ctx.settings["eps"])
        else:
            grad_x, grad_w, grad_b = _affine_backward(grad, x, weight, mean, invstd)
        needs = ctx.needs_input_grad
        return (grad_x if needs[0] else None, grad_w if needs[1] else None,
                grad_b if needs[2] else None, None, None)


class BatchNormBackward(Primitive):
    """(grad, x, weight, mean, invstd) -> (grad_x, grad_weight, grad_bias):

    grad_x = weight * invstd * (grad - mean(grad) - normalized * mean(grad * normalized)),
    with normalized = (x - mean) * invstd, computed as grad * scale + x * a + b per channel.
    ``mean`` and ``invstd`` (the batch's, which forward computed) are inputs that are not
    differentiated: the double backward recomputes them from x by composition.
    """

    @staticmethod
    def forward(ctx, grad, x, weight, mean, invstd, eps):
        return kernels.batch_norm_backward(grad, x, weight, mean, invstd)

    @staticmethod
    def backward(ctx, grad_grad_x, grad_grad_weight, grad_grad_bias):
        eps = ctx.settings["eps"]
        return vjp_by_composition(
            lambda g, x, w: _composite_backward(g, x, w, eps), ctx.inputs[:3], ctx.needs_input_grad[:3],
            (grad_grad_x, grad_grad_weight, grad_grad_bias)) + (None, None)


def _composite_backward(grad: Tensor, x: Tensor, weight: Tensor | None, eps: float):
    """BatchNormBackward written with differentiable operations (for higher derivatives)."""
    axes, shape = reduce_axes(x.ndim), channel_shape(x.ndim, x.shape[1])
    count = x._data.size // x.shape[1]
    centered = x - x.mean(axes, keepdim=True)
    invstd = 1 / ((centered * centered).mean(axes, keepdim=True) + eps).sqrt()
    normalized = centered * invstd
    grad_bias = grad.sum(axes)
    grad_weight = (grad * normalized).sum(axes)
    scale = invstd if weight is None else invstd * weight.reshape(shape)
    grad_x = scale * (grad - grad_bias.reshape(shape) / count
                      - normalized * grad_weight.reshape(shape) / count)
    return grad_x, grad_weight, grad_bias


def _affine_backward(grad: Tensor, x: Tensor, weight: Tensor | None, mean: np.ndarray, invstd: np.ndarray):
    """The gradients of evaluation-mode batch norm, where mean and invstd are constants."""
    axes, shape = reduce_axes(x.ndim), channel_shape(x.ndim, x.shape[1])
    invstd_b = Tensor(invstd.reshape(shape))
    scale = invstd_b if weight is None else invstd_b * weight.reshape(shape)
    grad_weight = (grad * ((x - Tensor(mean.reshape(shape))) * invstd_b)).sum(axes)
    return grad * scale, grad_weight, grad.sum(axes)


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over (N, C) or (N, C, *) input, per channel C."""
    op = "batch_norm"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ArgumentError(f"{op}: expected input of shape (N, C) or (N, C, *), got {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ArgumentError(
                f"{op}: {name} must have shape ({channels},) for input of shape {x.shape}, got {t.shape}")
    same_float_dtype(op, input=x, weight=weight, bias=bias)
    if training and x._data.size // channels <= 1:
        raise ArgumentError(
            f"{op}: expected more than 1 value per channel when training, got input of shape {x.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ArgumentError(f"{op}: evaluation (training=False) needs running_mean and running_var")
    return BatchNorm.apply(x, weight, bias, running_mean, running_var, momentum=momentum, eps=eps,
                           training=bool(training))


# --------------------------------------------------------------------------- other normalisations

def _normalize(x: Tensor, dims: tuple[int, ...], eps: float) -> Tensor:
    """(x - mean) / sqrt(biased var + eps) over ``dims``."""
    centered = x - x.mean(dims, keepdim=True)
    return centered / ((centered * centered).mean(dims, keepdim=True) + eps).sqrt()


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over groups of channels (and all positions), then scale and shift
    per channel."""
    op = "group_norm"
    if not isinstance(x, Tensor) or x.ndim < 2:
        raise ArgumentError(f"{op}: expected input of shape (N, C, *), got {getattr(x, 'shape', type(x).__name__)}")
    n, channels = x.shape[:2]
    if not isinstance(num_groups, int) or num_groups < 1 or channels % num_groups:
        raise ArgumentError(f"{op}: num_groups {num_groups!r} must divide the number of channels {channels}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ArgumentError(f"{op}: {name} must have shape ({channels},), got {t.shape}")
    same_float_dtype(op, input=x, weight=weight, bias=bias)
    if n * channels // num_groups * math.prod(x.shape[2:]) == 1:  # PyTorch's check, to the letter
        raise ArgumentError(f"{op}: expected more than 1 value per channel when training, got input of shape "
                            f"{x.shape} with {num_groups} groups")
    out = _normalize(x.reshape(n, num_groups, -1), (2,), eps).reshape(x.shape)
    out = _affine(out, weight, bias, channel_shape(x.ndim, channels))
    return out.contiguous(memory_format=formats.suggest(x._strides_array()))  # PyTorch's layout


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...]) -> Tensor:
    if weight is not None:
        x = x * weight.reshape(shape)
    return x if bias is None else x + bias.reshape(shape)


def layer_norm(x: Tensor, normalized_shape: int | tuple[int, ...], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) dimensions, then scale and shift elementwise."""
    op = "layer_norm"
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not isinstance(x, Tensor) or x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ArgumentError(f"{op}: normalized_shape {shape} must match the last dimensions of the input, "
                            f"got shape {getattr(x, 'shape', type(x).__name__)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ArgumentError(f"{op}: {name} must have shape {shape}, got {t.shape}")
    same_float_dtype(op, input=x, weight=weight, bias=bias)
    x = x.contiguous()  # PyTorch's layer norm reads and writes row-major memory
    return _affine(_normalize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps), weight, bias, shape)


def instance_norm(x: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) over its positions; with running statistics, they track
    the batch average of the instances' statistics (PyTorch's rule), and without
    ``use_input_stats`` they are what normalises."""
    op = "instance_norm"
    if not isinstance(x, Tensor) or x.ndim < 3:
        raise ArgumentError(f"{op}: expected input of shape (N, C, *spatial), got "
                            f"{getattr(x, 'shape', type(x).__name__)}")
    n, c = x.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ArgumentError(f"{op}: {name} must have shape ({c},) for input of shape {x.shape}, got {t.shape}")
    same_float_dtype(op, input=x, weight=weight, bias=bias)
    x = x.contiguous()  # PyTorch's instance norm is a batch norm of the row-major input
    spatial, shape = tuple(range(2, x.ndim)), channel_shape(x.ndim, c)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ArgumentError(f"{op}: use_input_stats=False needs running_mean and running_var")
        invstd = (1.0 / np.sqrt(running_var._data + eps)).astype(x.dtype)
        out = (x - Tensor(running_mean._data.astype(x.dtype).reshape(shape))) * Tensor(invstd.reshape(shape))
        return _affine(out, weight, bias, shape)
    count = math.prod(x.shape[2:])
    if running_mean is not None and running_var is not None:  # outside the graph, as batch norm's
        means = x._data.mean(axis=spatial)
        variances = x._data.var(axis=spatial) * count / max(count - 1, 1)
        for target, value in ((running_mean, means), (running_var, variances)):
            target._data *= 1 - momentum
            target._data += momentum * value.mean(0)
            bump_version(target._data)
    return _affine(_normalize(x, spatial, eps), weight, bias, shape)


def local_response_norm(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean of x² over ``size`` neighbouring channels) ** beta (AlexNet's LRN;
    the window is zero-padded at the ends and always divided by ``size``, as PyTorch)."""
    op = "local_response_norm"
    if not isinstance(x, Tensor) or x.ndim < 3:
        raise ArgumentError(f"{op}: expected input of shape (N, C, *), got {getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(size, int) or size < 1:
        raise ArgumentError(f"{op}: size must be a positive int, got {size!r}")
    channels = x.shape[1]
    squares = pad((x * x).unsqueeze(1).flatten(3) if x.ndim > 3 else (x * x).unsqueeze(1),
                  (0, 0, size // 2, (size - 1) // 2))
    window = sum(squares[:, 0, i:i + channels] for i in range(size)) / size
    return x / (window.reshape(x.shape) * alpha + k) ** beta
