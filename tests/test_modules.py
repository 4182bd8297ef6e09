"""Module API, containers, hooks, conversions, nn.init, nn.utils and checkpointing."""
import tracemalloc
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.utils.checkpoint import checkpoint


def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3 and list(seq) == [a, b, c]
    tail = seq[1:]
    assert list(tail._modules) == ["1", "2"] and tail[0] is b  # slicing keeps the names
    named = nn.Sequential(OrderedDict([("act", a), ("squash", b)]))
    assert named.act is a and list(named.state_dict()) == []
    seq.append(nn.Identity()).insert(0, nn.Flatten())
    assert len(seq) == 5 and isinstance(seq[0], nn.Flatten) and list(seq._modules) == ["0", "1", "2", "3", "4"]
    seq[1] = nn.ReLU6()
    del seq[0]
    assert isinstance(seq[0], nn.ReLU6) and len(seq) == 4
    with pytest.raises(TypeError, match="Sequential: item 0 is a int, not a Module"):
        nn.Sequential(3)
    with pytest.raises(IndexError, match="Sequential: index 7 is out of range for 4 modules"):
        seq[7]


def test_module_list_and_dict_register_parameters():
    layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)])
    layers.append(nn.Linear(1, 1))
    assert len(layers) == 3 and isinstance(layers[1:], nn.ModuleList)
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.Linear(2, 1)
    assert list(heads.keys()) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert {n for n, _ in heads.named_parameters()} == {"a.weight", "a.bias", "b.weight", "b.bias"}
    assert isinstance(heads.pop("a"), nn.Linear) and list(heads) == ["b"]
    with pytest.raises(KeyError, match="ModuleDict has no module 'z'"):
        heads["z"]
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        layers(Tensor([1.0]))


def test_add_module_get_submodule_apply_requires_grad():
    model = nn.Sequential(nn.Linear(2, 3))
    model.add_module("head", nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    model.register_module("extra", nn.Identity())
    assert model.get_submodule("head.1") is model.head[1] and model.get_submodule("") is model
    with pytest.raises(AttributeError, match="Sequential has no submodule 'nope'"):
        model.get_submodule("head.nope")
    with pytest.raises(KeyError, match="add_module: the name must be a non-empty string without '.'"):
        model.add_module("a.b", nn.ReLU())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and seen.count("Linear") == 2  # children first, then the module
    model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
    assert not model[0].bias.numpy().any()
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_forward_hooks_and_pre_hooks_with_removable_handles():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out * 2)
    out = layer(Tensor(np.ones((1, 2), np.float32)))
    np.testing.assert_allclose(out.numpy(), 2 * layer.bias.numpy()[None])  # input zeroed, output doubled
    assert calls == [(1, 2)]
    pre.remove()
    with post:
        pass  # leaving the block removes the hook
    np.testing.assert_allclose(layer(Tensor(np.ones((1, 2), np.float32))).numpy(),
                               (layer.weight.numpy().sum(1) + layer.bias.numpy())[None], rtol=1e-6)
    assert calls == [(1, 2)]


def test_to_double_float_keep_the_parameter_objects():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    weight = model[0].weight
    optimizer = tc.optim.SGD(model.parameters(), lr=0.1)
    assert model.double() is model and model[0].weight is weight and weight.dtype == np.float64
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    model(Tensor(np.ones((2, 1, 5, 5)))).sum().backward()
    optimizer.step()  # the optimiser still holds the same, converted parameters
    assert model.to("cpu") is model and model.to(tc.float32)[0].weight.dtype == np.float32
    assert model.float().cpu() is model
    with pytest.raises(RuntimeError, match="device: tinygrad_cnn computes on the CPU only"):
        model.to("cuda:0")
    layer = nn.Linear(2, 3, dtype=tc.float64)
    assert layer.weight.dtype == np.float64 and nn.BatchNorm2d(3, device="cpu").weight.dtype == np.float32


def test_init_functions():
    tc.manual_seed(0)
    w = tc.zeros(64, 32)
    nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() - np.sqrt(2 / 96)) < 0.01
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - np.sqrt(2 / 64)) < 0.02
    nn.init.trunc_normal_(w, std=0.5, a=-0.3, b=0.3)
    assert w.numpy().min() >= -0.3 and w.numpy().max() <= 0.3
    q = nn.init.orthogonal_(tc.zeros(3, 5), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)
    version = w._version
    nn.init.constant_(w, 0.5)
    assert w._version == version + 1 and (w.numpy() == 0.5).all()
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(np.sqrt(2 / 1.04))
    assert nn.init.calculate_gain("selu") == 0.75 and nn.init.calculate_gain("conv_transpose2d") == 1.0
    with pytest.raises(ValueError, match="init: unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


def test_gradient_clipping():
    a, b = nn.Parameter(Tensor(np.array([3.0, 0.0]))), nn.Parameter(Tensor(np.array([4.0])))
    a.grad, b.grad = Tensor(np.array([3.0, 0.0])), Tensor(np.array([4.0]))
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate([a.grad.numpy(), b.grad.numpy()]), [0.6, 0, 0.8], rtol=1e-5)
    a.grad = Tensor(np.array([3.0, -7.0]))
    assert nn.utils.clip_grad_norm_(a, 100.0, norm_type="inf").item() == 7.0
    nn.utils.clip_grad_value_([a], 2.0)
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, -2.0])
    a.grad = Tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of order 2.0 of the gradients is inf"):
        nn.utils.clip_grad_norm_(a, 1.0, error_if_nonfinite=True)


# --------------------------------------------------------------------------- checkpointing

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(256, 1024), nn.Linear(1024, 256)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        return self.second(self.drop(self.first(x).relu()).tanh())


def run(use_checkpoint):
    tc.manual_seed(0)
    blocks = nn.ModuleList([Block() for _ in range(4)])
    x = tc.randn(64, 256, requires_grad=True)
    tc.manual_seed(1)
    tracemalloc.start()
    h = x
    for block in blocks:
        h = checkpoint(block, h, use_reentrant=False) if use_checkpoint else block(h)
    loss = (h * h).sum()
    _, peak = tracemalloc.get_traced_memory()
    loss.backward()
    tracemalloc.stop()
    grads = {f"{i}.{n}": p.grad.numpy() for i, b in enumerate(blocks) for n, p in b.named_parameters()}
    return loss.item(), x.grad.numpy(), grads, peak


def test_checkpoint_saves_memory_and_gives_the_same_gradients():
    loss, x_grad, grads, peak = run(False)
    loss_c, x_grad_c, grads_c, peak_c = run(True)
    assert loss_c == loss
    np.testing.assert_array_equal(x_grad_c, x_grad)  # dropout repeated exactly in the recomputation
    for name in grads:
        np.testing.assert_array_equal(grads_c[name], grads[name], err_msg=name)
    assert peak_c < 0.6 * peak, (peak_c, peak)


def test_checkpoint_without_rng_preservation_and_bad_use():
    layer = nn.Linear(3, 3)
    x = tc.randn(2, 3, requires_grad=True)
    F.relu(layer(x)).sum().backward()
    expected = x.grad.numpy().copy(), layer.weight.grad.numpy().copy()
    x.grad = layer.weight.grad = None
    checkpoint(lambda t: F.relu(layer(t)), x, preserve_rng_state=False).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected[0], rtol=1e-6)
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected[1], rtol=1e-6)
    with pytest.raises(TypeError, match="checkpoint: the function must return a Tensor or a tuple of Tensors"):
        checkpoint(lambda t: 3, x)
    with pytest.raises(TypeError, match="checkpoint: expected a callable"):
        checkpoint(3, x)
