"""The layers CNN programs use beside the 2-D ones (1-D convolution and pooling, 3-D batch norm,
1-D/3-D instance norm, Embedding, channel dropout, pixel shuffle, Unflatten, padding modules):
each module against PyTorch's with PyTorch's weights loaded through the state dict (so the
layout is PyTorch's), its gradients against PyTorch's, its functional form's gradients against
finite differences, and its ONNX export against onnxruntime."""
import io

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)

CASES = {  # name: (constructor arguments, input shape, integer input)
    "Conv1d": ((4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2), (2, 4, 11)),
    "Conv1d_same_reflect": ((4, 3, 4), dict(padding="same", padding_mode="reflect"), (2, 4, 9)),
    "ConvTranspose1d": ((4, 6, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 7)),
    "MaxPool1d": ((3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
    "AvgPool1d": ((3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
    "AdaptiveAvgPool1d": ((4,), {}, (2, 3, 10)),
    "AdaptiveMaxPool1d": ((4,), {}, (2, 3, 10)),
    "BatchNorm3d": ((3,), {}, (2, 3, 2, 3, 4)),
    "InstanceNorm1d": ((3,), dict(affine=True), (2, 3, 8)),
    "InstanceNorm3d": ((3,), dict(affine=True), (2, 3, 2, 3, 4)),
    "PixelShuffle": ((2,), {}, (2, 8, 3, 5)),
    "PixelUnshuffle": ((2,), {}, (2, 2, 4, 6)),
    "Unflatten": ((1, (2, 3)), {}, (4, 6)),
    "ZeroPad2d": (((1, 2, 0, 3),), {}, (2, 3, 4, 5)),
    "ConstantPad1d": (((2, 1), 3.5), {}, (2, 3, 4)),
    "ConstantPad3d": ((1, 0.5), {}, (1, 2, 2, 3, 4)),
    "ReflectionPad1d": ((2,), {}, (2, 3, 5)),
    "ReflectionPad2d": (((1, 2, 2, 1),), {}, (2, 3, 4, 5)),
    "ReplicationPad2d": ((2,), {}, (2, 3, 4, 5)),
    "ReplicationPad3d": ((1,), {}, (1, 2, 2, 3, 4)),
    "CircularPad1d": ((2,), {}, (2, 3, 5)),
    "CircularPad2d": (((1, 1, 2, 0),), {}, (2, 3, 4, 5)),
}


def _pair(torch, name):
    args, kwargs, shape = CASES[name]
    kind = name.split("_")[0]
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(tc.nn, kind)(*args, **kwargs).double()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: tc.tensor(v) for k, v in state.items()})
    assert list(ours.state_dict()) == list(state)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {k: v.shape for k, v in state.items()}
    return theirs, ours, shape


def _outputs(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("name", CASES)
def test_module_matches_pytorch_forward_and_backward(torch, name):
    theirs, ours, shape = _pair(torch, name)
    x0 = RNG.standard_normal(shape)
    xt = torch.tensor(x0, requires_grad=True)
    x = tc.tensor(x0, requires_grad=True)
    for mode in ("train", "eval"):
        getattr(theirs, mode)()
        getattr(ours, mode)()
        want, got = _outputs(theirs(xt)), _outputs(ours(x))
        for w, g in zip(want, got):
            assert tuple(w.shape) == g.shape
            np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-10, atol=1e-12)
        upstream = RNG.standard_normal(tuple(want[0].shape))
        (gt,) = torch.autograd.grad(want[0], xt, torch.tensor(upstream))
        (gg,) = tc.grad(got[0], [x], tc.tensor(upstream))
        np.testing.assert_allclose(gg.numpy(), gt.numpy(), rtol=1e-10, atol=1e-12)
    for key, value in theirs.state_dict().items():  # running statistics updated alike
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(ours).replace("tinygrad_cnn.", "") == repr(theirs)


FUNCTIONAL = {
    "conv1d": lambda x, w: F.conv1d(x, w, None, 2, 1, 1, 2),
    "conv_transpose1d": lambda x, w: F.conv_transpose1d(x, w, None, 2, 1, 1, 2),
    "max_pool1d": lambda x, w: F.max_pool1d(x, 3, 2, 1),
    "avg_pool1d": lambda x, w: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool1d": lambda x, w: F.adaptive_avg_pool1d(x, 3),
    "adaptive_max_pool1d": lambda x, w: F.adaptive_max_pool1d(x, 3),
    "pixel_shuffle": lambda x, w: F.pixel_shuffle(x.reshape(1, 4, 2, 5), 2),
    "pixel_unshuffle": lambda x, w: F.pixel_unshuffle(x.reshape(1, 2, 2, 10), 2),
}


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_forms_pass_gradcheck_and_gradgradcheck(name):
    x = tc.tensor(RNG.permutation(40).reshape(2, 4, 5) / 7.0, requires_grad=True)  # distinct: no max ties
    w = tc.tensor(RNG.standard_normal((4, 2, 3)), requires_grad=True)
    function = FUNCTIONAL[name]
    assert gradcheck(function, (x, w)) and gradgradcheck(function, (x, w))


def test_embedding_matches_pytorch_with_padding_max_norm_and_frequency_scaling(torch):
    indices = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])
    for kwargs in ({}, {"padding_idx": 2}, {"scale_grad_by_freq": True, "padding_idx": -1}, {"max_norm": 1.0}):
        torch.manual_seed(0)
        theirs = torch.nn.Embedding(6, 3, **kwargs).double()
        ours = tc.nn.Embedding(6, 3, **kwargs).double()
        ours.load_state_dict({"weight": tc.tensor(theirs.weight.detach().numpy())})
        upstream = RNG.standard_normal((2, 4, 3))
        theirs(torch.tensor(indices)).backward(torch.tensor(upstream))
        out = ours(tc.tensor(indices))
        out.backward(tc.tensor(upstream))
        np.testing.assert_allclose(out.detach().numpy(), theirs(torch.tensor(indices)).detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    weight = tc.tensor(RNG.standard_normal((6, 3)), requires_grad=True)
    assert gradcheck(lambda w: F.embedding(tc.tensor(indices), w), (weight,))
    assert gradgradcheck(lambda w: F.embedding(tc.tensor(indices), w) ** 2, (weight,))
    assert (tc.nn.Embedding(4, 2, padding_idx=1).weight.numpy()[1] == 0).all()
    frozen = tc.nn.Embedding.from_pretrained(tc.ones(3, 2))
    assert not frozen.weight.requires_grad and frozen(tc.tensor([2])).tolist() == [[1.0, 1.0]]


def test_embedding_refuses_what_pytorch_refuses():
    weight = tc.randn(4, 2)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(tc.tensor([4]), weight)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(tc.tensor([-1]), weight)
    with pytest.raises(RuntimeError, match="integer dtype"):
        F.embedding(tc.tensor([1.0]), weight)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        tc.nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(tc.tensor([1]), weight, sparse=True)


@pytest.mark.parametrize("layer, shape", [(tc.nn.Dropout1d, (6, 50, 7)), (tc.nn.Dropout2d, (6, 50, 3, 3)),
                                          (tc.nn.Dropout3d, (6, 50, 2, 2, 2)), (tc.nn.Dropout1d, (50, 7))])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(layer, shape):
    tc.manual_seed(0)
    out = layer(p=0.4)(tc.ones(*shape, dtype=tc.float64)).numpy()
    per_channel = out.reshape(*shape[:1 if len(shape) == 2 else 2], -1)
    assert np.all(per_channel == per_channel[..., :1])  # each channel kept or dropped whole
    assert set(np.unique(out)) <= {0.0, 1 / 0.6} and 0.45 < (out > 0).mean() < 0.75
    assert np.array_equal(layer(p=0.4).eval()(tc.ones(*shape)).numpy(), np.ones(shape))


def test_channel_dropout_refusals_and_warnings_follow_pytorch():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(tc.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(tc.ones(2, 3, 4))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        tc.nn.Dropout2d(1.5)


def test_pixel_shuffle_and_unflatten_errors_follow_pytorch():
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=5 is not divisible by 4"):
        F.pixel_shuffle(tc.ones(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match=r"input.size\(-2\)=3 is not divisible by 2"):
        F.pixel_unshuffle(tc.ones(1, 1, 3, 4), 2)
    with pytest.raises(RuntimeError, match=r"sizes \[2, 2\] don't multiply up to the size of dim 1 \(5\)"):
        tc.ones(3, 5).unflatten(1, (2, 2))
    assert tc.ones(3, 6).unflatten(-1, (-1, 2)).shape == (3, 3, 2)


DROPOUT_CASES = {"Dropout1d": (2, 3, 5), "Dropout2d": (2, 3, 4, 5), "Dropout3d": (1, 2, 2, 3, 4)}


@pytest.mark.parametrize("name", [*CASES, *DROPOUT_CASES])
def test_layers_export_to_onnx(name):
    ort = pytest.importorskip("onnxruntime")
    args, kwargs, shape = CASES[name] if name in CASES else ((0.5,), {}, DROPOUT_CASES[name])
    if name == "AdaptiveMaxPool1d":  # windows of one size only: ONNX has no adaptive max pool (PyTorch's
        args = (5,)                  # exporter refuses other sizes too; ours says so, tested below)
    model = getattr(tc.nn, name.split("_")[0])(*args, **kwargs).eval()
    x = tc.tensor(RNG.standard_normal(shape).astype(np.float32))
    buffer = io.BytesIO()
    tc.onnx.export(model, (x,), buffer)
    session = ort.InferenceSession(buffer.getvalue())
    (theirs,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with tc.no_grad():
        np.testing.assert_allclose(theirs, model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_embedding_exports_as_a_gather():
    ort = pytest.importorskip("onnxruntime")
    model = tc.nn.Sequential(tc.nn.Embedding(10, 4), tc.nn.Flatten(), tc.nn.Linear(12, 2)).eval()
    indices = tc.tensor(np.array([[1, 9, 3], [0, 0, 2]]))
    buffer = io.BytesIO()
    tc.onnx.export(model, (indices,), buffer)
    session = ort.InferenceSession(buffer.getvalue())
    (theirs,) = session.run(None, {session.get_inputs()[0].name: indices.numpy()})
    with tc.no_grad():
        np.testing.assert_allclose(theirs, model(indices).numpy(), rtol=1e-5, atol=1e-6)


def test_adaptive_max_pool_with_uneven_windows_is_refused_by_the_exporter():
    pytest.importorskip("onnx")
    from tinygrad_cnn.onnx.graph import UnsupportedOperatorError
    with pytest.raises(UnsupportedOperatorError, match="AdaptiveMaxPool1d"):
        tc.onnx.export(tc.nn.AdaptiveMaxPool1d(4), (tc.randn(2, 3, 10),), io.BytesIO())
