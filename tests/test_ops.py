"""Every Tensor operation: forward equals NumPy, first and second derivatives pass gradcheck.

Shapes are drawn by hypothesis, broadcasting included.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

PROPERTY = settings(max_examples=12, deadline=None)


def tensor_from(array, requires_grad=True):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def check(fn, *tensors):
    assert tc.gradcheck(fn, tensors)
    assert tc.gradgradcheck(fn, tensors)


small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
broadcastable_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
values = st.floats(-2, 2, allow_nan=False, width=64)


def array(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
}


@pytest.mark.parametrize("name", BINARY)
@given(shapes=broadcastable_pairs, seed=st.integers(0, 1000))
@PROPERTY
def test_binary_ops_with_broadcasting(name, shapes, seed):
    op, reference = BINARY[name]
    a = array(shapes.input_shapes[0], seed)
    b = array(shapes.input_shapes[1], seed + 1)
    if name == "div":
        b = np.sign(b) * (np.abs(b) + 0.5)
    np.testing.assert_allclose(op(tensor_from(a), tensor_from(b)).numpy(), reference(a, b))
    check(op, tensor_from(a), tensor_from(b))


@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_with_python_scalars_on_either_side(name):
    op, reference = BINARY[name]
    x = array((2, 3), 0) + 3
    np.testing.assert_allclose(op(tensor_from(x), 1.5).numpy(), reference(x, 1.5))
    np.testing.assert_allclose(op(1.5, tensor_from(x)).numpy(), reference(1.5, x))
    check(lambda t: op(t, 1.5), tensor_from(x))
    check(lambda t: op(1.5, t), tensor_from(x))


@given(shapes=broadcastable_pairs, seed=st.integers(0, 1000))
@PROPERTY
def test_pow_with_tensor_exponent(shapes, seed):
    base = array(shapes.input_shapes[0], seed, 0.5, 2.0)
    exponent = array(shapes.input_shapes[1], seed + 1)
    np.testing.assert_allclose((tensor_from(base) ** tensor_from(exponent)).numpy(), base ** exponent)
    check(lambda a, b: a ** b, tensor_from(base), tensor_from(exponent))


def test_pow_with_scalars():
    x = array((3, 2), 4, 0.5, 2.0)
    np.testing.assert_allclose((tensor_from(x) ** 3).numpy(), x ** 3)
    np.testing.assert_allclose((2.0 ** tensor_from(x)).numpy(), 2.0 ** x)
    check(lambda t: t ** 3, tensor_from(x))
    check(lambda t: t ** -0.5, tensor_from(x))
    check(lambda t: 2.0 ** t, tensor_from(x))


UNARY = {
    "neg": (lambda t: -t, np.negative, (-2, 2)),
    "exp": (Tensor.exp, np.exp, (-2, 2)),
    "log": (Tensor.log, np.log, (0.2, 3)),
    "sqrt": (Tensor.sqrt, np.sqrt, (0.2, 3)),
    "relu": (Tensor.relu, lambda x: np.maximum(x, 0), (-2, 2)),
    "sigmoid": (Tensor.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-3, 3)),
    "tanh": (Tensor.tanh, np.tanh, (-2, 2)),
    "abs": (Tensor.abs, np.abs, (-2, 2)),
}


@pytest.mark.parametrize("name", UNARY)
@given(shape=small_shapes, seed=st.integers(0, 1000))
@PROPERTY
def test_unary_ops(name, shape, seed):
    op, reference, (low, high) = UNARY[name]
    x = array(shape, seed, low, high)
    if name in ("relu", "abs"):  # keep finite differences away from the kink at 0
        x = np.where(np.abs(x) < 0.05, 0.5, x)
    np.testing.assert_allclose(op(tensor_from(x)).numpy(), reference(x), rtol=1e-12)
    check(op, tensor_from(x))


def test_sigmoid_is_finite_for_huge_inputs():
    y = Tensor(np.array([-1e4, 0.0, 1e4])).sigmoid().numpy()
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])


dims_and_shape = small_shapes.flatmap(
    lambda shape: st.tuples(
        st.just(shape),
        st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1) if shape else st.none(),
                  st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True, max_size=len(shape)).map(tuple)),
        st.booleans(),
    )
)


@given(case=dims_and_shape, seed=st.integers(0, 1000))
@PROPERTY
def test_sum_and_mean(case, seed):
    shape, dim, keepdim = case
    x = array(shape, seed)
    axis = tuple(dim) if isinstance(dim, tuple) else dim
    for method, reference in ((Tensor.sum, np.sum), (Tensor.mean, np.mean)):
        np.testing.assert_allclose(method(tensor_from(x), dim, keepdim).numpy(),
                                   reference(x, axis=axis, keepdims=keepdim))
        check(lambda t, method=method: method(t, dim, keepdim), tensor_from(x))


def test_max_dim_returns_values_indices_and_routes_to_the_index():
    x = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 0.5]])
    values, indices = tensor_from(x).max(1)
    np.testing.assert_array_equal(values.numpy(), [3.0, 2.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    t = tensor_from(x)
    t.max(1).values.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 1, 0], [1, 0, 0]])  # first maximum
    keep = tensor_from(x).max(0, keepdim=True).values
    assert keep.shape == (1, 3)


def test_full_max_splits_ties_evenly():
    t = tensor_from([[1.0, 4.0], [4.0, 4.0]])
    t.max().backward()
    np.testing.assert_allclose(t.grad.numpy(), [[0, 1 / 3], [1 / 3, 1 / 3]])


@given(shape=small_shapes.filter(lambda s: len(s) > 0), seed=st.integers(0, 1000))
@PROPERTY
def test_max_gradients_without_ties(shape, seed):
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.1
    np.testing.assert_allclose(tensor_from(x).max().numpy(), x.max())
    check(lambda t: t.max(), tensor_from(x))
    check(lambda t: t.max(-1).values, tensor_from(x))
    check(lambda t: t.max(0, keepdim=True).values, tensor_from(x))


@given(shapes=st.sampled_from([((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)),
                               ((2, 2, 3), (3, 2)), ((1, 2, 3), (4, 3, 2)), ((2, 1, 2, 3), (3, 3, 1))]),
       seed=st.integers(0, 1000))
@PROPERTY
def test_matmul(shapes, seed):
    a, b = array(shapes[0], seed), array(shapes[1], seed + 1)
    np.testing.assert_allclose((tensor_from(a) @ tensor_from(b)).numpy(), a @ b)
    check(lambda x, y: x @ y, tensor_from(a), tensor_from(b))


def test_matmul_with_numpy_array_on_the_left():
    w = array((3, 2), 1)
    x = array((4, 3), 2)
    np.testing.assert_allclose((x @ tensor_from(w)).numpy(), x @ w)


SHAPE_OPS = {
    "reshape": (lambda t: t.reshape(3, -1), lambda x: x.reshape(3, -1)),
    "reshape_tuple": (lambda t: t.reshape((2, 6)), lambda x: x.reshape(2, 6)),
    "permute": (lambda t: t.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
    "transpose": (lambda t: t.transpose(0, -1), lambda x: x.swapaxes(0, -1)),
    "T": (lambda t: t.T, lambda x: x.T),
    "flatten": (lambda t: t.flatten(), lambda x: x.reshape(-1)),
    "flatten_1": (lambda t: t.flatten(1), lambda x: x.reshape(2, -1)),
    "flatten_0_1": (lambda t: t.flatten(0, 1), lambda x: x.reshape(6, 2)),
    "getitem_int": (lambda t: t[1], lambda x: x[1]),
    "getitem_slices": (lambda t: t[:, 1:, ::-1], lambda x: x[:, 1:, ::-1]),
    "getitem_ellipsis_none": (lambda t: t[..., None, 0], lambda x: x[..., None, 0]),
    "getitem_int_array": (lambda t: t[np.array([1, 0, 1])], lambda x: x[np.array([1, 0, 1])]),
    "getitem_list_pair": (lambda t: t[[0, 1, 1], [2, 2, 0]], lambda x: x[[0, 1, 1], [2, 2, 0]]),
    "getitem_bool": (lambda t: t[np.array([True, False])], lambda x: x[np.array([True, False])]),
    "getitem_tensor_index": (lambda t: t[Tensor([1, 1])], lambda x: x[np.array([1, 1])]),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda x: x[:, None]),
    "expand": (lambda t: t[:, :1].expand(2, 4, 2), lambda x: np.broadcast_to(x[:, :1], (2, 4, 2))),
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_ops(name):
    op, reference = SHAPE_OPS[name]
    x = array((2, 3, 2), 5)
    np.testing.assert_allclose(op(tensor_from(x)).numpy(), reference(x))
    check(op, tensor_from(x))


def test_repeated_integer_index_accumulates_gradient():
    t = tensor_from([1.0, 2.0, 3.0])
    t[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [2, 0, 1])


def test_bad_index_is_clear():
    with pytest.raises(IndexError, match=r"getitem: index .* shape \(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]
    with pytest.raises(TypeError, match="getitem: index arrays must be integer"):
        Tensor(np.ones(3))[np.array([0.5])]


def test_cast_between_float_types_is_differentiable():
    x = tensor_from([1.0, 2.0])
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float64


def test_argmax():
    x = Tensor(np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(x.argmax(1).numpy(), [1, 0])
    assert x.argmax().item() == 3
