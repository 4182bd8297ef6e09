"""ONNX export: models and primitives exported at batch 2 agree with onnxruntime at batch 7
(max |ours - onnxruntime| <= 1e-5 * max |ours|, float32), and what cannot be exported says so."""
import io
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import models, nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from tinygrad_cnn.onnx import export  # noqa: E402  (after the optional imports are known)
from tinygrad_cnn.onnx.graph import UnsupportedOperatorError  # noqa: E402


def run_onnx(data, *inputs):
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(data, options)
    names = [i.name for i in session.get_inputs()]
    return session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})


def assert_agrees(model, *shape_tail, batch=7, **kwargs):
    """Export at batch 2, run both at ``batch``; return the ONNX model."""
    tc.manual_seed(0)
    buffer = io.BytesIO()
    export(model, tuple(tc.randn(2, *tail) for tail in shape_tail), buffer, **kwargs)
    inputs = [tc.randn(batch, *tail) for tail in shape_tail]
    model.eval()
    with tc.no_grad():
        ours = model(*inputs)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = run_onnx(buffer.getvalue(), *inputs)
    for mine, other in zip(ours, theirs):
        assert mine.shape == other.shape
        scale = max(float(np.abs(mine.numpy()).max()), 1e-30)
        assert float(np.abs(mine.numpy() - other).max()) <= 1e-5 * scale
    return onnx.load_from_string(buffer.getvalue())


# --------------------------------------------------------------------------- models

@pytest.mark.parametrize("name,shape", [
    ("seed_cnn", (1, 28, 28)), ("seed_cnn_bn", (1, 28, 28)), ("lenet5", (1, 28, 28)), ("resnet20", (1, 28, 28)),
    ("resnet18", (3, 64, 64)), ("mobilenet_v2", (3, 64, 64)), ("densenet121", (3, 64, 64)),
    ("squeezenet1_1", (3, 64, 64)), ("vgg11", (3, 224, 224)),
])
def test_models_export_and_agree_at_another_batch(name, shape):
    tc.manual_seed(1)
    if name.startswith("seed_cnn"):
        model = models.seed_cnn(batch_norm=name.endswith("bn"))
    else:
        model = getattr(models, name)(in_channels=shape[0], **({"num_classes": 10} if name != "vgg11" else {}))
    for m in model.modules():  # non-trivial running statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.data[...] = np.random.default_rng(2).standard_normal(m.num_features) * 0.1
            m.running_var.data[...] = np.random.default_rng(3).random(m.num_features) + 0.5
    proto = assert_agrees(model, shape, batch=7 if name != "vgg11" else 3)
    names = {i.name for i in proto.graph.initializer}
    first = next(iter(model.state_dict()))
    assert first in names  # parameters keep their names
    assert any("/" in n.name and not n.name.startswith("graph") for n in proto.graph.node)  # module paths


class Flattening(nn.Module):
    """An operation on the raw input and a batch-dependent view."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 5 * 5, 3)

    def forward(self, x):
        x = x / 255 - 0.5
        x = F.max_pool2d(self.conv(x).relu(), 2, ceil_mode=True)
        return self.fc(x.view(x.size(0), -1))


def test_raw_input_operations_and_batch_dependent_views_stay_symbolic():
    model = Flattening()
    proto = assert_agrees(model, (1, 11, 11))  # 9x9 after the convolution: a partial ceil_mode window
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_frozen_models_under_no_grad_and_modes_are_restored():
    model = models.seed_cnn(batch_norm=True).requires_grad_(False)
    model.train()
    with tc.no_grad():
        export(model, tc.randn(2, 1, 28, 28), io.BytesIO())
    assert model.training and model[1].training  # export ran in eval mode, then restored
    with tc.no_grad():
        assert_agrees(model, (1, 28, 28))


def test_names_and_fixed_shapes():
    buffer = io.BytesIO()
    export(nn.Linear(3, 2), tc.randn(4, 3), buffer, input_names=["features"], output_names=["scores"],
           dynamic_axes={})
    proto = onnx.load_from_string(buffer.getvalue())
    assert proto.graph.input[0].name == "features" and proto.graph.output[0].name == "scores"
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [4, 3]
    assert proto.opset_import[0].version == 17


def test_file_output_is_written_atomically(tmp_path):
    export(nn.Linear(3, 2), tc.randn(2, 3), tmp_path / "model.onnx")
    onnx.checker.check_model(str(tmp_path / "model.onnx"), full_check=True)


# --------------------------------------------------------------------------- primitives

class Apply(nn.Module):
    def __init__(self, fn, *modules):
        super().__init__()
        self.fn, self.layers = fn, nn.ModuleList(modules)

    def forward(self, *xs):
        return self.fn(self, *xs)


CONV = [dict(stride=1, padding=0), dict(stride=2, padding=1), dict(stride=(1, 2), padding=(2, 1), dilation=2),
        dict(stride=1, padding=1, groups=2), dict(stride=1, padding="same", padding_mode="reflect")]


@pytest.mark.parametrize("settings", CONV)
def test_conv2d(settings):
    assert_agrees(nn.Conv2d(4, 6, 3, **settings), (4, 9, 8))


@pytest.mark.parametrize("settings", [dict(stride=2, padding=1, output_padding=1), dict(stride=1, groups=2),
                                      dict(stride=3, padding=2, dilation=2)])
def test_conv_transpose2d(settings):
    assert_agrees(nn.ConvTranspose2d(4, 6, 3, **settings), (4, 5, 6))


@pytest.mark.parametrize("settings", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                      dict(kernel_size=(3, 2), stride=(2, 3), dilation=2, ceil_mode=True),
                                      dict(kernel_size=(9, 8))])
def test_max_pool2d(settings):
    assert_agrees(nn.MaxPool2d(**settings), (3, 9, 8))


@pytest.mark.parametrize("settings", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                      dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                                      dict(kernel_size=2, ceil_mode=True), dict(kernel_size=3, divisor_override=4),
                                      dict(kernel_size=(9, 8))])
def test_avg_pool2d(settings):
    assert_agrees(nn.AvgPool2d(**settings), (3, 9, 8))


@pytest.mark.parametrize("size", [1, (3, 4), (9, 2)])
def test_adaptive_pools_that_divide(size):
    assert_agrees(nn.AdaptiveAvgPool2d(size), (3, 9, 8))
    assert_agrees(nn.AdaptiveMaxPool2d(size), (3, 9, 8))


def test_norms_in_eval_mode():
    bn = nn.BatchNorm2d(4)
    bn.running_mean.data[...] = [0.1, -0.2, 0.3, 0.0]
    assert_agrees(bn, (4, 5, 5))
    assert_agrees(nn.BatchNorm2d(4, affine=False), (4, 5, 5))
    assert_agrees(nn.GroupNorm(2, 4), (4, 5, 5))
    assert_agrees(nn.LayerNorm([5, 5]), (4, 5, 5))
    assert_agrees(nn.InstanceNorm2d(4), (4, 5, 5))
    assert_agrees(nn.LocalResponseNorm(3), (4, 5, 5))


@pytest.mark.parametrize("activation", [nn.ReLU(), nn.ReLU6(inplace=True), nn.LeakyReLU(0.2), nn.ELU(), nn.SELU(),
                                        nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.Mish(), nn.Softplus(2, 3), nn.Softplus(2, 1),
                                        nn.Hardtanh(-0.5, 0.5), nn.Hardswish(), nn.Hardsigmoid(), nn.LogSigmoid(),
                                        nn.Sigmoid(), nn.Tanh(), nn.Softmax(1), nn.LogSoftmax(-1), nn.Dropout()],
                         ids=lambda m: repr(m))
def test_activations(activation):
    assert_agrees(activation, (3, 4, 5))


def test_linear_matmul_and_broadcasting_elementwise():
    assert_agrees(nn.Linear(5, 3), (4, 5))
    weight = tc.randn(5, 2)
    assert_agrees(Apply(lambda self, x: (x @ weight).exp() - x.sum(1, keepdim=True) * 2 / (x.abs() + 1).sqrt()
                        .mean(1, keepdim=True) + x.amax(1, keepdim=True).log1p().clamp(0, 3)), (5,))
    bias = tc.randn(1, 3, 1, 1)
    assert_agrees(Apply(lambda self, x: (x + bias) ** 2 - x.max()), (3, 4, 4))


def test_rounding():
    model = assert_agrees(Apply(lambda self, x: tc.cat([(x * 4).floor(), (x * 4).ceil(), (x * 4).trunc(),
                                                        (x * 4).round(), x.round(decimals=1)], 1)), (3, 4))
    assert {"Floor", "Ceil", "Round", "Sign"} <= {n.op_type for n in model.graph.node}
    halves = np.array([[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]], dtype=np.float32)
    buffer = io.BytesIO()
    export(Apply(lambda self, x: x.round()), tc.randn(2, 6), buffer)
    (theirs,) = run_onnx(buffer.getvalue(), tc.tensor(halves))
    np.testing.assert_array_equal(theirs, tc.tensor(halves).round().numpy())


@pytest.mark.parametrize("keepdim", [False, True])
def test_max_along_a_dimension_gives_values_and_first_indices(keepdim):
    model = assert_agrees(Apply(lambda self, x: tuple((x * 3).clamp(-1, 1).max(2, keepdim=keepdim))), (3, 6))  # ties
    assert [n.op_type for n in model.graph.node].count("ArgMax") == 1


@pytest.mark.parametrize("settings", [dict(), dict(reduction="sum"), dict(reduction="none"),
                                      dict(ignore_index=1), dict(label_smoothing=0.1, ignore_index=2),
                                      dict(label_smoothing=0.2, reduction="none")])
@pytest.mark.parametrize("opset", [13, 18])
def test_cross_entropy(settings, opset):
    model = Apply(lambda self, x, t: F.cross_entropy(x, t, **settings))
    buffer = io.BytesIO()
    export(model, (tc.randn(2, 5), tc.tensor([1, 2])), buffer, opset_version=opset)
    logits, target = tc.randn(7, 5), tc.tensor([0, 1, 2, 3, 4, 1, 2])
    (theirs,) = run_onnx(buffer.getvalue(), logits, target)
    ours = F.cross_entropy(logits, target, **settings).numpy()
    assert theirs.shape == ours.shape and np.allclose(theirs, ours, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opset", [13, 18])
def test_a_mean_exports_with_the_count_of_the_input_it_is_given(opset):
    """A mean over the batch divides by the batch it is run at (ReduceMean), not by the batch
    it was traced with: a mean was a sum times a constant 1 / count before."""
    assert_agrees(Apply(lambda self, x, t: F.mse_loss(x, t)), (3, 4), (3, 4), opset_version=opset)
    assert_agrees(Apply(lambda self, x: x.mean(0) - x.mean((1, 2), keepdim=True).sum()), (3, 4), opset_version=opset)


@pytest.mark.parametrize("loss", [lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.7),
                                  lambda x, t: F.smooth_l1_loss(x, t, beta=0.5),
                                  lambda x, t: F.smooth_l1_loss(x, t, reduction="sum", beta=0.0)],
                         ids=["huber", "smooth_l1", "smooth_l1 beta 0"])
def test_huber_and_smooth_l1_export(loss):
    assert_agrees(Apply(lambda self, x, t: loss(x, t)), (3, 4), (3, 4))


@pytest.mark.parametrize("loss", [lambda x, t: F.binary_cross_entropy_with_logits(x, t),
                                  lambda x, t: F.binary_cross_entropy_with_logits(
                                      x, t, pos_weight=tc.tensor([0.5, 2.0, 1.0, 3.0]), reduction="none"),
                                  lambda x, t: F.binary_cross_entropy_with_logits(
                                      x, t, weight=tc.tensor([0.5, 2.0, 1.0, 3.0]), reduction="sum")],
                         ids=["mean", "pos_weight", "weight"])
def test_binary_cross_entropy_with_logits_export(loss):
    assert_agrees(Apply(lambda self, x, t: loss(x, t)), (3, 4), (3, 4))


@pytest.mark.parametrize("loss", [
    lambda x, t, w: F.cross_entropy(x, t, weight=w),
    lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="none", ignore_index=2),
    lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1, reduction="sum"),
    lambda x, t, w: F.nll_loss(F.log_softmax(x, 1), t),
    lambda x, t, w: F.nll_loss(F.log_softmax(x, 1), t, weight=w, ignore_index=1),
], ids=["weighted", "weighted_ignored_none", "weighted_smoothed_sum", "nll", "nll_weighted_ignored"])
@pytest.mark.parametrize("images", [False, True])
def test_nll_and_weighted_cross_entropy_export_with_the_targets_as_an_input(loss, images):
    """The targets stay an input of the exported graph (GatherElements, or NegativeLogLikelihoodLoss
    without weights), so other targets give other losses (issue 18: these were refused, the
    targets would have been baked in)."""
    weight = tc.tensor([0.5, 1.0, 2.0, 0.25, 1.5])
    shape, target_shape = ((2, 5, 3, 2), (2, 3, 2)) if images else ((2, 5), (2,))
    buffer = io.BytesIO()
    export(Apply(lambda self, x, t: loss(x, t, weight)), (tc.randn(*shape), tc.randint(0, 5, target_shape)), buffer)
    op_types = {n.op_type for n in onnx.load_from_string(buffer.getvalue()).graph.node}
    assert op_types & {"GatherElements", "NegativeLogLikelihoodLoss"}
    batch_shape, batch_targets = ((7, 5, 3, 2), (7, 3, 2)) if images else ((7, 5), (7,))
    logits, target = tc.randn(*batch_shape), tc.randint(0, 5, batch_targets)
    (theirs,) = run_onnx(buffer.getvalue(), logits, target)
    ours = loss(logits, target, weight).numpy()
    assert theirs.shape == ours.shape and np.allclose(theirs, ours, rtol=1e-5, atol=1e-6)


def test_checkpointed_blocks_are_recorded_op_by_op():
    from tinygrad_cnn.utils.checkpoint import checkpoint

    block = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    model = assert_agrees(Apply(lambda self, x: checkpoint(self.layers[0], x), block), (2, 5, 5))
    assert [n.op_type for n in model.graph.node][:2] == ["Conv", "Relu"]


def test_shape_operations():
    assert_agrees(Apply(lambda self, x: tc.cat(list(x.split([1, 2], 1)) + [x.flip(2)], 1)), (3, 4, 5))
    assert_agrees(Apply(lambda self, x: x.transpose(1, 3).flatten(1).reshape(x.shape[0], 5, 12)), (3, 4, 5))
    assert_agrees(Apply(lambda self, x: x[:, 1:, ::2, -3:] * x[:, :1, ::2, -3:]), (3, 4, 5))
    assert_agrees(Apply(lambda self, x: x[:, 0] + x.index_select(1, tc.tensor([2, 2])).sum(1)), (3, 4, 5))
    assert_agrees(Apply(lambda self, x: x.unsqueeze(2).expand(-1, -1, 3, -1)), (3, 4))
    assert_agrees(Apply(lambda self, x: tc.stack([x, x * 2], 1).chunk(2, 3)[1]), (3, 4, 5))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode):
    assert_agrees(Apply(lambda self, x: F.pad(x, (1, 2, 2, 0), mode=mode)), (3, 4, 5))


@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_interpolate(mode, align_corners):
    assert_agrees(nn.Upsample(size=(7, 9), mode=mode, align_corners=align_corners), (3, 4, 5))


# --------------------------------------------------------------------------- what cannot be exported

@pytest.mark.parametrize("size, image", [((4, 3), (9, 9)), (7, (1, 1)), (7, (2, 2)), ((5, 2), (7, 3))])
def test_adaptive_average_pools_that_do_not_divide_export_exactly(size, image):
    """AlexNet's and VGG's AdaptiveAvgPool2d((7, 7)) from small images (issue 18)."""
    assert_agrees(nn.Sequential(nn.Conv2d(1, 2, 1), nn.AdaptiveAvgPool2d(size)), (1, *image))


def test_unmapped_operations_are_named_with_their_module():
    with pytest.raises(UnsupportedOperatorError, match="training-mode batch norm"):
        export(nn.BatchNorm2d(2).train(), tc.randn(2, 2, 3, 3), io.BytesIO(), training="preserve")

    class Halve(tc.autograd.Primitive):  # a NumPy-level primitive: export cannot know its ONNX form
        forward = staticmethod(lambda ctx, x: x / 2)
        backward = staticmethod(lambda ctx, grad: grad / 2)

    with pytest.raises(UnsupportedOperatorError, match="Halve in module 'halve' .* has no ONNX mapping"):
        export(nn.Sequential(OrderedDict(halve=Apply(lambda self, x: Halve.apply(x)))), tc.randn(2, 3), io.BytesIO())


def test_bad_arguments():
    with pytest.raises(TypeError, match="onnx.export: expected an nn.Module"):
        export(lambda x: x, tc.randn(2, 3), io.BytesIO())
    with pytest.raises(ValueError, match="onnx.export: opset_version must be between 13 and 21"):
        export(nn.Linear(3, 2), tc.randn(2, 3), io.BytesIO(), opset_version=9)
    with pytest.raises(TypeError, match="positional"):  # keyword-only after f, as torch.onnx.export
        export(nn.Linear(3, 2), tc.randn(2, 3), io.BytesIO(), ["x"])


def test_main_job_exports_the_best_model(tmp_path, small_data):
    from test_train import run_main

    assert run_main(tmp_path / "run", small_data, "--epochs", "1", "--export-onnx") == 0
    data = (tmp_path / "run" / "model.onnx").read_bytes()
    model = models.seed_cnn()
    model.load_state_dict(tc.load(tmp_path / "run" / "best.npz"))
    x = tc.randn(5, 1, 28, 28)
    with tc.no_grad():
        ours = model.eval()(x).numpy()
    np.testing.assert_allclose(run_onnx(data, x)[0], ours, rtol=1e-5, atol=1e-5 * np.abs(ours).max())


def test_a_write_through_a_view_of_an_input_exports_at_a_fixed_batch_only():
    """Issue 21's battery: the write was dropped (the graph returned its input unchanged). It
    exports as ScatterElements at the traced positions, so only with a fixed batch."""
    class WriteRow(tc.nn.Module):
        def forward(self, x):
            x[:, 0].mul_(2)
            return x

    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    buffer = io.BytesIO()
    export(WriteRow(), (tc.tensor(values),), buffer, dynamic_axes={})
    expected = values.copy()
    expected[:, 0] *= 2
    np.testing.assert_array_equal(run_onnx(buffer.getvalue(), tc.tensor(values))[0], expected)
    with pytest.raises(UnsupportedOperatorError, match="export with a fixed batch"):
        export(WriteRow(), (tc.tensor(values),), io.BytesIO())


def test_an_index_array_exports_as_gather_and_a_boolean_mask_is_refused_by_name():
    """The index is an input of the GetItem node; a mask's result size depends on the data
    (it reached ONNX's shape inference, which failed with an unrelated-looking error)."""
    values = np.arange(8, dtype=np.float32).reshape(2, 4)
    buffer = io.BytesIO()
    export(Apply(lambda self, x: x[:, tc.tensor([3, 0, 0])]), (tc.tensor(values),), buffer)
    np.testing.assert_array_equal(run_onnx(buffer.getvalue(), tc.tensor(values))[0], values[:, [3, 0, 0]])
    with pytest.raises(UnsupportedOperatorError, match="GetItem .* a boolean mask's result has a size"):
        export(Apply(lambda self, x: x[:, tc.tensor([True, False, True, False])]), (tc.tensor(values),),
               io.BytesIO())


def test_a_reduction_of_a_0d_tensor_exports():
    """TINYGRAD_CNN_CHECK_OP=all found it: a mean over no axes wrote an empty axes attribute,
    which onnx refused (ValueError from inside the exporter)."""
    model = Apply(lambda self, x: F.mse_loss(x, x * 2) + x.sum() + x.amax())
    value = tc.tensor(np.float32(1.5))
    buffer = io.BytesIO()
    export(model, (value,), buffer, dynamic_axes={})
    np.testing.assert_allclose(run_onnx(buffer.getvalue(), value)[0], model(value).numpy(), rtol=1e-6)
