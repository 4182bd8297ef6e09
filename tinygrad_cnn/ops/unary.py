"""More elementwise functions: trigonometric and hyperbolic, exp2/log2/log10/expm1, reciprocal,
atan2.

Each is a primitive whose forward is one NumPy call and whose backward is its textbook
derivative written with Tensor operations, so second derivatives come from the same code. The
derivative is written with the result where PyTorch's is (tan, exp2, expm1, reciprocal), so
backward reads, and refuses after in-place changes of, what PyTorch's reads.
Integer inputs become the default float dtype first, as in PyTorch.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import Primitive
from ..tensor import Tensor
from .broadcast import sum_to_shape
from .elementwise import binary_op, float_input

Derivative = Callable[[Tensor], Tensor]  # x (or the result y) -> f'(x), with Tensor operations


def _primitive(name: str, forward: Callable[[np.ndarray], np.ndarray], derivative: Derivative,
               doc: str) -> type[Primitive]:
    """A unary primitive ``name``: forward by NumPy, backward = grad * derivative(x)."""

    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        return grad * derivative(x)

    return type(name, (Primitive,), {
        "__doc__": doc, "backward_reads": (0,), "output_layout": "iterator", "__module__": __name__,
        "forward": staticmethod(lambda ctx, x: forward(x)), "backward": staticmethod(backward)})


def _primitive_of_result(name: str, forward: Callable[[np.ndarray], np.ndarray], derivative: Derivative,
                         doc: str) -> type[Primitive]:
    """A unary primitive whose derivative is written with its result y, which backward reads
    instead of x (as PyTorch's saves ``result``): backward = grad * derivative(y)."""

    def save_result(ctx: Primitive, x: np.ndarray) -> np.ndarray:
        out = forward(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx: Primitive, grad: Tensor) -> Tensor:
        return grad * derivative(ctx.result(*ctx.saved_tensors))

    return type(name, (Primitive,), {
        "__doc__": doc, "backward_reads": (), "output_layout": "iterator", "__module__": __name__,
        "forward": staticmethod(save_result), "backward": staticmethod(backward)})


Sin = _primitive("Sin", np.sin, lambda x: cos(x), "sin(x); derivative cos(x).")
Cos = _primitive("Cos", np.cos, lambda x: -sin(x), "cos(x); derivative -sin(x).")
Tan = _primitive_of_result("Tan", np.tan, lambda y: 1 + y * y, "tan(x); derivative 1 + tan(x)^2.")
Asin = _primitive("Asin", np.arcsin, lambda x: (1 - x * x).rsqrt(), "asin(x); derivative 1/sqrt(1 - x^2).")
Acos = _primitive("Acos", np.arccos, lambda x: -(1 - x * x).rsqrt(), "acos(x); derivative -1/sqrt(1 - x^2).")
Atan = _primitive("Atan", np.arctan, lambda x: 1 / (1 + x * x), "atan(x); derivative 1/(1 + x^2).")
Sinh = _primitive("Sinh", np.sinh, lambda x: cosh(x), "sinh(x); derivative cosh(x).")
Cosh = _primitive("Cosh", np.cosh, lambda x: sinh(x), "cosh(x); derivative sinh(x).")
Exp2 = _primitive_of_result("Exp2", np.exp2, lambda y: y * math.log(2), "2^x; derivative 2^x ln 2.")
Log2 = _primitive("Log2", np.log2, lambda x: 1 / (x * math.log(2)), "log2(x); derivative 1/(x ln 2).")
Log10 = _primitive("Log10", np.log10, lambda x: 1 / (x * math.log(10)), "log10(x); derivative 1/(x ln 10).")
Expm1 = _primitive_of_result("Expm1", np.expm1, lambda y: y + 1, "exp(x) - 1, exact near 0; derivative exp(x).")
Reciprocal = _primitive_of_result("Reciprocal", np.reciprocal, lambda y: -(y * y), "1/x; derivative -1/x^2.")


def sin(x: Tensor) -> Tensor:
    return Sin.apply(float_input(x))


def cos(x: Tensor) -> Tensor:
    return Cos.apply(float_input(x))


def tan(x: Tensor) -> Tensor:
    return Tan.apply(float_input(x))


def asin(x: Tensor) -> Tensor:
    return Asin.apply(float_input(x))


def acos(x: Tensor) -> Tensor:
    return Acos.apply(float_input(x))


def atan(x: Tensor) -> Tensor:
    return Atan.apply(float_input(x))


def sinh(x: Tensor) -> Tensor:
    return Sinh.apply(float_input(x))


def cosh(x: Tensor) -> Tensor:
    return Cosh.apply(float_input(x))


def exp2(x: Tensor) -> Tensor:
    return Exp2.apply(float_input(x))


def log2(x: Tensor) -> Tensor:
    return Log2.apply(float_input(x))


def log10(x: Tensor) -> Tensor:
    return Log10.apply(float_input(x))


def expm1(x: Tensor) -> Tensor:
    return Expm1.apply(float_input(x))


def reciprocal(x: Tensor) -> Tensor:
    return Reciprocal.apply(float_input(x))


class Atan2(Primitive):
    """atan2(y, x), the angle of the point (x, y); d/dy = x/r^2, d/dx = -y/r^2."""

    output_layout = "iterator"

    @staticmethod
    def forward(ctx: Primitive, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> tuple[Any, Any]:
        y, x = ctx.inputs
        scale = grad / (x * x + y * y)
        return (sum_to_shape(scale * x, y.shape) if ctx.needs_input_grad[0] else None,
                sum_to_shape(-scale * y, x.shape) if ctx.needs_input_grad[1] else None)


def atan2(input: Tensor, other: Any) -> Tensor:  # noqa: A002  (PyTorch's names)
    """The angle of (other, input) in (-pi, pi], elementwise with broadcasting."""
    return binary_op("atan2", Atan2, input, other, true_division=True)


__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "exp2", "log2", "log10", "expm1",
           "reciprocal"]
