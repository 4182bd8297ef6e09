"""Elementwise operations beside the hypothesis-drawn ones of test_ops.py: sign, log1p,
rsqrt, square, rounding, and clamp's bounds."""
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

from checks import check_gradients, leaf, rand


def test_sign_log1p_rsqrt_square_match_numpy_with_gradients():
    x = rand((3, 4))
    positive = np.abs(x) + 0.1
    np.testing.assert_array_equal(tc.sign(Tensor(x)).numpy(), np.sign(x))
    np.testing.assert_allclose(tc.log1p(Tensor(positive * 1e-9)).numpy(), np.log1p(positive * 1e-9))
    np.testing.assert_allclose(tc.rsqrt(Tensor(positive)).numpy(), 1 / np.sqrt(positive))
    np.testing.assert_allclose(tc.square(Tensor(x)).numpy(), x * x)
    check_gradients(lambda a: a.log1p(), positive)
    check_gradients(lambda a: a.rsqrt() + a.square(), positive)
    t = leaf(x)
    t.sign().sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros_like(x))


@pytest.mark.parametrize("name,reference", [("floor", math.floor), ("ceil", math.ceil), ("trunc", math.trunc),
                                            ("round", round)])  # Python's round is half to even, as PyTorch's
def test_rounding_functions(name, reference):
    x = np.concatenate([np.arange(-3, 3.5, 0.5), rand((20,)) * 7]).astype(np.float32)
    expected = np.array([reference(float(v)) for v in x], dtype=np.float32)
    np.testing.assert_array_equal(getattr(tc, name)(Tensor(x)).numpy(), expected)
    np.testing.assert_array_equal(getattr(Tensor(x), name)().numpy(), expected)
    integers = Tensor(np.array([-2, 0, 3]))
    assert getattr(tc, name)(integers).dtype == np.int64 and getattr(tc, name)(integers).numpy().tolist() == [-2, 0, 3]
    t = leaf(x.astype(np.float64))
    getattr(t, name)().sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros_like(x))


def test_round_to_decimals():
    x = np.array([1.25, -1.35, 123.456, 0.05], dtype=np.float64)
    np.testing.assert_allclose(tc.round(Tensor(x), decimals=1).numpy(), [round(v * 10) / 10 for v in x])
    np.testing.assert_allclose(Tensor(x).round(decimals=-1).numpy(), [round(v / 10) * 10 for v in x])
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        tc.round(Tensor(x), decimals=1.5)


def test_clamp_bounds_are_both_numbers_or_both_tensors_and_tensors_are_never_none():
    x = Tensor(np.ones(3))
    with pytest.raises(TypeError, match="clamp: min and max must both be numbers or both be Tensors"):
        x.clamp(Tensor(np.zeros(3)), 2.0)
    assert (x == None) is False and (x != None) is True  # noqa: E711  (what PyTorch answers)
    check_gradients(lambda t: t.clone() * t, rand(4))
