"""In-place operations, version counters and anomaly detection, against hand-derived values."""
import re
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.autograd import AnomalyError
from visualize import draw_graph


def leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


# --------------------------------------------------------------------------- in-place semantics

def test_manual_sgd_changes_the_model_and_equals_optim_sgd():
    """Finding 1: `p -= lr * p.grad` under no_grad is the classic teaching loop."""
    def train(manual):
        tc.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        x, y = tc.randn(8, 4), Tensor(np.arange(8) % 2)
        for _ in range(3):
            model.zero_grad()
            F.cross_entropy(model(x), y).backward()
            if manual:
                with tc.no_grad():
                    for p in model.parameters():
                        p -= 0.1 * p.grad
            else:
                optimizer.step()
        return model.state_dict()

    manual, reference = train(True), train(False)
    tc.manual_seed(0)
    untrained = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).state_dict()
    assert not np.allclose(manual["0.weight"], untrained["0.weight"])  # the model did change
    for name in reference:
        np.testing.assert_array_equal(manual[name], reference[name], err_msg=name)


def test_in_place_methods_change_the_tensor_and_return_it():
    t = Tensor(np.array([1.0, -2.0, 3.0]))
    assert t.add_(1) is t and t.sub_(Tensor([1.0, 1.0, 1.0]), alpha=2) is t
    np.testing.assert_array_equal(t.numpy(), [0.0, -3.0, 2.0])
    t.mul_(2).div_(4)
    np.testing.assert_array_equal(t.numpy(), [0.0, -1.5, 1.0])
    np.testing.assert_array_equal(t.clamp_(-1.0, 0.5).numpy(), [0.0, -1.0, 0.5])
    np.testing.assert_array_equal(t.relu_().numpy(), [0.0, 0.0, 0.5])
    np.testing.assert_array_equal(t.fill_(7).numpy(), [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(t.zero_().numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(t.copy_(np.array([1, 2, 3])).numpy(), [1.0, 2.0, 3.0])
    t[1] = 9
    t[np.array([0, 2])] = Tensor([4.0, 5.0])
    np.testing.assert_array_equal(t.numpy(), [4.0, 9.0, 5.0])
    t += 1
    t -= 1
    t *= 2
    t /= 2
    np.testing.assert_array_equal(t.numpy(), [4.0, 9.0, 5.0])
    assert t._version == 15  # each of the 15 changes above bumps the version once


@pytest.mark.parametrize("layer", [nn.ReLU(inplace=True), nn.ReLU6(inplace=True), nn.Hardtanh(-0.5, 0.5, inplace=True)],
                         ids=["ReLU", "ReLU6", "Hardtanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_in_place_activation_without_a_graph_writes_the_tensor_itself(layer, dtype):
    """Inference's in-place activations change the tensor's own memory (a view included),
    equal to the out-of-place result, and bump its version once."""
    values = np.array([[-7.0, -0.5, -0.0, 0.0], [0.25, 0.5, 5.5, 9.0], [np.nan, -np.inf, np.inf, 1.0]])
    if dtype == np.int64:
        values = np.array([[-7, -1, 0, 1], [2, 5, 6, 9], [3, -3, 4, 8]])
    base = Tensor(values.astype(dtype))
    t = base[:, 1:]  # a view: the change must reach base's memory
    expected = layer.__class__(**({} if isinstance(layer, (nn.ReLU, nn.ReLU6)) else
                                  {"min_val": -0.5, "max_val": 0.5}))(t).numpy()
    memory, version = t.numpy(), t._version
    with tc.no_grad():
        try:
            out = layer(t)
        except RuntimeError:  # an integer tensor cannot hold a float bound's result, as in PyTorch
            assert dtype == np.int64 and not isinstance(layer, nn.ReLU)
            return
    assert out is t and t.numpy() is memory and t._version == version + 1
    np.testing.assert_array_equal(base.numpy()[:, 1:], expected)
    np.testing.assert_array_equal(np.signbit(base.numpy()[:, 1:]), np.signbit(expected))


@pytest.mark.parametrize("name,args", [("relu_", ()), ("hardtanh_", (-0.5, 0.5)), ("leaky_relu_", (0.2,)),
                                       ("elu_", (0.7,)), ("selu_", ())])
def test_functional_in_place_forms_match_pytorch(torch, name, args):
    """F.relu_ and its kin (PyTorch's names) change their input and return it; the gradient
    through the change equals PyTorch's."""
    values = np.array([[-2.0, -0.5, 0.0, 0.3], [0.7, 1.5, -1.2, 2.0]])
    x = leaf(values)
    y = x * 1
    out = getattr(F, name)(y, *args)
    assert out is y
    (out * out).sum().backward()
    theirs = torch.tensor(values, requires_grad=True)
    expected = getattr(torch.nn.functional, name)(theirs * 1, *args)
    (expected * expected).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_in_place_dropout_outside_training_changes_nothing():
    """F.dropout(y, training=False, inplace=True) returns y untouched: no version bump, so a
    backward that reads y still runs (as in PyTorch)."""
    x = leaf([0.5, -1.0, 2.0])
    y = x.sigmoid()  # sigmoid's backward reads its result
    version = y._version
    assert F.dropout(y, 0.5, training=False, inplace=True) is y and y._version == version
    y.sum().backward()
    s = 1 / (1 + np.exp(-np.array([0.5, -1.0, 2.0])))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s))


def test_in_place_hardtanh_checks_its_bounds_without_a_graph_too():
    with tc.no_grad(), pytest.raises(ValueError, match=r"hardtanh: min_val \(1\) cannot be greater than max_val \(0\)"):
        F.hardtanh(tc.zeros(3), 1, 0, inplace=True)


def test_random_fills_follow_the_seed():
    tc.manual_seed(3)
    a = tc.zeros(1000).normal_(2.0, 0.5)
    b = tc.zeros(1000).uniform_(-1.0, 1.0)
    assert abs(a.numpy().mean() - 2.0) < 0.1 and abs(a.numpy().std() - 0.5) < 0.05
    assert b.numpy().min() >= -1.0 and b.numpy().max() < 1.0
    tc.manual_seed(3)
    np.testing.assert_array_equal(tc.zeros(1000).normal_(2.0, 0.5).numpy(), a.numpy())
    with pytest.raises(TypeError, match="normal_: expected a floating point tensor, got dtype int64"):
        Tensor(np.zeros(3, np.int64)).normal_()


def test_residual_block_out_plus_identity():
    """out = x * w1; out += x; out.relu_(); loss = sum(out * w2): hand-derived gradients."""
    x_np, w1_np, w2_np = np.array([[1.0, -2.0, 0.5], [-0.3, 2.0, -1.0]]), np.array([0.5, 1.5, -3.0]), \
        np.array([2.0, -1.0, 0.25])
    x, w1, w2 = leaf(x_np), leaf(w1_np), leaf(w2_np)
    out = x * w1
    identity = x
    out += identity
    out.relu_()
    (out * w2).sum().backward()
    pre = x_np * w1_np + x_np
    mask = pre > 0
    np.testing.assert_allclose(x.grad.numpy(), w2_np * mask * (w1_np + 1))
    np.testing.assert_allclose(w1.grad.numpy(), (w2_np * mask * x_np).sum(0))
    np.testing.assert_allclose(w2.grad.numpy(), np.maximum(pre, 0).sum(0))


def test_setitem_on_an_activation():
    """y = x * w; y[:, 0] = 0; y[:, 1] = v; loss = sum(y * y)."""
    x, w, v = leaf(np.arange(6.0).reshape(2, 3) - 2), leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.5])
    y = x * w
    y[:, 0] = 0
    y[:, 1] = v
    (y * y).sum().backward()
    y_np = (np.arange(6.0).reshape(2, 3) - 2) * [1.0, 2.0, 3.0]
    y_np[:, 0], y_np[:, 1] = 0, [0.5, -1.5]
    expected_x = 2 * y_np * [1.0, 2.0, 3.0]
    expected_x[:, :2] = 0  # overwritten positions get no gradient
    np.testing.assert_allclose(x.grad.numpy(), expected_x)
    np.testing.assert_allclose(v.grad.numpy(), 2 * np.array([0.5, -1.5]))
    expected_w = (2 * y_np * (np.arange(6.0).reshape(2, 3) - 2)).sum(0)
    expected_w[:2] = 0
    np.testing.assert_allclose(w.grad.numpy(), expected_w)


def test_relu_in_place_on_a_non_leaf():
    x = leaf([-1.0, 0.2, 0.7, 3.0])
    y = x * 2 - 1
    y.relu_()
    (y * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6.0 * (2 * np.array([-1.0, 0.2, 0.7, 3.0]) - 1 > 0))


def test_earlier_consumers_keep_their_gradient_path():
    """c used a's old value: its gradient still reaches x through a's old history."""
    x = leaf([1.0, 2.0])
    a = x * 1.0
    c = a + 1
    a.mul_(2)
    (c.sum() + a.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_self_in_place_uses_the_old_value():
    x = leaf([1.0, -2.0])
    y = x * 1.0
    y.mul_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0])


def test_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"add_: a leaf tensor that requires grad \(shape \(2,\)\) cannot "
                                           "be changed in place while gradients are recorded"):
        w += 1
    with pytest.raises(RuntimeError, match="setitem: a leaf tensor that requires grad"):
        w[0] = 3.0
    with tc.no_grad():
        w += 1
    np.testing.assert_array_equal(w.numpy(), [2.0, 3.0])
    w.data += 1  # .data is the escape hatch: no version bump
    assert w._version == 1


def test_a_constant_becomes_part_of_the_graph_when_given_a_value_that_requires_grad():
    buffer, v = tc.zeros(3, dtype=np.float64), leaf([1.0, 2.0])
    buffer[1:] = v
    assert buffer.requires_grad and not buffer.is_leaf
    (buffer * buffer).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("call,error,message", [
    (lambda: Tensor(np.zeros(3, np.int64)).add_(0.5), RuntimeError,
     "add_: the result type float32 can't be cast to the tensor's dtype int64"),
    (lambda: Tensor(np.zeros(3)).add_(np.ones((2, 3))), RuntimeError,
     r"add_: the result has shape \(2, 3\) but the tensor changed in place has shape \(3,\)"),
    (lambda: Tensor(np.zeros(3)).expand(2, 3).add_(1.0), RuntimeError,
     r"add_: the tensor of shape \(2, 3\) is a read-only view"),
    (lambda: Tensor(np.zeros(3)).__setitem__(5, 1.0), IndexError, "setitem: index .* is invalid"),
    (lambda: Tensor(np.zeros((2, 3))).__setitem__(0, np.ones(2)), ValueError,
     r"setitem: a value of shape \(2,\) cannot be written into a selection of shape \(3,\)"),
    (lambda: Tensor(np.zeros(3)).fill_(Tensor(np.ones(2))), RuntimeError, "fill_: the value must be a number"),
    (lambda: Tensor(np.zeros(3)).clamp_(), ValueError, "clamp: at least one of min and max"),
])
def test_bad_in_place_changes_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_in_place_change_of_a_recorded_view_replays_onto_its_base():
    """As PyTorch: changing a view changes its base's history, and changing the base makes its
    views' histories follow (they were refused before issue 18)."""
    x = leaf(np.ones((2, 3)))
    h = x * 2
    v = h[0]
    v.mul_(2)  # h is [[4, 4, 4], [2, 2, 2]]
    h += 1  # and v, a view of h, is [5, 5, 5]
    np.testing.assert_array_equal(v.numpy(), [5.0, 5.0, 5.0])
    ((h * h).sum() + v.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[44.0] * 3, [12.0] * 3])  # PyTorch's


# --------------------------------------------------------------------------- version counters

def version_error(primitive, shape, old, new):
    return re.escape(f"modified by an inplace operation: {primitive}") + ".*" + re.escape(
        f"needs a tensor of shape {shape} at version {old}, but it is now at version {new}")


def test_optimizer_step_between_two_backwards_is_refused():
    """Finding 2: the gradient of l2 must not be computed from the updated w."""
    w = nn.Parameter(Tensor(np.array([1.0, 2.0, 3.0], np.float32)))
    opt = optim.SGD([w], lr=0.1)
    l1, l2 = (w * w).sum(), (w * w * w).sum()
    l1.backward()
    opt.step()
    with pytest.raises(RuntimeError, match=version_error("Mul", (3,), 0, 1)):
        l2.backward()
    w2 = nn.Parameter(Tensor(np.array([1.0, 2.0, 3.0], np.float32)))  # without the step: PyTorch's values
    (w2 * w2 * w2).sum().backward()
    np.testing.assert_allclose(w2.grad.numpy(), [3.0, 12.0, 27.0])


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)
        self.act = Tanh()

    def forward(self, x):
        self.hidden = self.linear(x)
        return self.act(self.hidden)


class Tanh(nn.Module):
    def forward(self, x):
        return x.tanh()


def test_in_place_change_of_a_saved_activation_is_refused_with_the_module():
    model = nn.Sequential(nn.Flatten(), Block())
    out = model(Tensor(np.ones((2, 3), np.float32)))
    with tc.no_grad():
        out.mul_(2)  # tanh's backward reads its result, as PyTorch's
    with pytest.raises(RuntimeError, match=version_error("Tanh", (2, 3), 0, 1)) as caught:
        out.sum().backward()
    assert "Tanh in module '1.act' (Tanh)" in str(caught.value)


def test_changing_what_backward_does_not_read_is_allowed_as_in_pytorch():
    """tanh saves its result, not its input: PyTorch runs this backward, and so do we."""
    model = nn.Sequential(nn.Flatten(), Block())
    out = model(Tensor(np.ones((2, 3), np.float32)))
    expected = 1 - out.detach().numpy() ** 2
    with tc.no_grad():
        model[1].hidden.mul_(2)
    out.backward(tc.ones_like(out))
    np.testing.assert_allclose(model[1].linear.bias.grad.numpy(), expected.sum(0), rtol=1e-6)


def test_a_view_of_a_saved_tensor_changed_in_place_is_refused():
    x = leaf(np.ones((2, 3)))
    e = (x * 2).exp()
    view = e.detach().reshape(6)  # shares e's memory, outside the graph
    view[0] = 5.0
    with pytest.raises(RuntimeError, match=version_error("Exp", (2, 3), 0, 1)):
        e.sum().backward()


def test_retain_graph_reuse_after_a_change_is_refused():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    with tc.no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match=version_error("Mul", (2,), 0, 1)):
        loss.backward()


def test_running_statistics_updates_bump_versions():
    layer = nn.BatchNorm2d(2)
    before = layer.running_mean._version
    layer(tc.randn(4, 2, 3, 3))
    assert layer.running_mean._version == before + 1 and layer.running_var._version == before + 1


def test_relu_backward_reads_its_output_as_pytorch_does():
    """Changing ReLU's input afterwards is fine, changing its output is refused (PyTorch's
    relu saves its result); an in-place ReLU gives the gradient of the values it replaced."""
    x = leaf([-1.0, 0.5, 2.0])
    h = x * 2
    y = h.relu()
    h.add_(1)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4.0, 16.0])  # d(4 x^2)/dx where x > 0
    y = (x * 2).relu()
    y.add_(1)
    with pytest.raises(RuntimeError, match=version_error("Relu", (3,), 0, 1)):
        y.sum().backward()
    x.grad = None
    h = x * 3
    h.relu_()
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 9.0, 36.0])


def test_ops_that_do_not_read_values_allow_later_changes():
    """Add's backward reads no input values, so changing an input after it is fine (PyTorch too)."""
    x = leaf([1.0, 2.0])
    h = x * 1.0
    y = h + 1
    with tc.no_grad():
        h.mul_(10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


# --------------------------------------------------------------------------- anomaly detection

class Head(nn.Module):
    def forward(self, x):
        return (x - 5).log()  # NaN for x < 5: the line an anomaly report must point at


def test_anomaly_in_forward_names_the_primitive_module_and_line():
    model = nn.Sequential(nn.Flatten(), Head())
    line = Head.forward.__code__.co_firstlineno + 1
    with tc.autograd.detect_anomaly():
        with pytest.raises(AnomalyError) as caught:
            model(Tensor(np.array([[1.0, 7.0]]), requires_grad=True))
    message = str(caught.value)
    assert "Log in module '1' (Head) produced NaN in its output 0 of shape (1, 2)" in message
    assert f"{__file__}:{line}" in message
    assert caught.value.node.name == "Log"
    assert not tc.autograd.is_anomaly_enabled()


def test_anomaly_in_backward_names_the_infinite_gradient():
    x = leaf([0.0, 1.0, 4.0])
    with tc.autograd.detect_anomaly():
        loss = x.sqrt().sum(); line = sys._getframe().f_lineno  # noqa: E702
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert "the backward of Sqrt returned infinity in the gradient of its input 0 of shape (3,)" in message
    assert f"{__file__}:{line}" in message
    source = draw_graph(loss, highlight=caught.value.node).source
    assert "#c0282d" in source  # the node is marked
    assert "#c0282d" not in draw_graph(loss).source


def test_anomaly_mode_lets_forward_infinity_pass_and_can_skip_nan():
    x = leaf([0.0, 1.0])
    with tc.autograd.detect_anomaly():
        masked = x.log()  # -inf from a log(0) mask is legitimate in forward
        assert np.isneginf(masked.numpy()[0])
    tc.autograd.set_detect_anomaly(True, check_nan=False)
    try:
        assert tc.autograd.is_anomaly_enabled() and not tc.autograd.is_anomaly_check_nan_enabled()
        (x - 5).log()  # NaN not checked
    finally:
        tc.autograd.set_detect_anomaly(False)
    assert not tc.autograd.is_anomaly_enabled()
    with tc.autograd.set_detect_anomaly(True):
        assert tc.autograd.is_anomaly_enabled()
    assert not tc.autograd.is_anomaly_enabled()


def test_no_anomaly_checks_by_default():
    x = leaf([-1.0])
    assert np.isnan(x.log().numpy()[0])  # no error outside anomaly mode
