"""Add your own differentiable primitive by subclassing tc.Function, then check it.

Run: python examples/custom_function.py
"""
import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import assert_gradients


class Softplus(tc.Function):
    """softplus(x) = log(1 + exp(x)), computed without overflow."""

    @staticmethod
    def forward(ctx, x):
        return np.logaddexp(0, x)  # works on NumPy arrays

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs  # the input Tensors, still part of the graph
        return grad * x.sigmoid()  # Tensor ops: second derivatives work too


def softplus(x: Tensor) -> Tensor:
    return Softplus.apply(x)


if __name__ == "__main__":
    x = Tensor(np.linspace(-3, 3, 7), requires_grad=True)
    softplus(x).sum().backward()
    print("softplus'(x) =", np.round(x.grad.numpy(), 4))
    assert_gradients(softplus, (4, 5))  # gradcheck + gradgradcheck in float64
    print("gradcheck and gradgradcheck passed")
