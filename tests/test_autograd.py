"""The engine: accumulation, graph release, grad modes, deep graphs, memory, custom Functions."""
import gc
import weakref

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor


def test_gradients_accumulate_into_leaves():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_a_tensor_used_twice_gets_both_contributions():
    x = Tensor([3.0], requires_grad=True)
    y = x * x + x
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0])


def test_non_scalar_backward_needs_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"implicitly created only for scalar.*\(2,\)"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0], dtype=np.float32))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_gradient_shape_must_match():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(np.ones(3))


def test_second_backward_through_freed_graph_is_an_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_saved_arrays_are_released_after_backward():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    y = x.max()
    node = y.grad_fn
    assert node.saved_tensors
    y.backward()
    assert node.saved_tensors is None


def test_backward_of_tensor_without_graph_is_clear():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()


def test_no_grad_records_nothing_and_saves_nothing():
    x = Tensor(np.ones(3), requires_grad=True)
    with tc.no_grad():
        assert not tc.is_grad_enabled()
        y = x.max()
        with tc.enable_grad():
            assert tc.is_grad_enabled()
            z = x * 2
    assert tc.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_skips_saving_arrays_for_backward():
    saved = []

    class Spy(tc.autograd.Primitive):  # the library's NumPy-level primitives save nothing under no_grad
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            saved.append(ctx.saved_tensors)
            return x * 2

    x = Tensor(np.ones(3), requires_grad=True)
    with tc.no_grad():
        Spy.apply(x)
    Spy.apply(x)
    assert saved[0] == () and len(saved[1]) == 1


def test_grad_mode_decorators():
    @tc.no_grad()
    def evaluate(t):
        return t * 2

    @tc.enable_grad()
    def train(t):
        return t * 2

    x = Tensor([1.0], requires_grad=True)
    assert not evaluate(x).requires_grad
    with tc.no_grad():
        assert train(x).requires_grad


def test_deep_chain_backpropagates_without_recursion():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_dropped_graph_is_freed_without_the_garbage_collector():
    gc.disable()
    try:
        x = Tensor(np.ones((50, 50)), requires_grad=True)
        y = (x * 2).exp().sum()
        intermediate = weakref.ref(y.grad_fn.inputs[0])
        node = weakref.ref(y.grad_fn)
        assert intermediate() is not None
        del y
        assert intermediate() is None and node() is None
    finally:
        gc.enable()


def test_graph_has_no_reference_cycles_after_backward():
    gc.collect()
    gc.disable()
    try:
        x = Tensor(np.ones(4), requires_grad=True)
        loss = (x.relu() * x).sum()
        loss.backward()
        node = weakref.ref(loss.grad_fn)
        del loss
        assert node() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_create_graph_gives_differentiable_gradients():
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    (gx,) = tc.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), 3 * x.numpy() ** 2)
    (ggx,) = tc.grad(gx.sum(), x)
    np.testing.assert_allclose(ggx.numpy(), 6 * x.numpy())


def test_gradient_penalty_through_backward_create_graph():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = Tensor(np.array([0.5, 0.25]), requires_grad=True)
    (x * w).tanh().sum().backward(create_graph=True)
    penalty = (x.grad * x.grad).sum()
    x.grad = None
    w.grad = None
    penalty.backward()
    assert w.grad is not None and np.all(np.isfinite(w.grad.numpy()))


def test_grad_does_not_touch_dot_grad_and_reports_unused_inputs():
    x = Tensor([1.0], requires_grad=True)
    unused = Tensor([1.0], requires_grad=True)
    (g,) = tc.grad((x * 2).sum(), x)
    assert x.grad is None and g.item() == 2
    with pytest.raises(RuntimeError, match="input 1 .* was not used"):
        tc.grad((x * 2).sum(), [x, unused])
    assert tc.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None


def test_mixed_dtypes_give_each_leaf_its_own_dtype():
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_custom_function_subclass():
    class Cube(tc.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = Tensor(np.array([0.5, -2.0, 1.5]), requires_grad=True)
    assert tc.gradcheck(Cube.apply, (x,))
    assert tc.gradgradcheck(Cube.apply, (x,))


def test_backward_returning_wrong_count_is_clear():
    class Broken(tc.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Broken.backward returned an incorrect number of gradients \(expected 1, got 2\)"):
        Broken.apply(x).sum().backward()


def test_backward_returning_wrong_shape_is_clear():
    class Broken(tc.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"Broken.backward: gradient has shape \(\)"):
        Broken.apply(x).backward()


def test_multiple_outputs_where_one_is_dropped():
    x = Tensor(np.array([[1.0, 5.0], [7.0, 2.0]]), requires_grad=True)
    values, indices = x.max(1)
    del indices
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [1, 0]])
