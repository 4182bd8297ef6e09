"""Batch normalisation: one primitive for both modes, with a fused analytic backward.

Training normalises with the batch's biased variance and updates the running statistics in
place with the unbiased one (as PyTorch); evaluation normalises with the running statistics,
which makes it an affine map per channel.
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..autograd import Function, vjp_by_composition
from ..kernels.norm import channel_shape, reduce_axes
from ..tensor import Tensor
from ..versions import bump_version
from .arguments import same_float_dtype


class BatchNorm(Function):
    """Batch norm of (N, C, *) input: y = (x - mean) / sqrt(var + eps) * weight + bias per
    channel, computed as x * scale + shift.

    Training uses the batch's mean and biased variance and updates the running statistics in
    place; evaluation uses the running statistics.
    """

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
        x, weight, _ = ctx.inputs
        mean, invstd = ctx.saved_tensors
        if ctx.settings["training"]:
            grad_x, grad_w, grad_b = BatchNormBackward.apply(
                grad, x, weight, mean=mean, invstd=invstd, eps=ctx.settings["eps"])
        else:
            grad_x, grad_w, grad_b = _affine_backward(grad, x, weight, mean, invstd)
        needs = ctx.needs_input_grad
        return (grad_x if needs[0] else None, grad_w if needs[1] else None,
                grad_b if needs[2] else None)


class BatchNormBackward(Function):
    """(grad, x, weight) -> (grad_x, grad_weight, grad_bias):

    grad_x = weight * invstd * (grad - mean(grad) - normalized * mean(grad * normalized)),
    with normalized = (x - mean) * invstd, computed as grad * scale + x * a + b per channel.
    """

    @staticmethod
    def forward(ctx, grad, x, weight, mean, invstd, eps):
        return kernels.batch_norm_backward(grad, x, weight, mean, invstd)

    @staticmethod
    def backward(ctx, grad_grad_x, grad_grad_weight, grad_grad_bias):
        eps = ctx.settings["eps"]
        return vjp_by_composition(
            lambda g, x, w: _composite_backward(g, x, w, eps), ctx.inputs, ctx.needs_input_grad,
            (grad_grad_x, grad_grad_weight, grad_grad_bias))


def _composite_backward(grad: Tensor, x: Tensor, weight: Tensor | None, eps: float):
    """BatchNormBackward written with differentiable operations (for higher derivatives)."""
    axes, shape = reduce_axes(x.ndim), channel_shape(x.ndim, x.shape[1])
    count = x.data.size // x.shape[1]
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
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *), got {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(
                f"{op}: {name} must have shape ({channels},) for input of shape {x.shape}, got {t.shape}")
    same_float_dtype(op, input=x, weight=weight, bias=bias)
    if training and x.data.size // channels <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input of shape {x.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{op}: evaluation (training=False) needs running_mean and running_var")
    return BatchNorm.apply(
        x, weight, bias, running_mean=None if running_mean is None else running_mean.data,
        running_var=None if running_var is None else running_var.data, momentum=momentum, eps=eps,
        training=bool(training))
