"""Activations and dropout: each against its formula on both sides of its kinks, the
functional and module forms, in place, gradcheck and gradgradcheck; dropout's mask and scale."""
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor

from checks import check_gradients, leaf, rand


def slow_activation(name, x):
    erf = np.vectorize(math.erf)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return {
        "relu6": np.minimum(np.maximum(x, 0), 6),
        "hardtanh": np.clip(x, -1, 1),
        "leaky_relu": np.where(x > 0, x, 0.01 * x),
        "elu": np.where(x > 0, x, np.expm1(x)),
        "selu": scale * np.where(x > 0, x, alpha * np.expm1(x)),
        "gelu": 0.5 * x * (1 + erf(x / math.sqrt(2))),
        "silu": x / (1 + np.exp(-x)),
        "softplus": np.log1p(np.exp(x)),
        "mish": x * np.tanh(np.log1p(np.exp(x))),
        "hardswish": x * np.clip(x + 3, 0, 6) / 6,
        "hardsigmoid": np.clip(x + 3, 0, 6) / 6,
        "logsigmoid": -np.log1p(np.exp(-x)),
    }[name]


ACTIVATIONS = ["relu6", "hardtanh", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "mish", "hardswish",
               "hardsigmoid", "logsigmoid"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_and_its_module_equal_the_formula_with_gradients(name):
    x = rand((3, 5)) * 4  # away from the kinks at 0, +-1, +-3, 6 with this seed
    fn = getattr(F, name)
    np.testing.assert_allclose(fn(Tensor(x)).numpy(), slow_activation(name, x), rtol=1e-12, atol=1e-12)
    check_gradients(fn, x)
    module = {"relu6": tc.nn.ReLU6, "hardtanh": tc.nn.Hardtanh, "leaky_relu": tc.nn.LeakyReLU, "elu": tc.nn.ELU,
              "selu": tc.nn.SELU, "gelu": tc.nn.GELU, "silu": tc.nn.SiLU, "softplus": tc.nn.Softplus,
              "mish": tc.nn.Mish, "hardswish": tc.nn.Hardswish, "hardsigmoid": tc.nn.Hardsigmoid,
              "logsigmoid": tc.nn.LogSigmoid}[name]()
    np.testing.assert_allclose(module(Tensor(x)).numpy(), slow_activation(name, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 1.0), (0.5, 0.3)])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_softplus_on_both_sides_of_its_threshold(shape, beta, threshold):
    x = rand(shape) * 3
    want = np.array([v if v * beta > threshold else math.log1p(math.exp(v * beta)) / beta for v in x.reshape(-1)])
    np.testing.assert_allclose(F.softplus(Tensor(x), beta, threshold).numpy(), want.reshape(shape), rtol=1e-12)
    check_gradients(lambda t: F.softplus(t, beta, threshold), x)


@pytest.mark.parametrize("loss,setting", [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
@pytest.mark.parametrize("shape,value", [((6,), 0.7), ((3, 4), 1.0), ((2, 3, 4), 0.3)])
def test_huber_and_smooth_l1_on_both_branches(loss, setting, shape, value):
    x, y = rand(shape, 1) * 2, rand(shape, 2) * 2

    def slow(a: float, b: float) -> float:
        d = abs(a - b)
        if loss == "huber_loss":
            return 0.5 * d * d if d < value else value * (d - 0.5 * value)
        return 0.5 * d * d / value if d < value else d - 0.5 * value

    want = np.array([slow(a, b) for a, b in zip(x.reshape(-1), y.reshape(-1))]).reshape(shape)
    fn = getattr(F, loss)
    np.testing.assert_allclose(fn(Tensor(x), Tensor(y), reduction="none", **{setting: value}).numpy(), want, rtol=1e-12)
    check_gradients(lambda a, b: fn(a, b, reduction="sum", **{setting: value}), x, y)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "silu", "mish",
                                  "hardswish", "hardsigmoid"])
def test_inplace_activation_changes_the_tensor_and_keeps_gradients(name):
    x = rand((3, 4)) * 4
    fn = getattr(F, name)
    reference = leaf(x)
    (fn(reference * 1.0) * 3).sum().backward()
    t = leaf(x)
    h = t * 1.0
    out = fn(h, inplace=True)
    assert out is h and h._version == 1
    (out * 3).sum().backward()
    if name in ("elu", "selu"):  # differentiated through the result y, as PyTorch's elu_: y + alpha cancels
        # far in the negative tail, so the rounding is absolute, a few units in the last place of 3 * alpha
        np.testing.assert_allclose(t.grad.numpy(), reference.grad.numpy(), rtol=4 * np.finfo(np.float64).eps,
                                   atol=4 * np.finfo(np.float64).eps * 3 * 1.76)
    else:
        np.testing.assert_array_equal(t.grad.numpy(), reference.grad.numpy())


def test_kink_gradients_follow_pytorch():
    x = leaf([-3.0, 0.0, 3.0, 6.0])
    F.relu6(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, 0])
    x = leaf([-3.0, 0.0, 3.0])
    F.hardswish(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0.5, 1])
    x = leaf([0.0, -50.0])
    F.logsigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0])


def test_softmax_modules_and_identity():
    x = rand((2, 3, 4))
    np.testing.assert_allclose(tc.nn.Softmax(dim=1)(Tensor(x)).numpy().sum(1), np.ones((2, 4)))
    np.testing.assert_allclose(tc.nn.LogSoftmax(dim=-1)(Tensor(x)).numpy(), F.log_softmax(Tensor(x), -1).numpy())
    t = Tensor(x)
    assert tc.nn.Identity(54, unused="x")(t) is t
    np.testing.assert_allclose(tc.nn.Sigmoid()(t).numpy(), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(tc.nn.Tanh()(t).numpy(), np.tanh(x))


def test_dropout_scales_kept_units_and_follows_the_seed():
    x = Tensor(np.ones((200, 50)))
    tc.manual_seed(0)
    y = F.dropout(x, 0.3).numpy()
    assert set(np.unique(y)) == {0.0, 1 / 0.7}
    assert abs((y == 0).mean() - 0.3) < 0.02
    tc.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), y)
    assert F.dropout(x, 0.3, training=False) is x
    with pytest.raises(ValueError, match="dropout: probability p must be in"):
        F.dropout(x, 1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = leaf(np.ones((10, 10)))
    tc.manual_seed(1)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())
