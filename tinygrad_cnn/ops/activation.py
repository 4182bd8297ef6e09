"""Activation functions with PyTorch's formulas, defaults and gradients at the kinks.

Most are compositions of existing primitives, so their derivatives of any order come free.
Five are primitives of their own: ``erf`` (for the exact GELU), and ``hardtanh``,
``hardswish``, ``logsigmoid`` and ``elu`` (with ``selu``), whose PyTorch gradients at the
kinks and far tails a composition would not reproduce. Masks are tensor comparisons, so an export records them as
computations rather than constants. The ``inplace=`` choice is the functional layer's
(``functional.py``), as in PyTorch's ``F.relu``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import kernels
from ..autograd import Primitive
from ..tensor import Tensor
from .arguments import ArgumentError, NotImplementedArgumentsError
from .elementwise import clamp, where

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _tensor(name: str, x: object) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")


class Erf(Primitive):
    """The error function, elementwise (math.erf: exact to double precision, not fast)."""

    backward_reads = (0,)
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        return _erf(x).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad * (2 / math.sqrt(math.pi)) * (-(x * x)).exp()


class Hardswish(Primitive):
    """x * relu6(x + 3) / 6, with PyTorch's gradient: 0 up to -3, (2x + 3) / 6 below 3, then 1."""

    backward_reads = (0,)
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        return HardswishBackward.apply(grad, ctx.inputs[0])


class HardswishBackward(Primitive):
    """(grad, x) -> 0 where x <= -3, grad * (x / 3 + 0.5) below 3, else grad: PyTorch's
    hardswish_backward, selected, not multiplied, so an infinite grad where the slope is 0 gives
    0. Its derivatives are PyTorch's too: itself for grad, and grad * grad_grad / 3 strictly
    inside (-3, 3), 0 (selected) elsewhere, so a NaN gradient arriving beyond -3 stays there."""

    output_layout = "iterator"
    backward_reads = (0, 1)

    @staticmethod
    def forward(ctx, grad, x):
        with np.errstate(invalid="ignore", over="ignore"):
            return np.where(x <= -3, 0, np.where(x < 3, grad * (x / 3 + 0.5), grad)).astype(np.result_type(grad, x))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.inputs
        of_grad = HardswishBackward.apply(grad_grad, x) if ctx.needs_input_grad[0] else None
        of_x = None
        if ctx.needs_input_grad[1]:
            inside = Tensor((x._data > -3) & (x._data < 3))
            of_x = where(inside, grad_grad * grad / 3, 0.0)
        return of_grad, of_x


class Hardtanh(Primitive):
    """x clipped to [min_val, max_val]; the gradient passes strictly inside (PyTorch's
    hardtanh, unlike clamp, whose gradient also passes at the bounds)."""

    backward_reads = (0,)
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad):
        return HardtanhBackward.apply(grad, ctx.inputs[0], **ctx.settings)


class HardtanhBackward(Primitive):
    """0 where x <= min_val or x >= max_val, else grad (PyTorch's hardtanh_backward: stopped at
    or beyond the bounds only, so a NaN x passes grad on, and an infinite grad where it is
    stopped gives 0). Linear in grad, so its own backward is itself; x only selects."""

    backward_reads = (1,)

    @staticmethod
    def forward(ctx, grad, x, min_val, max_val):
        return kernels.hardtanh_backward(grad, x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad_grad):
        return HardtanhBackward.apply(grad_grad, ctx.inputs[1], **ctx.settings), None


class LeakyRelu(Primitive):
    """x where x > 0, else negative_slope * x; backward reads x (PyTorch's LeakyReluBackward0)."""

    output_layout = "iterator"
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x, negative_slope):
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        return _leaky_relu_backward(grad, ctx.inputs[0]._data, ctx.settings["negative_slope"])


class LeakyReluOfResult(LeakyRelu):
    """``leaky_relu_``: the same values, but backward reads the result, which is positive where x
    is (a positive slope), so the overwritten input needs no copy (PyTorch's LeakyReluBackward1)."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, x, negative_slope):
        out = LeakyRelu.forward(ctx, x, negative_slope)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        slope = ctx.settings["negative_slope"]
        if slope < 0:
            raise RuntimeError(f"leaky_relu_: the backward of an in-place leaky ReLU with a negative slope ({slope}) "
                               "is not supported, as in PyTorch: its result does not tell the sign of its input; "
                               "call the out-of-place leaky_relu instead")
        return _leaky_relu_backward(grad, ctx.saved_tensors[0], slope)


def _leaky_relu_backward(grad: Tensor, x: np.ndarray, negative_slope: float) -> Tensor:
    """grad where x > 0, else grad * negative_slope: linear in grad, and x only selects."""
    return where(Tensor(x > 0), grad, grad * negative_slope)


class Elu(Primitive):
    """scale * x for x > 0, else scale * alpha * (exp(input_scale * x) - 1) (ELU; SELU with its
    constants). The kink at 0 belongs to the exponential side in the gradient (x <= 0) and to
    neither in the second derivative (x < 0), as PyTorch's elu_backward and its derivative."""

    backward_reads = (0,)
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        negative = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
        return np.where(x > 0, x * scale, negative).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return EluBackward.apply(grad, ctx.inputs[0], **ctx.settings)


class EluBackward(Primitive):
    """(grad, x) -> grad * d elu(x) / dx."""

    backward_reads = (1,)

    @staticmethod
    def forward(ctx, grad, x, alpha, scale, input_scale):
        slope = np.exp(np.minimum(x, 0) * input_scale) * (alpha * scale * input_scale)
        return grad * np.where(x <= 0, slope, scale).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.inputs
        s = ctx.settings
        grad_of_grad = EluBackward.apply(grad_grad, x, **s) if ctx.needs_input_grad[0] else None
        grad_of_x = None
        if ctx.needs_input_grad[1]:
            curvature = (clamp(x, max=0.0) * s["input_scale"]).exp() * (s["alpha"] * s["scale"] * s["input_scale"] ** 2)
            grad_of_x = where(x < 0, grad_grad * grad * curvature, 0.0)
        return grad_of_grad, grad_of_x


class EluOfResult(Elu):
    """``elu_`` and ``selu_``: the same values, but backward reads the result (PyTorch's
    EluBackward1), so the overwritten input needs no copy, and changing the result in place
    afterwards is refused as PyTorch refuses it."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        out = Elu.forward(ctx, x, alpha, scale, input_scale)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        s = ctx.settings
        if s["alpha"] < 0:
            raise RuntimeError(f"elu_: the backward of an in-place ELU with a negative alpha ({s['alpha']}) is not "
                               "supported, as in PyTorch: its result does not tell the sign of its input; call the "
                               "out-of-place elu instead")
        return EluResultBackward.apply(grad, ctx.result(*ctx.saved_tensors), **s)


class EluResultBackward(Primitive):
    """(grad, y) -> grad * d elu / dx written with the result y = elu(x): input_scale * (y +
    alpha * scale) where y <= 0, else scale (PyTorch's elu_backward with is_result). Its second
    derivative multiplies by the mask y < 0, as PyTorch's elu_double_backward."""

    backward_reads = (1,)

    @staticmethod
    def forward(ctx, grad, y, alpha, scale, input_scale):  # (PyTorch's order of operations)
        dtype = np.result_type(grad, y)
        return np.where(y <= 0, grad * dtype.type(input_scale) * (y + dtype.type(alpha * scale)),
                        grad * dtype.type(scale)).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, y = ctx.inputs
        s = ctx.settings
        of_grad = EluResultBackward.apply(grad_grad, y, **s) if ctx.needs_input_grad[0] else None
        of_y = grad_grad * grad * s["input_scale"] * (y < 0).to(grad.dtype) if ctx.needs_input_grad[1] else None
        return of_grad, of_y


class LogSigmoid(Primitive):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for any x; gradient sigmoid(-x)."""

    output_layout = "contiguous"
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad * (-x).sigmoid()


def erf(x: Tensor) -> Tensor:
    return Erf.apply(x)


def relu(x: Tensor) -> Tensor:
    _tensor("relu", x)
    return x.relu()


def hardtanh_bounds(op: str, min_val: float, max_val: float) -> None:
    if min_val > max_val:
        raise ArgumentError(f"{op}: min_val ({min_val}) cannot be greater than max_val ({max_val})")


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient passes strictly inside (as PyTorch)."""
    hardtanh_bounds("hardtanh", min_val, max_val)
    _tensor("hardtanh", x)
    return Hardtanh.apply(x, min_val=float(min_val), max_val=float(max_val))


def relu6(x: Tensor) -> Tensor:
    return hardtanh(x, 0.0, 6.0)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, of_result: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x; with ``of_result`` the backward reads the result
    rather than x (the in-place form, whose x is overwritten)."""
    _tensor("leaky_relu", x)
    if x.dtype.kind != "f":
        raise NotImplementedArgumentsError(f"leaky_relu: not implemented for dtype {x.dtype} (as in PyTorch); "
                                           "convert with .float() first")
    return (LeakyReluOfResult if of_result else LeakyRelu).apply(x, negative_slope=float(negative_slope))


def elu(x: Tensor, alpha: float = 1.0, of_result: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise; with ``of_result`` the backward reads the
    result rather than x (the in-place form, whose x is overwritten)."""
    _tensor("elu", x)
    return (EluOfResult if of_result else Elu).apply(x, alpha=float(alpha), scale=1.0, input_scale=1.0)


def selu(x: Tensor, of_result: bool = False) -> Tensor:
    _tensor("selu", x)
    return (EluOfResult if of_result else Elu).apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), exactly with erf, or with PyTorch's tanh approximation."""
    if approximate == "none":
        return x * 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
    if approximate == "tanh":
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh())
    raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Tensor) -> Tensor:
    _tensor("silu", x)
    return x * x.sigmoid()


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as PyTorch)."""
    _tensor("softplus", x)
    return Softplus.apply(x, beta=float(beta), threshold=float(threshold))


class Softplus(Primitive):
    """softplus with PyTorch's derivatives, which a composition would not reproduce at the
    threshold: the first derivative is the smooth branch's where beta * x equals it, the second
    derivative 0 there (``x * beta < threshold`` in PyTorch's softplus_double_backward); a NaN
    x gives a NaN gradient."""

    output_layout = "iterator"
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x, beta, threshold):
        scaled = x * beta
        with np.errstate(over="ignore"):  # (exp of a large x, not selected)
            return np.where(scaled > threshold, x, np.log1p(np.exp(scaled)) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return SoftplusBackward.apply(grad, ctx.inputs[0], **ctx.settings)


class SoftplusBackward(Primitive):
    """(grad, x) -> grad where beta * x > threshold, else grad * sigmoid(beta * x)."""

    output_layout = "iterator"
    backward_reads = (1,)

    @staticmethod
    def forward(ctx, grad, x, beta, threshold):
        scaled = x * beta
        with np.errstate(over="ignore", invalid="ignore"):  # (inf / inf where not selected)
            z = np.exp(scaled)
            return np.where(scaled > threshold, grad, grad * z / (z + 1)).astype(np.result_type(grad, x), copy=False)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.inputs
        beta, threshold = ctx.settings["beta"], ctx.settings["threshold"]
        of_grad = SoftplusBackward.apply(grad_grad, x, **ctx.settings) if ctx.needs_input_grad[0] else None
        of_x = None
        if ctx.needs_input_grad[1]:  # PyTorch's softplus_double_backward: a mask product, strictly below
            scaled = x * beta
            s = scaled.sigmoid()
            of_x = grad_grad * grad * s * (1 - s) * (scaled < threshold).to(grad_grad.dtype) * beta
        return of_grad, of_x


def mish(x: Tensor) -> Tensor:
    _tensor("mish", x)
    return x * softplus(x).tanh()


def hardswish(x: Tensor) -> Tensor:
    _tensor("hardswish", x)
    return Hardswish.apply(x)


def hardsigmoid(x: Tensor) -> Tensor:
    """relu6(x + 3) / 6; the gradient 1/6 strictly between -3 and 3."""
    _tensor("hardsigmoid", x)
    return hardtanh(x + 3, 0.0, 6.0) / 6


def logsigmoid(x: Tensor) -> Tensor:
    return LogSigmoid.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()
