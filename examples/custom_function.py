"""Add your own differentiable operation with PyTorch's autograd.Function contract, then check it
with the battery the library runs on its own operations.

Run: python examples/custom_function.py
"""
import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, testing
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


def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(x * beta) / beta


# Its op-table entry: how to call it (t and F are tinygrad_cnn and its functional module), a slow
# reference from the definition, and the calls it must refuse.
SOFTPLUS = testing.OpInfo(
    "softplus", lambda t, F, x: softplus(x, beta=2.0),
    reference=lambda x: np.log1p(np.exp(2.0 * x)) / 2.0,
    refusals=(testing.Refusal("a negative beta", lambda t, F: softplus(t.ones(3), beta=-1.0), ValueError,
                              "beta must be positive"),))


# In your pytest suite, the whole battery for each entry of your own table:
@testing.ops([SOFTPLUS])
def test_my_operations(info):
    testing.check_op(info)


if __name__ == "__main__":
    x = Tensor(np.linspace(-3, 3, 7), requires_grad=True)
    softplus(x).sum().backward()
    print("softplus'(x) =", np.round(x.grad.numpy(), 4))
    assert_gradients(softplus, (4, 5))  # gradcheck + gradgradcheck in float64
    print("gradcheck and gradgradcheck passed")
    testing.check_op(SOFTPLUS)  # reference, derivatives, layouts, threads, dtypes, refusals
    print("the op-table battery passed")
