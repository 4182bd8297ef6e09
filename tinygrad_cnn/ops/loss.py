"""Softmax, log-softmax and the fused, numerically stable softmax cross-entropy."""
from __future__ import annotations

import numpy as np

from ..autograd import Function, vjp_by_composition
from ..tensor import Tensor
from .arguments import normalize_dim


def _log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    shifted = x - x.max(axis=dim, keepdims=True)  # exp never overflows
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


class Softmax(Function):
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        dim = ctx.settings["dim"]
        s = Softmax.apply(x, dim=dim)
        return s * (grad - (grad * s).sum(dim, keepdim=True))


class LogSoftmax(Function):
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x, dim):
        return _log_softmax(x, dim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        dim = ctx.settings["dim"]
        return grad - Softmax.apply(x, dim=dim) * grad.sum(dim, keepdim=True)


def softmax(x: Tensor, dim: int) -> Tensor:
    return Softmax.apply(x, dim=normalize_dim("softmax", dim, x.ndim))


def log_softmax(x: Tensor, dim: int) -> Tensor:
    return LogSoftmax.apply(x, dim=normalize_dim("log_softmax", dim, x.ndim))


# --------------------------------------------------------------------------- cross-entropy

def _target_distribution(target: np.ndarray, classes: int, smoothing: float, valid: np.ndarray,
                         dtype: np.dtype) -> np.ndarray:
    """Rows of (1 - smoothing) * one_hot(target) + smoothing / classes; zero for ignored rows."""
    q = np.full((target.shape[0], classes), smoothing / classes, dtype=dtype)
    rows = np.flatnonzero(valid)
    q[rows, target[rows]] += 1 - smoothing
    q[~valid] = 0
    return q


def _row_weights(grad: np.ndarray, reduction: str, count: int, dtype: np.dtype) -> np.ndarray:
    """d(loss)/d(per-row loss), times the incoming gradient."""
    if reduction == "none":
        return grad.astype(dtype, copy=False)
    scale = grad / count if reduction == "mean" else grad
    return np.asarray(scale, dtype=dtype)


class CrossEntropy(Function):
    """Mean/sum/per-row of -sum(q * log_softmax(logits)) for (N, C) logits and class targets."""

    backward_reads = (0,)

    @staticmethod
    def forward(ctx, logits, target, reduction, label_smoothing, ignore_index):
        valid = target != ignore_index
        logp = _log_softmax(logits, 1)
        q = _target_distribution(target, logits.shape[1], label_smoothing, valid, logits.dtype)
        losses = -np.einsum("nc,nc->n", q, logp)
        ctx.save_for_backward(logp, q)
        if reduction == "none":
            return losses
        total = losses.sum(dtype=logits.dtype)
        return total / int(valid.sum()) if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad):
        logits, target = ctx.inputs
        logp, q = ctx.saved_tensors
        count = int(np.count_nonzero(q.any(axis=1)))  # rows not ignored (ignored rows of q are zero)
        return CrossEntropyBackward.apply(grad, logits, logp=logp, q=q, count=count,
                                          reduction=ctx.settings["reduction"]), None


class CrossEntropyBackward(Function):
    """(grad, logits) -> grad * (softmax(logits) - q) per row, in one pass."""

    @staticmethod
    def forward(ctx, grad, logits, logp, q, count, reduction):
        weights = _row_weights(grad, reduction, count, logits.dtype)
        out = np.exp(logp)
        out -= q
        out *= weights[:, None] if weights.ndim else weights
        out[q.sum(axis=1) == 0] = 0  # ignored rows (q is all zero there)
        return out

    @staticmethod
    def backward(ctx, grad_grad):
        s = ctx.settings

        def composite(grad: Tensor, logits: Tensor) -> Tensor:
            weights = grad if s["reduction"] == "none" else grad / (s["count"] if s["reduction"] == "mean" else 1)
            weights = weights.reshape(-1, 1) if weights.ndim else weights
            return (softmax(logits, 1) - s["q"]) * weights * (s["q"].sum(axis=1, keepdims=True) > 0)

        return vjp_by_composition(composite, ctx.inputs, ctx.needs_input_grad, (grad_grad,))


def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
                  label_smoothing: float = 0.0, ignore_index: int = -100) -> Tensor:
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer class indices.

    Fused and stable: finite for logits of any magnitude. ``label_smoothing`` mixes the
    one-hot target with the uniform distribution; targets equal to ``ignore_index`` count
    for nothing (and not in the mean's denominator), as in PyTorch.
    """
    op = "cross_entropy"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor of logits, got {type(input).__name__}")
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices, got dtype {target.dtype} "
            "(class probabilities are not supported)")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating point logits, got dtype {input.dtype}")
    if input.ndim < 2:
        raise ValueError(f"{op}: expected logits of shape (N, C) or (N, C, d1, ...), got {input.shape}")
    expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{op}: target of shape {target.shape} does not match logits of shape "
                         f"{input.shape}; expected {expected}")
    classes = input.shape[1]
    valid = target.data != ignore_index
    if valid.any() and (target.data[valid].min() < 0 or target.data[valid].max() >= classes):
        bad = target.data[valid][(target.data[valid] < 0) | (target.data[valid] >= classes)][0]
        raise ValueError(f"{op}: target class {bad} is out of range for {classes} classes (0..{classes - 1})")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    logits, flat_target = input, target.data
    if input.ndim > 2:  # classes last, then one row per position
        logits = input.permute((0,) + tuple(range(2, input.ndim)) + (1,)).reshape(-1, classes)
        flat_target = flat_target.reshape(-1)
    loss = CrossEntropy.apply(logits, Tensor(flat_target), reduction=reduction,
                              label_smoothing=float(label_smoothing), ignore_index=ignore_index)
    return loss.reshape(expected) if reduction == "none" and input.ndim > 2 else loss
