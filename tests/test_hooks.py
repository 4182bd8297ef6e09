"""Tensor hooks, retain_grad and module full backward hooks, as PyTorch's (issue 19, finding 4)."""
import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn


def leaf(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_leaf_hook_replaces_the_gradient_before_accumulation_and_can_be_removed():
    x = leaf([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_non_leaf_hook_changes_what_flows_on_and_retain_grad_keeps_the_final_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()  # registered first, still sees the gradient after the hook below (PyTorch runs it last)
    y.register_hook(lambda g: g * 2)
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [12.0, 24.0])  # 2y, doubled
    np.testing.assert_array_equal(x.grad.numpy(), [36.0, 72.0])  # and 3 times that reaches x
    assert y.retains_grad and not x.retains_grad


def test_hooks_are_refused_on_tensors_without_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tc.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        tc.ones(2).retain_grad()


def test_post_accumulate_grad_hook_sees_the_accumulated_gradient():
    w = leaf([1.0, -1.0])
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * 2).sum().backward()
    (w * 2).sum().backward()
    np.testing.assert_array_equal(seen[1], [4.0, 4.0])
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_a_hook_that_returns_a_wrong_shape_is_a_clear_error():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(ValueError, match=r"hook: gradient has shape \(\) but the tensor has shape \(2,\)"):
        (x * 1).sum().backward()


def test_full_backward_hook_receives_grad_input_and_grad_output():
    layer = nn.Linear(3, 2).double()
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append((m, gi, go)))
    x = leaf(np.arange(12.0).reshape(4, 3))
    upstream = Tensor(np.ones((4, 2)))
    (layer(x) * upstream).sum().backward()
    (module, grad_input, grad_output), = calls
    assert module is layer and len(grad_input) == 1 and len(grad_output) == 1
    np.testing.assert_allclose(grad_output[0].numpy(), upstream.numpy())
    np.testing.assert_allclose(grad_input[0].numpy(), upstream.numpy() @ layer.weight.numpy())


def test_full_backward_hook_can_replace_grad_input_and_pre_hook_grad_output():
    layer = nn.Linear(2, 2, bias=False).double()
    layer.weight.data.copy_(Tensor(np.eye(2)))
    layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
    x = leaf([[1.0, 2.0]])
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0, 3.0]])  # (1 * 2) through the identity, plus 1
    np.testing.assert_allclose(layer.weight.grad.numpy(), [[2.0, 4.0], [2.0, 4.0]])  # the doubled grad_output


def test_full_backward_hook_on_an_input_without_grad_gets_none():
    layer = nn.Conv2d(1, 2, 3)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append((gi, go[0].shape)))
    layer(tc.randn(2, 1, 5, 5)).sum().backward()
    assert calls == [((None,), (2, 2, 3, 3))]


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1),
                                      nn.ReLU())
        self.head = nn.Linear(6, 5)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def grad_cam(model, layer, image, target):
    """Grad-CAM as its usual code writes it: a forward hook keeps the activations, a full
    backward hook keeps the gradient arriving at them."""
    kept = {}
    handles = [layer.register_forward_hook(lambda m, args, out: kept.update(activation=out)),
               layer.register_full_backward_hook(lambda m, gi, go: kept.update(gradient=go[0]))]
    scores = model(image)
    model.zero_grad()
    scores[0, target].backward()
    for h in handles:
        h.remove()
    weights = kept["gradient"].mean(dim=(2, 3), keepdim=True)
    return (weights * kept["activation"]).sum(1).relu().detach().numpy()


def test_grad_cam_through_forward_and_full_backward_hooks_matches_pytorch(torch):
    tc.manual_seed(0)
    ours = SmallCNN().double()
    image = np.random.default_rng(0).standard_normal((1, 3, 8, 8))
    cam = grad_cam(ours, ours.features[3], Tensor(image), target=2)

    conv1, conv2, head = (torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Conv2d(4, 6, 3, padding=1),  # the same net
                          torch.nn.Linear(6, 5))
    for module, source in ((conv1, ours.features[0]), (conv2, ours.features[2]), (head, ours.head)):
        module.double().load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in source.state_dict().items()})
    features = torch.nn.Sequential(conv1, torch.nn.ReLU(), conv2, torch.nn.ReLU())
    kept = {}
    features[3].register_forward_hook(lambda m, args, out: kept.update(activation=out))
    features[3].register_full_backward_hook(lambda m, gi, go: kept.update(gradient=go[0]))
    scores = head(torch.nn.functional.adaptive_avg_pool2d(features(torch.from_numpy(image)), 1).flatten(1))
    scores[0, 2].backward()
    expected = (kept["gradient"].mean(dim=(2, 3), keepdim=True) * kept["activation"]).sum(1).relu()
    np.testing.assert_allclose(cam, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert cam.shape == (1, 8, 8) and cam.max() > 0


def test_grad_cam_gradient_is_the_gradient_with_respect_to_the_activation():
    tc.manual_seed(1)
    model = SmallCNN().double()
    image = Tensor(np.random.default_rng(1).standard_normal((1, 3, 6, 6)))
    kept = {}
    model.features[3].register_full_backward_hook(lambda m, gi, go: kept.update(gradient=go[0]))
    model.features[3].register_forward_hook(lambda m, args, out: kept.update(activation=out))
    score = model(image)[0, 1]
    (by_grad,) = tc.grad(score, kept["activation"], retain_graph=True)
    score.backward()
    np.testing.assert_allclose(kept["gradient"].numpy(), by_grad.numpy())
