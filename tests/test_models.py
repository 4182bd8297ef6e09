"""tinygrad_cnn.models: torchvision's parameter counts, training that lowers the loss, in-place
forms equal to out-of-place ones, and small versions gradient-checked end to end in float64."""

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, models, optim
from tinygrad_cnn.models import densenet, mobilenet, resnet, squeezenet, vgg

TORCHVISION_COUNTS = {  # 3 input channels, 1000 classes
    "resnet18": 11_689_512, "vgg11": 132_863_336, "mobilenet_v2": 3_504_872, "densenet121": 7_978_856,
    "squeezenet1_1": 1_235_496,
}
SMALL_INPUT = {  # (model, input shape, classes) that trains quickly
    "seed_cnn": ((4, 1, 28, 28), 10), "lenet5": ((4, 1, 28, 28), 10), "resnet20": ((4, 1, 28, 28), 10),
    "resnet18": ((4, 3, 32, 32), 10), "vgg11": ((2, 3, 32, 32), 10), "mobilenet_v2": ((4, 3, 32, 32), 10),
    "densenet121": ((4, 3, 32, 32), 10), "squeezenet1_1": ((4, 3, 32, 32), 10),
}


def build(name, in_channels, classes):
    if name == "seed_cnn":
        return models.seed_cnn(batch_norm=True, num_classes=classes)
    return getattr(models, name)(in_channels=in_channels, num_classes=classes)


@pytest.mark.parametrize("name,count", TORCHVISION_COUNTS.items())
def test_parameter_counts_are_torchvisions(name, count):
    assert getattr(models, name)().num_parameters() == count


def test_state_dict_keys_follow_torchvision():
    assert list(models.resnet18().state_dict())[:6] == [
        "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"]
    keys = models.mobilenet_v2().state_dict()
    assert "features.1.conv.0.0.weight" in keys and "features.18.1.running_var" in keys and "classifier.1.bias" in keys
    keys = models.densenet121().state_dict()
    assert "features.denseblock1.denselayer1.norm1.weight" in keys and "features.transition3.conv.weight" in keys
    assert "features.12.expand3x3.bias" in models.squeezenet1_1().state_dict()
    assert "classifier.6.weight" in models.vgg11().state_dict()


@pytest.mark.parametrize("name", SMALL_INPUT)
def test_five_steps_lower_the_loss(name):
    (shape, classes) = SMALL_INPUT[name]
    tc.manual_seed(0)
    model = build(name, shape[1], classes)
    x, y = tc.randn(*shape), Tensor(np.arange(shape[0]) % classes)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for _ in range(5):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0], losses


def out_of_place(monkeypatch, model):
    """Turn every in-place form in the model into the out-of-place one."""
    for module in model.modules():
        if hasattr(module, "inplace"):
            monkeypatch.setattr(module, "inplace", False)

    def block_forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + identity)

    monkeypatch.setattr(resnet.BasicBlock, "forward", block_forward)
    plain_relu = F.relu
    monkeypatch.setattr(densenet.F, "relu", lambda x, inplace=False: plain_relu(x))


@pytest.mark.parametrize("name", ["resnet20", "resnet18", "mobilenet_v2", "densenet121", "squeezenet1_1", "vgg11"])
def test_in_place_forms_give_the_out_of_place_gradients(name, monkeypatch):
    shape, classes = SMALL_INPUT[name]
    tc.manual_seed(1)
    model = build(name, shape[1], classes).double()  # float64: the comparison is not about rounding
    size = 64 if name == "mobilenet_v2" else shape[2]  # MobileNet's last feature maps need more than 1x1
    x, y = tc.randn(4, shape[1], size, size, dtype=np.float64), Tensor(np.array([1, 3, 0, 2]))

    def gradients():
        tc.manual_seed(5)  # the same dropout masks in both runs
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
        return {n: p.grad.numpy().copy() for n, p in model.named_parameters()}

    in_place = gradients()
    assert any(getattr(m, "inplace", False) for m in model.modules())  # the model does use in-place forms
    with monkeypatch.context() as patch:
        out_of_place(patch, model)
        reference = gradients()
    for n in reference:
        np.testing.assert_allclose(in_place[n], reference[n], rtol=1e-9, atol=1e-12, err_msg=n)


def gradcheck_model(model, shape, seed=0):
    model = model.double()
    x = Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    parameters = [p for p in model.parameters()][:3]
    assert tc.gradcheck(lambda inp, *ps: model(inp), (x, *parameters))


def test_small_models_gradient_check_end_to_end():
    tc.manual_seed(2)
    gradcheck_model(models.resnet20(in_channels=1, num_classes=3), (2, 1, 6, 6))
    gradcheck_model(densenet.DenseNet(growth_rate=3, block_config=(2, 1), num_init_features=4, bn_size=2,
                                      in_channels=1, num_classes=3), (2, 1, 12, 12))
    gradcheck_model(mobilenet.InvertedResidual(3, 3, 1, 2), (2, 3, 4, 4))
    gradcheck_model(mobilenet.InvertedResidual(3, 4, 2, 1), (2, 3, 5, 5))
    gradcheck_model(squeezenet.Fire(2, 2, 3, 2), (2, 2, 4, 4))
    gradcheck_model(vgg._features([3, "M", 4, "M"], 2), (1, 2, 8, 8))
    gradcheck_model(models.lenet5(num_classes=3), (1, 1, 28, 28))


def test_models_take_in_channels_and_num_classes():
    tc.manual_seed(0)
    for name in ("resnet18", "mobilenet_v2", "densenet121", "squeezenet1_1"):
        model = getattr(models, name)(in_channels=1, num_classes=7).eval()
        with tc.no_grad():
            assert model(tc.randn(1, 1, 32, 32)).shape == (1, 7), name


def test_seed_network_forward_and_backward_on_a_batch():
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = Tensor(rng.standard_normal((128, 1, 28, 28)).astype(f32))
    params = [Tensor((rng.standard_normal(s) * 0.1).astype(f32), requires_grad=True)
              for s in [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (128, 1600), (128,), (10, 128), (10,)]]
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2)), 2)
    h = F.relu(F.linear(h.flatten(1), w3, b3))
    loss = F.cross_entropy(F.linear(h, w4, b4), Tensor(rng.integers(0, 10, 128)))
    loss.backward()
    assert loss.dtype == np.float32
    for p in params:
        assert p.grad.shape == p.shape and p.grad.dtype == np.float32 and np.isfinite(p.grad.numpy()).all()
