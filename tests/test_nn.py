"""Modules: registration, PyTorch's state-dict keys and checks, initialisation, modes, repr."""
import gc
import math
import weakref

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.models import seed_cnn

from checks import check_gradients, rand

SEED_CNN_BN_KEYS = [
    "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
    "4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked",
    "9.weight", "9.bias", "11.weight", "11.bias",
]


def test_state_dict_uses_pytorch_keys_and_shapes():
    state = seed_cnn(batch_norm=True).state_dict()
    assert list(state) == SEED_CNN_BN_KEYS
    assert state["0.weight"].shape == (32, 1, 3, 3) and state["9.weight"].shape == (128, 1600)
    assert state["1.num_batches_tracked"].dtype == np.int64 and state["1.num_batches_tracked"].shape == ()


def test_state_dict_round_trips_through_save_and_load(tmp_path):
    tc.manual_seed(0)
    model = seed_cnn(batch_norm=True)
    model(Tensor(np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)))  # moves BN stats
    tc.save(model.state_dict(), tmp_path / "model.npz")
    tc.manual_seed(1)
    other = seed_cnn(batch_norm=True)
    other.load_state_dict(tc.load(tmp_path / "model.npz"))
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    x = Tensor(np.ones((2, 1, 28, 28), dtype=np.float32))
    np.testing.assert_array_equal(model.eval()(x).numpy(), other.eval()(x).numpy())


def test_load_state_dict_reports_missing_unexpected_and_wrong_shapes():
    model = nn.Sequential(nn.Linear(3, 2))
    good = model.state_dict()
    with pytest.raises(ValueError, match="missing keys: 0.bias"):
        model.load_state_dict({"0.weight": good["0.weight"]})
    with pytest.raises(ValueError, match="unexpected keys: 0.extra"):
        model.load_state_dict({**good, "0.extra": np.zeros(1)})
    with pytest.raises(ValueError, match=r"size mismatch for 0.weight: the checkpoint has shape \(3, 3\), the model has shape \(2, 3\)"):
        model.load_state_dict({**good, "0.weight": np.zeros((3, 3))})
    result = model.load_state_dict({"0.weight": good["0.weight"], "x": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["x"]


def test_load_state_dict_copies_in_place_so_optimisers_keep_their_parameters():
    model = nn.Linear(2, 2)
    weight = model.weight
    model.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert model.weight is weight and weight.dtype == np.float32 and (weight.numpy() == 1).all()


def test_default_initialisation_matches_pytorch_bounds():
    tc.manual_seed(0)
    linear = nn.Linear(400, 50)
    bound = 1 / math.sqrt(400)
    for p in (linear.weight, linear.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.9 * bound
    conv = nn.Conv2d(16, 8, 3)
    bound = 1 / math.sqrt(16 * 9)
    assert np.abs(conv.weight.numpy()).max() <= bound
    assert abs(conv.weight.numpy().std() - bound / math.sqrt(3)) < 0.05 * bound
    norm = nn.BatchNorm2d(4)
    assert (norm.weight.numpy() == 1).all() and (norm.bias.numpy() == 0).all()
    assert (norm.running_var.numpy() == 1).all()


def test_parameters_buffers_children_and_shared_modules():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared, nn.BatchNorm1d(2))
    assert len(list(model.parameters())) == 4  # the shared layer counts once
    assert [n for n, _ in model.named_buffers()] == ["3.running_mean", "3.running_var", "3.num_batches_tracked"]
    assert len(list(model.children())) == 4 and len(model) == 4 and model[1].__class__ is nn.ReLU
    assert isinstance(model[1:], nn.Sequential) and len(model[1:]) == 3


def test_custom_module_registration_and_zero_grad():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 4)
            self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
            self.register_buffer("steps", Tensor(np.zeros((), dtype=np.int64)))

        def forward(self, x):
            return self.body(x) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "body.weight", "body.bias"]
    assert list(net.state_dict()) == ["scale", "steps", "body.weight", "body.bias"]
    net(Tensor(np.ones((2, 3), dtype=np.float32))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before assigning 'layer'"):
        Broken()


def test_train_eval_and_batch_norm_running_statistics():
    tc.manual_seed(0)
    norm = nn.BatchNorm2d(3, momentum=0.5)
    x = Tensor(np.random.default_rng(0).normal(2.0, 3.0, (8, 3, 4, 4)).astype(np.float32))
    y = norm(x)
    assert int(norm.num_batches_tracked.numpy()) == 1
    np.testing.assert_allclose(norm.running_mean.numpy(), 0.5 * x.numpy().mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(y.numpy().mean(axis=(0, 2, 3)), 0, atol=1e-5)
    norm.eval()
    assert not norm.training
    mean, var = norm.running_mean.numpy().copy(), norm.running_var.numpy().copy()
    expected = (x.numpy() - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(norm(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert int(norm.num_batches_tracked.numpy()) == 1  # evaluation changes nothing


def test_batch_norm_momentum_none_is_a_cumulative_average():
    norm = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).normal(i, 1, (16, 2)).astype(np.float32) for i in range(3)]
    for b in batches:
        norm(Tensor(b))
    np.testing.assert_allclose(norm.running_mean.numpy(), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5)


def test_batch_norm_without_running_stats_always_uses_the_batch():
    norm = nn.BatchNorm2d(2, track_running_stats=False).eval()
    x = Tensor(np.random.default_rng(0).normal(5, 2, (4, 2, 3, 3)).astype(np.float32))
    np.testing.assert_allclose(norm(x).numpy().mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert "running_mean" not in norm.state_dict()


def test_layer_input_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4-D input, got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(Tensor(np.ones((2, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match="BatchNorm1d: input has 4 channels but the layer was built for 3"):
        nn.BatchNorm1d(3)(Tensor(np.ones((2, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match="Conv2d: groups=2 must divide in_channels"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(TypeError, match="Sequential: item 1 is a int, not a Module"):
        nn.Sequential(nn.ReLU(), 3)


def test_dropout_module_is_identity_in_eval():
    layer = nn.Dropout(0.5)
    x = Tensor(np.ones((10, 10), dtype=np.float32))
    assert (layer(x).numpy() == 0).any()
    layer.eval()
    assert layer(x) is x


def test_repr_and_summary():
    model = seed_cnn()
    text = repr(model)
    assert "(0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))" in text
    assert "(7): Linear(in_features=1600, out_features=128, bias=True)" in text
    assert model.num_parameters() == 320 + 18_496 + 204_928 + 1_290
    assert model.summary().splitlines()[-1] == "total parameters: 225,034 (trainable: 225,034)"


def test_graph_nodes_remember_the_module_that_made_them():
    model = seed_cnn()
    out = model(Tensor(np.zeros((1, 1, 28, 28), dtype=np.float32)))
    assert out.grad_fn.scope == (model, model[9])


def test_cross_entropy_loss_module():
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    logits, target = Tensor(np.zeros((2, 4), dtype=np.float32)), Tensor([1, 2])
    np.testing.assert_allclose(loss(logits, target).item(), math.log(4), rtol=1e-6)


def test_a_dropped_model_output_frees_its_graph():
    gc.disable()
    try:
        model = seed_cnn(batch_norm=True)
        out = model(Tensor(np.zeros((2, 1, 28, 28), dtype=np.float32)))
        node = weakref.ref(out.grad_fn)
        del out
        assert node() is None
    finally:
        gc.enable()


def test_linear_equals_x_times_w_transposed_plus_b_with_gradients():
    x, w, b = rand((4, 3), 0), rand((5, 3), 1), rand(5, 2)
    np.testing.assert_allclose(F.linear(Tensor(x), Tensor(w), Tensor(b)).numpy(), x @ w.T + b)
    check_gradients(F.linear, x, w, b)
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) has 3 features but weight of shape \(5, 4\) expects 4"):
        F.linear(Tensor(x), Tensor(np.ones((5, 4))))
    with pytest.raises(TypeError, match="linear: input must be a Tensor, got ndarray"):
        F.linear(x, Tensor(w))
