"""Add your own differentiable operation with PyTorch's autograd.Function contract, then check it.

Run: python examples/custom_function.py
"""
import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import assert_gradients


class Softplus(tc.autograd.Function):
    """softplus(x) = log(1 + exp(x)), computed without overflow."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)  # forward gets Tensors (grad mode is off in here)
        return x.clamp(min=0) + (-x.abs()).exp().log1p()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors  # x keeps its graph ...
        return grad * x.sigmoid()  # ... so this backward is differentiable: second derivatives work


def softplus(x: Tensor) -> Tensor:
    return Softplus.apply(x)


if __name__ == "__main__":
    x = Tensor(np.linspace(-3, 3, 7), requires_grad=True)
    softplus(x).sum().backward()
    print("softplus'(x) =", np.round(x.grad.numpy(), 4))
    assert_gradients(softplus, (4, 5))  # gradcheck + gradgradcheck in float64
    print("gradcheck and gradgradcheck passed")
