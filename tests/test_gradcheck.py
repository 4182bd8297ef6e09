"""gradcheck and gradgradcheck must pass correct backwards and catch wrong or cut ones."""
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.gradcheck import GradcheckError
from tinygrad_cnn.testing import assert_gradients, random_inputs


class WrongSquare(tc.Function):
    """x**2 whose backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class ConstantBackwardSquare(tc.Function):
    """x**2 with a correct first derivative built outside the graph (a new Tensor from the saved
    one's values): second derivatives fail."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Tensor(2 * x)


def test_passes_correct_function():
    x, w = random_inputs((3, 4), (4, 2))
    assert tc.gradcheck(lambda a, b: (a @ b).sigmoid(), (x, w))


def test_fails_on_wrong_backward_and_names_the_element():
    (x,) = random_inputs((2, 3), seed=1)
    with pytest.raises(GradcheckError) as info:
        tc.gradcheck(WrongSquare.apply, (x,))
    message = str(info.value)
    assert "input 0" in message and "numerical" in message and "analytical" in message
    assert "worst at input element (" in message
    assert not tc.gradcheck(WrongSquare.apply, (x,), raise_exception=False)


def test_fails_when_the_graph_is_cut():
    (x,) = random_inputs((3,))
    with pytest.raises(GradcheckError, match="graph is cut"):
        tc.gradcheck(lambda t: Tensor(t.data * 2), (x,))


def test_gradgradcheck_catches_a_backward_outside_the_graph():
    (x,) = random_inputs((3,), seed=2)
    assert tc.gradcheck(ConstantBackwardSquare.apply, (x,))
    with pytest.raises(GradcheckError):
        tc.gradgradcheck(ConstantBackwardSquare.apply, (x,))


def test_refuses_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="input 0 has dtype float32.*float64"):
        tc.gradcheck(lambda t: t * 2, (x,))


def test_refuses_when_nothing_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        tc.gradcheck(lambda t: t * 2, (Tensor(np.ones(3)),))


def test_multiple_outputs_are_all_checked():
    (x,) = random_inputs((4,), seed=3)
    assert tc.gradcheck(lambda t: (t.exp(), t.tanh()), (x,))
    with pytest.raises(GradcheckError, match="output 1"):
        tc.gradcheck(lambda t: (t.exp(), WrongSquare.apply(t)), (x,))


def test_testing_helper_makes_inputs_and_explains_failures():
    assert_gradients(lambda a, b: (a * b).sum(1), (2, 3), (2, 3))
    with pytest.raises(AssertionError, match=r"first derivatives of .* shapes \(3,\) are wrong"):
        assert_gradients(WrongSquare.apply, (3,))
    with pytest.raises(AssertionError, match="second derivatives"):
        assert_gradients(ConstantBackwardSquare.apply, (3,))
