"""Tensor construction, dtype policy, attributes and clear errors for bad input."""

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn


def test_dtype_policy():
    assert Tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert Tensor(np.zeros(2, dtype=np.float32)).dtype == np.float32
    assert Tensor(np.zeros(2, dtype=np.float16)).dtype == np.float32
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([[1.0, 2.0]]).dtype == np.float32
    assert Tensor([1, 2]).dtype.kind == "i"
    assert Tensor(np.array([True])).dtype == np.bool_
    assert Tensor(Tensor([1.0])).dtype == np.float32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_numpy_array_is_shared_not_copied():
    array = np.zeros(3, dtype=np.float32)
    t = Tensor(array)
    array[0] = 5
    assert t.numpy()[0] == 5


def test_attributes():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.is_leaf and t.grad is None
    y = t * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn.name == "Mul"
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.numpy() is y.numpy()
    assert Tensor([3.5]).item() == 3.5
    assert "requires_grad=True" in repr(t) and "grad_fn=<Mul>" in repr(y)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating point"):
        Tensor([1, 2], requires_grad=True)


def test_unsupported_data_type_is_a_type_error():
    with pytest.raises(TypeError, match="unsupported data type dict"):
        Tensor({"a": 1})
    with pytest.raises(TypeError, match="unsupported dtype"):
        Tensor(np.array(["a"]))


def test_ragged_list_is_a_clear_error():
    with pytest.raises(ValueError, match="Tensor: cannot build"):
        Tensor([[1.0, 2.0], [3.0]])


def test_item_of_many_elements():
    with pytest.raises(ValueError, match=r"item: only one-element.*\(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_unsupported_operand():
    with pytest.raises(TypeError, match="add: unsupported operand type str"):
        Tensor([1.0]) + "x"


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        Tensor(np.ones((2, 3))) * Tensor(np.ones(4))


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_reshape_and_dim_errors():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(IndexError, match="sum: dim 2 is out of range"):
        Tensor(np.ones((2, 3))).sum(2)
    with pytest.raises(ValueError, match="permute: dims"):
        Tensor(np.ones((2, 3))).permute(0, 0)


def test_scalars_do_not_promote_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (x * 2.0, 2.0 * x, x + np.float64(1), x ** 2, 1 / x, x - 1):
        assert y.dtype == np.float32


def test_comparisons_return_bool_without_grad():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert result.dtype == np.bool_ and not result.requires_grad
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])


def test_numpy_array_on_the_left():
    x = Tensor([1.0, 2.0])
    y = np.array([3.0, 4.0], dtype=np.float32) + x
    assert isinstance(y, Tensor)
    np.testing.assert_allclose(y.numpy(), [4.0, 6.0])


def test_creation_functions_follow_the_seed():
    tc.manual_seed(3)
    a = tc.randn(2, 3)
    tc.manual_seed(3)
    b = tc.randn((2, 3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tc.zeros(2, 2).dtype == np.float32 and tc.ones_like(a).shape == (2, 3)
    assert 0 <= tc.rand(100).numpy().min() and tc.rand(100).numpy().max() < 1


def test_truth_value_of_many_elements_is_a_clear_error():
    assert bool(Tensor([2.0])) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match=r"truth value of a tensor of shape \(2,\) is ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_creation_functions_follow_pytorchs_dtypes():
    assert tc.arange(5).dtype == np.int64 and tc.arange(0, 1, 0.25).numpy().tolist() == [0, 0.25, 0.5, 0.75]
    assert tc.arange(1.0, 4).dtype == np.float32 and tc.arange(10, 0, -3).numpy().tolist() == [10, 7, 4, 1]
    assert tc.full((2, 2), 7).dtype == np.int64 and tc.full((2,), 1.5).dtype == np.float32
    assert tc.full((1,), True).dtype == np.bool_
    np.testing.assert_array_equal(tc.eye(2, 3).numpy(), np.eye(2, 3))
    tc.manual_seed(0)
    draws = tc.randint(3, 7, (1000,)).numpy()
    assert draws.min() == 3 and draws.max() == 6 and tc.randint(5, (2, 2)).dtype == np.int64
    x = Tensor(np.ones((2, 3), np.float64))
    for like in (tc.zeros_like, tc.ones_like, tc.rand_like, tc.randn_like, tc.empty_like):
        assert like(x).shape == (2, 3) and like(x).dtype == np.float64
    assert tc.full_like(x, 4).numpy().tolist() == [[4, 4, 4]] * 2
    source = np.ones(3)
    copied, shared = tc.tensor(source), tc.from_numpy(source)
    source[0] = 5
    assert copied.numpy()[0] == 1 and shared.numpy()[0] == 5
    assert tc.tensor([1.5, 2]).dtype == np.float32 and tc.tensor([1, 2]).dtype == np.int64
    assert tc.float32 is np.float32 and tc.long is np.int64 and x.dtype == tc.float64


def test_conversions_devices_and_size_queries():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    assert x.size() == (2, 3) and x.size(-1) == 3 and x.numel() == 6 and x.dim() == 2
    assert x.to("cpu") is x and x.cpu() is x and x.to(tc.device("cpu")) is x
    assert x.to(tc.float64).dtype == np.float64 and x.to("cpu", tc.float64).dtype == np.float64
    assert x.long().dtype == np.int64 and x.type_as(Tensor(np.ones(1))).dtype == np.float64
    assert x.device == "cpu" and x.device == tc.device("cpu") and str(x.device) == "cpu"
    assert not tc.cuda.is_available() and tc.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="device: tinygrad_cnn computes on the CPU only; 'cuda' is not available"):
        x.to("cuda")
    y = x.double()
    y.sum().backward()
    assert x.grad.dtype == np.float32  # the gradient flows back through the conversion


def test_numpy_integers_are_accepted_and_floats_refused():
    x = tc.randn(1, 2, 7, 7)
    w = tc.randn(2, 2, 3, 3)
    assert F.conv2d(x, w, stride=np.int64(2)).shape == F.conv2d(x, w, stride=2).shape
    assert nn.Conv2d(2, 2, np.int64(3))(x).shape == (1, 2, 5, 5)
    assert F.max_pool2d(x, np.int32(2)).shape == (1, 2, 3, 3)
    assert x.reshape(np.int64(98)).shape == (98,) and tc.zeros(np.int64(2), 3).shape == (2, 3)
    assert x.sum(dim=np.int64(1)).shape == (1, 7, 7)
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints, got 1.5"):
        F.conv2d(x, w, stride=1.5)
    with pytest.raises(TypeError, match="conv2d: groups must be an int, got 1.0"):
        F.conv2d(x, w, groups=1.0)
    with pytest.raises(TypeError, match="Conv2d: in_channels must be an int, got True"):
        nn.Conv2d(True, 2, 3)
    with pytest.raises(TypeError, match="max_pool2d: kernel_size must be an int or a pair of ints"):
        F.max_pool2d(x, 2.0)
