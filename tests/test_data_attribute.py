""".data, state_dict() and save/load as PyTorch has them (issue 19, findings 2 and 6)."""
import io
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn


def test_data_is_a_tensor_sharing_memory_without_grad():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    d = w.data
    assert type(d) is Tensor and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), w.numpy())
    d[0] = 5.0
    assert w.numpy().tolist() == [5.0, 2.0]


def test_changes_through_data_bump_no_version_of_the_tensor():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()  # Mul saved w
    w.data.mul_(2)
    w.data[1:].add_(1)
    w.data += 1
    assert w._version == 0
    loss.backward()  # reads the changed values, as PyTorch's does
    np.testing.assert_array_equal(w.grad.numpy(), 2 * w.numpy())


def test_data_setter_replaces_the_memory():
    w = Tensor(np.zeros(2), requires_grad=True)
    w.data = tc.ones(3, dtype=tc.float64)
    assert w.shape == (3,) and w.requires_grad and w.numpy().tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="Tensor.data: expected a Tensor"):
        w.data = np.zeros(3)


def test_dcgan_initialisation_through_data():
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            m.weight.data.normal_(0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)

    tc.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 64, 4), nn.BatchNorm2d(64))
    net.apply(weights_init)
    conv, norm = net[0].weight.numpy(), net[1].weight.numpy()
    assert abs(conv.std() - 0.02) < 0.002 and abs(conv.mean()) < 0.002
    assert abs(norm.mean() - 1.0) < 0.01 and np.all(net[1].bias.numpy() == 0)
    assert net[0].weight.requires_grad and net[0].weight.is_leaf


def test_wgan_clipping_and_manual_sgd_through_data():
    tc.manual_seed(0)
    model = nn.Linear(4, 1)
    x = tc.randn(8, 4)
    before = model.weight.numpy().copy()
    model(x).pow(2).mean().backward()
    grad = model.weight.grad.numpy().copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the deprecated overload warns, as in PyTorch
        for p in model.parameters():
            p.data.add_(-0.1, p.grad.data)  # the old tutorials' SGD
    np.testing.assert_allclose(model.weight.numpy(), before - 0.1 * grad, rtol=1e-6)
    for p in model.parameters():
        p.data -= 0.1 * p.grad.data  # and the newer spelling
    np.testing.assert_allclose(model.weight.numpy(), before - 0.2 * grad, rtol=1e-6)
    for p in model.parameters():
        p.data.clamp_(-0.01, 0.01)  # WGAN's weight clipping
    assert np.abs(model.weight.numpy()).max() <= 0.01 and model.weight.requires_grad


def test_deprecated_alpha_first_overload_warns():
    p = tc.zeros(2)
    with pytest.warns(UserWarning, match="This overload of add_ is deprecated"):
        p.add_(2.0, tc.ones(2))
    assert p.numpy().tolist() == [2.0, 2.0]


def test_state_dict_values_are_detached_tensors_sharing_memory():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    state = model.state_dict()
    assert all(type(v) is Tensor and not v.requires_grad for v in state.values())
    assert np.shares_memory(state["0.weight"].numpy(), model[0].weight.numpy())
    copies = {k: v.cpu().clone() for k, v in state.items()}  # a common PyTorch idiom
    assert set(copies) == set(state)
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight
    assert list(model.state_dict(prefix="net."))[0] == "net.0.weight"


def test_numpy_conversion_of_a_tensor_that_requires_grad_is_refused_as_in_pytorch():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(w)
    assert np.asarray(w.detach()).tolist() == [1.0, 1.0]


def test_save_and_load_give_tensors_back_as_tensors(tmp_path):
    model = nn.Linear(3, 2)
    checkpoint = {"model": model.state_dict(), "epoch": 4, "mask": np.array([True, False])}
    tc.save(checkpoint, tmp_path / "c.npz")
    loaded = tc.load(tmp_path / "c.npz", map_location="cpu", weights_only=True)
    assert type(loaded["model"]["weight"]) is Tensor and isinstance(loaded["mask"], np.ndarray)
    assert int(loaded["epoch"]) == 4
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(loaded["model"])
    np.testing.assert_array_equal(fresh.weight.numpy(), model.weight.numpy())
    moved = tc.load(tmp_path / "c.npz", map_location=lambda storage, location: storage)
    assert type(moved["model"]["bias"]) is Tensor
    with pytest.raises(RuntimeError, match="CPU only"):  # as PyTorch on a machine without CUDA
        tc.load(tmp_path / "c.npz", map_location="cuda:0")


def test_save_and_load_through_an_open_buffer():
    buffer = io.BytesIO()
    tc.save({"w": tc.ones(2)}, buffer)
    buffer.seek(0)
    assert tc.load(buffer)["w"].numpy().tolist() == [1.0, 1.0]
