"""The autograd API beyond backward: grad's options, backward(inputs=), autograd.functional,
inference_mode, Variable, gradcheck at PyTorch's path (issue 19, finding 4)."""
import numpy as np
import pytest
from tinygrad_cnn.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

X = np.array([[1.0, 2.0], [3.0, -4.0]])
Y = np.array([0.5, 2.0])


def assert_same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t)
        return
    assert isinstance(ours, Tensor) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def two_outputs(lib):
    return lambda x, y: ((x * y).sum(0), (x * x).exp().sum(1))


@pytest.mark.parametrize("name", ["jacobian_tuple", "jacobian_single", "hessian_single", "hessian_tuple", "vjp",
                                  "jvp", "hvp", "vhp"])
def test_autograd_functional_matches_pytorch(torch, name):
    import torch.autograd.functional as TF

    def run(lib, functional):
        x, y = lib.tensor(X.copy()), lib.tensor(Y.copy())
        cube = lambda a: (a ** 3).sum()  # noqa: E731
        mixed = lambda a, b: ((a ** 3).sum(1) * b).sum()  # noqa: E731
        calls = {
            "jacobian_tuple": lambda: functional.jacobian(two_outputs(lib), (x, y)),
            "jacobian_single": lambda: functional.jacobian(lambda a: a.exp() * a, x),
            "hessian_single": lambda: functional.hessian(cube, x),
            "hessian_tuple": lambda: functional.hessian(mixed, (x, y)),
            "vjp": lambda: functional.vjp(lambda a: a ** 2, x, lib.ones(2, 2, dtype=lib.float64)),
            "jvp": lambda: functional.jvp(two_outputs(lib), (x, y), (lib.ones(2, 2, dtype=lib.float64), y)),
            "hvp": lambda: functional.hvp(mixed, (x, y), (x, y)),
            "vhp": lambda: functional.vhp(cube, x, x),
        }
        return calls[name]()

    assert_same(run(tc, tc.autograd.functional), run(torch, TF))


def test_functional_errors_and_create_graph():
    x = Tensor(X.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="v can only be None"):
        vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="strict mode"):
        jacobian(lambda a: tc.zeros(2), x, strict=True)
    assert jacobian(lambda a: tc.zeros(2), x).numpy().tolist() == np.zeros((2, 2, 2)).tolist()
    _, h = hvp(lambda a: (a ** 3).sum(), x, tc.ones(2, 2, dtype=tc.float64), create_graph=True)
    h.sum().backward()  # d/dx sum(6 x) = 6
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 6.0))
    _, j = jvp(lambda a: a * a, x, Tensor(np.ones((2, 2))))
    np.testing.assert_allclose(j.numpy(), 2 * X)
    np.testing.assert_allclose(hessian(lambda a: (a * a).sum(), x).numpy().reshape(4, 4), 2 * np.eye(4))
    np.testing.assert_allclose(vhp(lambda a: (a * a).sum(), x, x)[1].numpy(), 2 * X)


def test_grad_allow_unused_and_materialize_grads():
    x, unused = Tensor(X.copy(), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="was not used"):
        tc.grad((x * 2).sum(), [x, unused])
    assert tc.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    _, zeros = tc.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert zeros.numpy().tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="allow_unused"):
        tc.grad((x * 2).sum(), [x], materialize_grads=True, allow_unused=False)


def test_backward_with_inputs_accumulates_only_there():
    a, b = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([3.0]), requires_grad=True)
    h = a * b
    (h * h).sum().backward(inputs=[a, h])
    np.testing.assert_allclose(a.grad.numpy(), 2 * (a.numpy() * b.numpy()) * b.numpy())
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())  # a non-leaf gets .grad too
    assert b.grad is None
    tc.autograd.backward([(a * 2).sum()], inputs=a)
    np.testing.assert_allclose(a.grad.numpy(), 2 * (a.numpy() * b.numpy()) * b.numpy() + 2)


def test_backward_retain_graph_defaults_to_create_graph():
    x = Tensor(np.array([2.0]), requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    y.backward()  # the graph was kept, as PyTorch keeps it when create_graph=True
    assert x.grad.numpy().tolist() == [24.0]


def test_inference_mode_variable_and_gradcheck_at_pytorch_paths():
    x = Tensor(np.ones(2), requires_grad=True)
    with tc.inference_mode():
        assert not (x * 2).requires_grad and tc.autograd.is_inference_mode_enabled()

    @tc.inference_mode()
    def evaluate(t):
        return t * 2

    assert not evaluate(x).requires_grad
    with tc.inference_mode(False):
        assert (x * 2).requires_grad
    v = tc.autograd.Variable(tc.ones(2), requires_grad=True)
    assert type(v) is Tensor and v.requires_grad and isinstance(v, tc.autograd.Variable)
    assert tc.autograd.gradcheck is tc.gradcheck and tc.autograd.gradgradcheck is tc.gradgradcheck
    d = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    assert tc.autograd.gradcheck(lambda t: t.exp(), (d,), eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=True,
                                 nondet_tol=0.0)
    with pytest.raises(NotImplementedError, match="batching"):
        tc.autograd.gradcheck(lambda t: t.exp(), (d,), check_batched_grad=True)
    with pytest.raises(TypeError, match="unexpected keyword"):
        tc.autograd.gradcheck(lambda t: t.exp(), (d,), tolerance=1)
    assert issubclass(tc.gradcheck.__globals__["GradcheckError"], RuntimeError)
