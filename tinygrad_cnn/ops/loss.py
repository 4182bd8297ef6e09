"""Losses: softmax and log-softmax, negative log-likelihood (with label smoothing) and the
cross-entropy made of the two, and PyTorch's other criteria (mse, l1, smooth l1, huber,
binary cross-entropy, kl divergence)."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd import Primitive, is_grad_enabled
from ..errors import DtypeError, IndexRangeError
from ..tensor import Tensor
from .activation import LogSigmoid, logsigmoid
from .arguments import ArgumentError, normalize_dim, same_float_dtype
from .broadcast import sum_to_shape
from .elementwise import clamp, where


def _log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(axis=dim, keepdims=True)  # exp never overflows
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


class Softmax(Primitive):
    """exp(x) / sum(exp(x)) along ``dim``; backward reads the result, as PyTorch's."""

    output_layout = "contiguous"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dim):
        if x.size == 0:
            e = x.copy()
        else:
            e = np.exp(x - x.max(axis=dim, keepdims=True))
            e /= e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        s = ctx.result(*ctx.saved_tensors)
        return s * (grad - (grad * s).sum(ctx.settings["dim"], keepdim=True))


class LogSoftmax(Primitive):
    """x - log(sum(exp(x))) along ``dim``; backward reads the result, as PyTorch's."""

    output_layout = "contiguous"
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dim):
        out = _log_softmax(x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        dim = ctx.settings["dim"]
        return grad - ctx.result(*ctx.saved_tensors).exp() * grad.sum(dim, keepdim=True)


def _softmax_input(op: str, x: Tensor, dim: int | None, dtype: Any, stacklevel: int) -> tuple[Tensor, int]:
    """x in ``dtype`` (cast before the operation, as PyTorch's ``dtype=``) and the dimension:
    without one, PyTorch's legacy choice (0 for 0-, 1- and 3-D input, else 1) with its warning."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X as "
                      "an argument.", UserWarning, stacklevel=stacklevel)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return (x if dtype is None else x.to(dtype)), normalize_dim(op, dim, x.ndim)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim`` (PyTorch's signature: ``dtype`` casts the input first)."""
    x, dim = _softmax_input("softmax", input, dim, dtype, _stacklevel)
    return Softmax.apply(x, dim=dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """x - log(sum(exp(x))) along ``dim``, computed stably (PyTorch's signature)."""
    x, dim = _softmax_input("log_softmax", input, dim, dtype, _stacklevel)
    return LogSoftmax.apply(x, dim=dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """softmax(-x) along ``dim`` (PyTorch's signature)."""
    x, dim = _softmax_input("softmin", input, dim, dtype, _stacklevel)
    return Softmax.apply(-x, dim=dim)


# --------------------------------------------------------------------------- cross-entropy

class NllLoss(Primitive):
    """-(1 - smoothing) * logp[row, target] - smoothing / C * sum(logp[row]) per row of
    log-probabilities (N, C), 0 for ignored rows, then reduced ("mean" over the rows kept).

    A linear map of ``logp``, so backward reads nothing but the targets: its gradient is the
    adjoint map (``NllLossBackward``), whose own adjoint is this one again. Cross-entropy is
    ``log_softmax`` followed by this node, as PyTorch records it."""

    backward_reads = ()
    output_layout = "contiguous"

    @staticmethod
    def forward(ctx, logp, target, reduction, label_smoothing, ignore_index):
        valid = target != ignore_index
        rows = np.flatnonzero(valid)
        losses = np.zeros(len(target), dtype=logp.dtype)
        losses[rows] = -logp[rows, target[rows]]  # ignored rows stay 0, even where logp is NaN
        if label_smoothing:
            losses *= 1 - label_smoothing
            losses[rows] -= label_smoothing / logp.shape[1] * logp[rows].sum(axis=1)
        if reduction == "none":
            return losses
        total = losses.sum(dtype=logp.dtype)
        return total / len(rows) if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad):
        logp, target = ctx.inputs
        return NllLossBackward.apply(grad, target, classes=logp.shape[1], **ctx.settings), None


class NllLossBackward(Primitive):
    """The gradient of ``NllLoss`` for log-probabilities: per row, -w * (1 - smoothing) at the
    target and -w * smoothing / C everywhere, where w is the row's incoming gradient (divided
    by the rows kept for "mean"); ignored rows are 0. Written, not multiplied by a one-hot
    mask, so an infinite gradient stays where PyTorch's nll_loss_backward puts it."""

    backward_reads = ()
    output_layout = "contiguous"

    @staticmethod
    def forward(ctx, grad, target, classes, reduction, label_smoothing, ignore_index):
        valid = target != ignore_index
        rows = np.flatnonzero(valid)
        weights = np.broadcast_to(grad / max(len(rows), 1) if reduction == "mean" else grad, target.shape)
        out = np.zeros((len(target), classes), dtype=grad.dtype)
        if label_smoothing:
            out[rows] = -(weights[rows] * (label_smoothing / classes))[:, None]
        out[rows, target[rows]] -= weights[rows] * (1 - label_smoothing)
        return out

    @staticmethod
    def backward(ctx, grad_grad):
        _, target = ctx.inputs
        s = ctx.settings
        return NllLoss.apply(grad_grad, target, reduction=s["reduction"], label_smoothing=s["label_smoothing"],
                             ignore_index=s["ignore_index"]), None


REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` pair, when given, decides the reduction
    (with PyTorch's warning): both true or unset means "mean", reduce alone "sum", else "none"."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    chosen = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{chosen}' instead.",
                  stacklevel=3)
    return chosen


def _check_reduction(op: str, reduction: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ArgumentError(f"{op}: reduction must be {', '.join(map(repr, allowed[:-1]))} or {allowed[-1]!r}, "
                            f"got {reduction!r}")


def _reduce(op: str, losses: Tensor, reduction: str) -> Tensor:
    _check_reduction(op, reduction)
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C): one row per position."""
    if x.ndim == 2:
        return x
    return x.permute((0,) + tuple(range(2, x.ndim)) + (1,)).reshape(-1, x.shape[1])


def _check_logits(op: str, input: Tensor) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating point {'logits' if op == 'cross_entropy' else 'input'}, "
                        f"got dtype {input.dtype}")
    if input.ndim < 2:
        raise ArgumentError(f"{op}: expected input of shape (N, C) or (N, C, d1, ...), got {input.shape}")


def _class_targets(op: str, input: Tensor, target: Tensor, ignore_index: int) -> Tensor:  # noqa: A002
    """The class indices as one row per position, checked against the input's shape and number
    of classes (a Tensor operation, so an export keeps the targets an input)."""
    expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ArgumentError(f"{op}: target of shape {target.shape} does not match logits of shape "
                            f"{input.shape}; expected {expected}")
    classes = input.shape[1]
    data = target._data
    valid = data != ignore_index
    if valid.any() and (data[valid].min() < 0 or data[valid].max() >= classes):
        bad = data[valid][(data[valid] < 0) | (data[valid] >= classes)][0]
        raise IndexRangeError(f"{op}: target class {bad} is out of bounds for {classes} classes (0..{classes - 1})")
    return target.reshape(-1)


def _class_weights(op: str, weight: Tensor | None, classes: int, input: Tensor) -> Tensor | None:  # noqa: A002
    if weight is not None and (not isinstance(weight, Tensor) or weight.shape != (classes,)):
        raise ArgumentError(f"{op}: weight must be a Tensor of shape ({classes},), one weight per class, got "
                            f"{getattr(weight, 'shape', type(weight).__name__)}")
    same_float_dtype(op, input=input, weight=weight)
    return weight


def _picked(logp: Tensor, target: Tensor, ignore_index: int, weight: Tensor | None) -> tuple[Tensor, Tensor]:
    """Per row: -w[t] * logp[row, t] (0 for ignored rows), and the row weights w[t] (0 when
    ignored). The picking is a gather along the classes with the targets as an input, so an
    export keeps it a computation of the targets (ONNX GatherElements)."""
    valid = target != ignore_index
    safe = where(valid, target, 0)
    picked = logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    row_weight = where(valid, weight.gather(0, safe) if weight is not None else 1.0, 0.0).to(logp.dtype)
    # ignored rows selected away, not multiplied by 0: an infinite gradient (a mean over no
    # rows) would make NaN of them
    return where(valid, -picked * row_weight, 0.0), row_weight


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,  # noqa: A002
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-w[t] * input[t] per row of log-probabilities; the mean divides by the weights of the
    rows not ignored (PyTorch's rule)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    op = "nll_loss"
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if isinstance(input, Tensor) and input.ndim == 1:  # one unbatched sample of C log-probabilities
        loss = nll_loss(input.unsqueeze(0), target.reshape(1), weight, None, ignore_index, None, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    _check_logits(op, input)
    _check_reduction(op, reduction)
    if target.dtype.kind not in "iu":
        raise DtypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    flat = _class_targets(op, input, target, ignore_index)
    weight = _class_weights(op, weight, input.shape[1], input)
    if weight is None:
        loss = NllLoss.apply(_classes_last(input), flat, reduction=reduction, label_smoothing=0.0,
                             ignore_index=ignore_index)
        return loss.reshape(target.shape) if reduction == "none" else loss
    losses, row_weight = _picked(_classes_last(input), flat, ignore_index, weight)
    return _reduce_picked(losses, row_weight, reduction, target.shape)


def _reduce_picked(losses: Tensor, row_weight: Tensor, reduction: str, shape: tuple[int, ...]) -> Tensor:
    """Per-row losses of shape ``shape``, summed, or averaged over the rows' weights (PyTorch's rule)."""
    if reduction == "none":
        return losses.reshape(shape)
    return losses.sum() / row_weight.sum() if reduction == "mean" else losses.sum()


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,  # noqa: A002
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer class indices
    or class probabilities (a target of the logits' shape), as PyTorch.

    ``weight`` rescales each class; ``label_smoothing`` mixes the target with the uniform
    distribution; targets equal to ``ignore_index`` count for nothing (and not in the mean's
    denominator). It is ``log_softmax`` then the negative log-likelihood, as PyTorch records it,
    so backward reads only the log-probabilities and the loss is finite for logits of any
    magnitude.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    op = "cross_entropy"
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if isinstance(input, Tensor) and input.ndim == 1:  # one unbatched sample of C logits
        batched = target.unsqueeze(0) if target.shape == input.shape else target.reshape(1)
        loss = cross_entropy(input.unsqueeze(0), batched, weight, None, ignore_index, None, reduction, label_smoothing)
        return loss.reshape(()) if reduction == "none" else loss
    _check_logits(op, input)
    probabilities = target.dtype.kind == "f" and target.shape == input.shape
    if target.dtype.kind not in "iu" and not probabilities:
        raise DtypeError(
            f"{op}: target must hold integer class indices, got dtype {target.dtype} (or class "
            f"probabilities of the logits' shape {input.shape})")
    _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    classes = input.shape[1]
    weight = _class_weights(op, weight, classes, input)
    if probabilities:
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    expected = (input.shape[0],) + input.shape[2:]
    flat_target = _class_targets(op, input, target, ignore_index)
    logits = _classes_last(input)
    logp = log_softmax(logits, 1)
    if weight is None:
        loss = NllLoss.apply(logp, flat_target, reduction=reduction, label_smoothing=float(label_smoothing),
                             ignore_index=ignore_index)
        return loss.reshape(expected) if reduction == "none" and input.ndim > 2 else loss
    nll, row_weight = _picked(logp, flat_target, ignore_index, weight)
    if not label_smoothing:
        return _reduce_picked(nll, row_weight, reduction, expected)
    smooth = where(flat_target != ignore_index, -(logp * weight).sum(1), 0.0)
    if reduction == "none":
        total = (1 - label_smoothing) * nll + label_smoothing / classes * smooth
        return total.reshape(expected)
    if reduction == "sum":
        return (1 - label_smoothing) * nll.sum() + label_smoothing / classes * smooth.sum()
    denominator = row_weight.sum()
    return (1 - label_smoothing) * nll.sum() / denominator + label_smoothing / classes * smooth.sum() / denominator


def _cross_entropy_probabilities(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,  # noqa: A002
                                 label_smoothing: float) -> Tensor:
    """-sum over classes of w * q * log_softmax(x), with q the (smoothed) target distribution;
    the mean divides by the number of rows, and is NaN for logits with no elements (as
    PyTorch's, even where there are rows but no classes)."""
    classes = input.shape[1]
    q = target * (1 - label_smoothing) + label_smoothing / classes if label_smoothing and classes else target
    logp = log_softmax(input, 1)
    terms = logp * q if weight is None else logp * q * weight.reshape((1, classes) + (1,) * (input.ndim - 2))
    if reduction == "mean" and input.numel() == 0:
        return -terms.sum() * float("nan")
    return _reduce("cross_entropy", -terms.sum(1), reduction)


# --------------------------------------------------------------------------- regression and binary losses

def _pair_of(op: str, input: Tensor, target: Any) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=input.dtype))
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ArgumentError(f"{op}: input of shape {input.shape} and target of shape {target.shape} cannot be "
                            "broadcast together") from None
    return target


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _pair_of("mse_loss", input, target)
    difference = input - target
    return _reduce("mse_loss", difference * difference, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,  # noqa: A002
            reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _pair_of("l1_loss", input, target)
    return _reduce("l1_loss", (input - target).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,  # noqa: A002
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 * d² / beta where |d| < beta, else |d| - 0.5 * beta (beta = 0: the L1 loss)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _pair_of("smooth_l1_loss", input, target)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return _reduce("smooth_l1_loss", (input - target).abs(), reduction)
    return _reduce("smooth_l1_loss", HuberLoss.apply(input, target, delta=float(beta), slope=1.0), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:  # noqa: A002
    """0.5 * d² where |d| < delta, else delta * (|d| - 0.5 * delta)."""
    target = _pair_of("huber_loss", input, target)
    if delta <= 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    return _reduce("huber_loss", HuberLoss.apply(input, target, delta=float(delta), slope=float(delta)), reduction)


class HuberLoss(Primitive):
    """Elementwise 0.5 * (slope / delta) * d² where |d| < delta, else slope * (|d| - delta / 2),
    d = input - target: the Huber loss (slope = delta) and the smooth L1 loss (slope = 1, delta =
    beta). A primitive, with PyTorch's derivatives: at |d| = delta the linear branch's (its
    second derivative 0), a NaN d gives NaN, and the second derivative multiplies by the mask
    of the quadratic branch, so a NaN arriving there stays NaN, as in PyTorch."""

    output_layout = "iterator"
    backward_reads = (0, 1)

    @staticmethod
    def forward(ctx, x, t, delta, slope):
        size = np.abs(x - t)
        with np.errstate(over="ignore"):  # (the square of a far d, not selected)
            return np.where(size < delta, (0.5 * slope / delta) * size * size, slope * (size - 0.5 * delta))

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.inputs
        g = HuberLossBackward.apply(grad, x, t, **ctx.settings)
        need_x, need_t = ctx.needs_input_grad
        return (sum_to_shape(g, x.shape) if need_x else None, sum_to_shape(-g, t.shape) if need_t else None)


class HuberLossBackward(Primitive):
    """(grad, x, t) -> grad * d HuberLoss / dx: -slope * grad where d <= -delta, slope * grad
    where d >= delta, else (slope / delta) * d * grad (PyTorch's huber_loss_backward)."""

    output_layout = "iterator"
    backward_reads = (0, 1, 2)

    @staticmethod
    def forward(ctx, grad, x, t, delta, slope):
        d = x - t
        return np.where(d <= -delta, -slope * grad, np.where(d >= delta, slope * grad, (slope / delta) * d * grad))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x, t = ctx.inputs
        delta, slope = ctx.settings["delta"], ctx.settings["slope"]
        need_grad, need_x, need_t = ctx.needs_input_grad
        of_grad = of_x = of_t = None
        if need_grad:
            of_grad = sum_to_shape(HuberLossBackward.apply(grad_grad, x, t, **ctx.settings), grad.shape)
        if need_x or need_t:  # multiplied by the mask, not selected: PyTorch's huber_loss_double_backward
            quadratic = ((x - t).abs() < delta).to(grad_grad.dtype)
            both = grad_grad * grad * quadratic * (slope / delta)
            of_x = sum_to_shape(both, x.shape) if need_x else None
            of_t = sum_to_shape(-both, t.shape) if need_t else None
        return of_grad, of_x, of_t


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-w * (t * log p + (1 - t) * log(1 - p)) for probabilities p; each log is clamped at -100
    (PyTorch's rule), so p = 0 or 1 gives a finite loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    op = "binary_cross_entropy"
    target = _pair_of(op, input, target)
    if target.shape != input.shape:
        raise ArgumentError(f"{op}: target of shape {target.shape} must have the input's shape {input.shape}")
    same_float_dtype(op, input=input, target=target, weight=weight)
    if not ((input._data >= 0) & (input._data <= 1)).all():  # NaN fails too, as in PyTorch
        raise ArgumentError(f"{op}: all elements of input should be between 0 and 1")
    losses = BinaryCrossEntropy.apply(input, target)
    return _reduce(op, losses if weight is None else losses * weight, reduction)


class BinaryCrossEntropy(Primitive):
    """-(t * log p + (1 - t) * log(1 - p)) elementwise, each log clamped at -100; the gradient
    is PyTorch's (p - t) / max(p (1 - p), 1e-12), finite at p = 0 and 1. The result is laid out
    as the input (PyTorch's kernel writes into ``empty_like(input)``)."""

    output_layout = "preserve"

    @staticmethod
    def forward(ctx, p, t):
        with np.errstate(divide="ignore"):
            return -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.inputs
        grad_p = grad * (p - t) / clamp((1 - p) * p, min=1e-12) if ctx.needs_input_grad[0] else None
        grad_t = None
        if ctx.needs_input_grad[1]:
            grad_t = grad * (clamp((1 - p).log(), min=-100) - clamp(p.log(), min=-100))
        return grad_p, grad_t


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(x), t), computed stably from the logits x; ``pos_weight``
    weighs the positive term (per class, broadcast over the last dimension). Neither weight is
    differentiable, as in PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    op = "binary_cross_entropy_with_logits"
    target = _pair_of(op, input, target)
    if target.shape != input.shape:
        raise ArgumentError(f"{op}: target of shape {target.shape} must have the input's shape {input.shape}")
    for name, given in (("weight", weight), ("pos_weight", pos_weight)):
        if isinstance(given, Tensor) and given.requires_grad and is_grad_enabled():
            raise ArgumentError(f"{op}: not differentiable with respect to argument '{name}'; "
                                "this input cannot have requires_grad True (detach it)")
    if pos_weight is not None:
        pos_weight = pos_weight if isinstance(pos_weight, Tensor) else Tensor(np.asarray(pos_weight))
        if np.broadcast_shapes(pos_weight.shape, input.shape) != input.shape:
            raise ArgumentError(f"{op}: pos_weight of shape {pos_weight.shape} must broadcast to the input's "
                                f"shape {input.shape}")
    losses = BinaryCrossEntropyWithLogits.apply(target, input, pos_weight)
    return _reduce(op, losses if weight is None else losses * weight, reduction)


class BinaryCrossEntropyWithLogits(Primitive):
    """(t, x, pos_weight) -> (1 - t) x - (1 + (pos_weight - 1) t) log sigmoid(x), elementwise,
    with PyTorch's fused derivatives: grad (sigmoid(x) - t) for x, -grad x for t (with
    pos_weight, grad ((pw t + 1 - t) sigmoid(x) - pw t) and grad (log sigmoid(-x) - pw log
    sigmoid(x))). A composition would subtract inf from inf where an infinite gradient arrives.
    The target comes first: the result has its dtype and layout, as PyTorch's kernel works in
    place on 1 - t. The backward is made of differentiable operations, as PyTorch's, so the
    second derivatives are theirs."""

    output_layout = "iterator"
    backward_reads = (0, 1, 2)

    @staticmethod
    def forward(ctx, t, x, pos_weight):
        log_sigmoid = LogSigmoid.forward(ctx, x)  # (a new array, changed in place below)
        if pos_weight is not None:
            np.multiply(log_sigmoid, (pos_weight - 1) * t + 1, out=log_sigmoid, casting="same_kind")
        # then in place, as PyTorch's kernel, so mixed float dtypes round as its do
        out = np.subtract(1, t, out=np.empty_like(t))
        np.multiply(out, x, out=out, casting="same_kind")
        return np.subtract(out, log_sigmoid, out=out, casting="same_kind")

    @staticmethod
    def backward(ctx, grad):
        t, x, pos_weight = ctx.inputs
        need_t, need_x = ctx.needs_input_grad[:2]
        grad_t = grad_x = None
        if need_x:
            if pos_weight is None:
                grad_x = (x.sigmoid() - t) * grad
            else:
                weighted = pos_weight * t
                grad_x = ((weighted + 1 - t) * x.sigmoid() - weighted) * grad
            grad_x = sum_to_shape(grad_x, x.shape)
        if need_t:
            if pos_weight is None:
                grad_t = -x * grad
            else:
                grad_t = (logsigmoid(-x) - logsigmoid(x) * pos_weight) * grad
            grad_t = sum_to_shape(grad_t, t.shape)
        return grad_t, grad_x, None


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """target * (log target - input) for log-probabilities ``input`` (0 where target is 0);
    "batchmean" divides the sum by the batch size, which is the true KL divergence."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    op = "kl_div"
    target = _pair_of(op, input, target)
    _check_reduction(op, reduction, REDUCTIONS + ("batchmean",))
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        positive = target > 0
        pointwise = where(positive, target * where(positive, target, 1.0).log(), 0.0) - target * input
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(op, pointwise, reduction)
