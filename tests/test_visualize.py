"""Graph pictures: real renders with dot, clusters, collapsing, gradient colours, big graphs."""
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
import visualize.output
from tinygrad_cnn import Tensor
from tinygrad_cnn.models import seed_cnn
from visualize import GraphvizNotFoundError, draw_graph, save
from visualize.__main__ import main as cli

SEED_PRIMITIVES = ["Conv2d", "Relu", "MaxPool2d", "Reshape", "MatMul", "Permute", "Add", "LogSoftmax", "NllLoss"]


def seed_loss(batch_norm=False, backward=False):
    tc.manual_seed(0)
    model = seed_cnn(batch_norm=batch_norm)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32))
    loss = F.cross_entropy(model(x), Tensor([3, 7]))
    if backward:
        loss.backward(retain_graph=True)
    return model, loss


def svg_text(path):
    root = ET.parse(path).getroot()  # raises if the SVG is not well-formed
    assert root.tag.endswith("svg")
    return " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))


def test_seed_cnn_svg_holds_every_primitive_and_parameter_name(tmp_path):
    model, loss = seed_loss(batch_norm=True)
    text = svg_text(save(draw_graph(loss), tmp_path / "g.svg"))
    for name in SEED_PRIMITIVES + ["BatchNorm"]:
        assert name in text, name
    for name, _ in model.named_parameters():
        assert name in text, name
    assert "kernel_size=2 stride=2" in text and "2×32×26×26" in text


def test_explicit_params_names_are_used(tmp_path):
    model, loss = seed_loss()
    names = {f"net.{n}": p for n, p in model.named_parameters()}
    text = svg_text(save(draw_graph(loss, params=names), tmp_path / "g.svg"))
    assert "net.0.weight" in text and "net.9.bias" in text


def test_clusters_appear_only_when_asked():
    _, loss = seed_loss()
    clustered = draw_graph(loss).source
    assert "subgraph cluster_" in clustered and "3: Conv2d(32, 64" in clustered
    assert "subgraph cluster_" not in draw_graph(loss, cluster_modules=False).source


def test_collapsed_modules_give_one_node_per_layer(tmp_path):
    _, loss = seed_loss(backward=True)
    source = draw_graph(loss, collapse_modules=True, rankdir="LR").source
    assert "rankdir=LR" in source
    assert "18,496 parameters" in source and "MatMul" not in source
    assert source.count("box3d") == 10  # the ten layers of the seed CNN
    save(draw_graph(loss, collapse_modules=True), tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_gradient_norms_and_colours_appear_after_backward():
    _, loss = seed_loss()
    before = draw_graph(loss).source
    assert "‖grad‖" not in before and "gradient norm colours" not in before
    loss.backward(retain_graph=True)
    after = draw_graph(loss).source
    assert "‖grad‖" in after and "gradient norm colours" in after and "#fde725" in after


def test_tensor_nodes_show_shape_and_dtype(tmp_path):
    _, loss = seed_loss()
    graph = draw_graph(loss, tensor_nodes=True)
    text = svg_text(save(graph, tmp_path / "t.svg"))
    assert "2×32×26×26 float32" in text and "2×64×5×5 float32" in text
    edges_plain = draw_graph(loss).source.count("->")
    assert graph.source.count("->") > edges_plain  # op -> tensor -> op


def test_saved_tensors_are_shown_and_freed_after_backward():
    _, loss = seed_loss()
    assert "saved:" in draw_graph(loss, show_saved=True).source
    loss.backward()
    assert "freed by backward" in draw_graph(loss, show_saved=True).source


@pytest.mark.parametrize("suffix,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("dot", b"digraph")])
def test_formats(tmp_path, suffix, magic):
    _, loss = seed_loss()
    assert save(draw_graph(loss), tmp_path / f"g.{suffix}").read_bytes().startswith(magic)
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        save(draw_graph(loss), tmp_path / "g.gif")


def test_missing_dot_is_a_clear_error_and_the_source_is_still_written(tmp_path, monkeypatch):
    monkeypatch.setattr(visualize.output.shutil, "which", lambda name: None)
    _, loss = seed_loss()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        save(draw_graph(loss), tmp_path / "g.png")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_a_graph_of_5000_ops_renders_quickly(tmp_path):
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for i in range(5000):
        y = (y * 1.0001) if i % 2 else (y + 0.5)
    start = time.perf_counter()
    graph = draw_graph(y.sum())
    save(graph, tmp_path / "big.svg")
    assert time.perf_counter() - start < 120
    source = graph.source
    assert source.count('[label="Add') == 2500 and source.count('[label="Mul') == 2500  # every operation
    assert source.count("->") == 5000 + 1 + 1  # the chain, the input's edge and the output's
    assert "<svg" in (tmp_path / "big.svg").read_text()[:500]


def test_bad_arguments():
    with pytest.raises(TypeError, match="draw_graph: expected the Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="rankdir must be"):
        draw_graph(Tensor([1.0]), rankdir="up")


def test_cli_writes_the_explorer(tmp_path, capsys):
    assert cli(["--html", str(tmp_path / "seed.html")]) == 0
    page = (tmp_path / "seed.html").read_text()
    assert "wrote" in capsys.readouterr().out and page.startswith("<!DOCTYPE html>")
    assert '"recorded":true' in page and "Step backward" in page


def test_cli_renders_the_seed_cnn_and_a_user_model(tmp_path, monkeypatch, capsys):
    assert cli(["--out", str(tmp_path / "seed.svg"), "--batch-norm"]) == 0
    assert "BatchNorm" in svg_text(tmp_path / "seed.svg")
    (tmp_path / "my_models.py").write_text(
        "from tinygrad_cnn import nn\n"
        "def tiny():\n    return nn.Sequential(nn.Flatten(), nn.Linear(4, 3))\n")
    monkeypatch.chdir(tmp_path)
    assert cli(["--model", "my_models:tiny", "--input-shape", "2,4", "--classes", "3",
                "--out", "tiny.png", "--collapse"]) == 0
    assert (tmp_path / "tiny.png").exists() and "wrote" in capsys.readouterr().out


def test_new_primitives_are_drawn_with_their_settings():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 7, 7)), requires_grad=True)
    y = F.max_pool2d(x, 3, 2, 1, dilation=1, ceil_mode=True) * 1.0
    y[:, 0] = 0
    z = tc.cat([F.adaptive_avg_pool2d(y, (3, 2)), F.adaptive_max_pool2d(y, (3, 2))], 1)
    z = F.pad(F.interpolate(z, size=(5, 4), mode="bilinear"), (1, 1, 2, 0), mode="reflect")
    source = draw_graph(F.group_norm(z, 2).sum()).source
    for text in ("ceil_mode=True", "index=[:, 0]", "output_size=(3, 2)", "Cat", "dim=1", "SetItem", "AdaptiveAvgPool2d"):
        assert text in source, text


def test_an_exported_onnx_file_is_drawn_in_the_same_style(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_cnn.onnx import export

    model = seed_cnn(batch_norm=True).eval()
    path = tmp_path / "seed.onnx"
    export(model, tc.randn(2, 1, 28, 28), path)
    text = svg_text(save(draw_graph(path), tmp_path / "onnx.svg"))
    for op_type in ["Conv", "BatchNormalization", "Relu", "MaxPool", "Reshape", "MatMul", "Add"]:
        assert op_type in text, op_type
    for name, _ in model.named_parameters():
        assert name in text, name
    assert "batch×1×28×28" in text and "batch×32×26×26" in text and "batch×10" in text
    assert "kernel_shape=2" in text and "strides=2" in text
    assert "0.weight ⟨32×1×3×3⟩" in text  # weights listed inside their operator, netron's way


def test_onnx_pictures_have_one_node_per_operator_and_boxes_for_blocks(tmp_path):
    """ResNet-20: 77 operators drew 189 nodes (every initializer one) over 9,387 x 6,090 px."""
    onnx = pytest.importorskip("onnx")
    import re

    from tinygrad_cnn.models import resnet20
    from tinygrad_cnn.onnx import export
    path = tmp_path / "resnet20.onnx"
    export(resnet20(in_channels=1, num_classes=10).eval(), tc.randn(2, 1, 28, 28), path)
    stored = onnx.load(str(path)).graph
    source = draw_graph(path).source
    nodes = re.findall(r"^\s*(\w+) \[label=", source, re.M)
    assert len(nodes) == len(stored.node) + len(stored.input) + len(stored.output)
    boxes = re.findall(r'label="?(layer[\d.]*)"? labeljust', source)
    assert sorted(set(boxes)) == ["layer1", "layer1.0", "layer1.1", "layer1.2", "layer2", "layer2.0", "layer2.1",
                                  "layer2.2", "layer3", "layer3.0", "layer3.1", "layer3.2"]


def test_onnx_picture_errors(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_cnn.onnx import export

    path = tmp_path / "seed.onnx"
    export(seed_cnn().eval(), tc.randn(2, 1, 28, 28), path)
    with pytest.raises(FileNotFoundError, match="no ONNX file"):
        draw_graph(tmp_path / "missing.onnx")
    with pytest.raises(TypeError, match="draw_graph: unknown option\\(s\\) colour"):
        draw_graph(path, colour="red")


def test_several_outputs_and_torchvizs_make_dot(tmp_path):
    """The double-backward tutorial's picture: grad_x, x and out named, grad_x built from x."""
    from visualize import make_dot

    class Square(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    x = tc.tensor(1.0, requires_grad=True).clone()
    out = Square.apply(x)
    (grad_x,) = tc.autograd.grad(out, x, create_graph=True)
    text = svg_text(save(make_dot((grad_x, x, out), {"grad_x": grad_x, "x": x, "out": out}), tmp_path / "g.svg"))
    for word in ("grad_x", "out", "Square", "Mul", "Clone"):
        assert word in text, word
    with pytest.raises(TypeError, match="several in a tuple or list"):
        draw_graph([out, 3])


def _declared(source, kind):
    import re
    return re.findall(rf'^\s*{kind}\d+_0 \[label="([^\\"]*)', source, re.M)


def test_depth_draws_modules_that_deep_as_one_node_each():
    """torchview's depth: 1 draws the model's children (collapse_modules=True), 2 ResNet-20's
    residual blocks, None every operation; modules without submodules above the depth show
    their operations."""
    from tinygrad_cnn.models import resnet20
    model = resnet20(in_channels=1, num_classes=10)
    loss = F.cross_entropy(model(tc.randn(2, 1, 28, 28)), Tensor(np.array([1, 2])))
    loss.backward()
    assert draw_graph(loss, depth=1).source == draw_graph(loss, collapse_modules=True).source
    assert {label.split(":")[0] for label in _declared(draw_graph(loss, depth=1).source, "module")} == {
        "conv1", "bn1", "relu", "layer1", "layer2", "layer3", "avgpool", "fc"}
    blocks = _declared(draw_graph(loss, depth=2).source, "module")
    assert sorted(label.split(":")[0] for label in blocks) == [f"layer{i}.{j}" for i in (1, 2, 3) for j in range(3)]
    assert all("parameters" in label and "‖grad‖" in label for label in blocks)
    everything = draw_graph(loss, depth=None).source
    assert not _declared(everything, "module")
    assert len(_declared(everything, "op")) > len(_declared(draw_graph(loss, depth=3).source, "op")) > 0
    (whole,) = _declared(draw_graph(loss, depth=0).source, "module")  # depth 0: the model is one node
    assert whole.startswith("CifarResNet()") and "272,186 parameters" in whole
    with pytest.raises(ValueError, match="depth must be None or an int >= 0"):
        draw_graph(loss, depth=-1)
    with pytest.raises(ValueError, match="collapse_modules=True is depth=1"):
        draw_graph(loss, collapse_modules=True, depth=2)


def laid_out_nodes(graph):
    """The nodes dot lays out (``dot -Tplain`` writes one ``node`` line per node)."""
    import subprocess

    plain = subprocess.run(["dot", "-Tplain"], input=graph.source.encode(), capture_output=True, check=True)
    return sum(1 for line in plain.stdout.decode().splitlines() if line.startswith("node "))


def test_depth_keeps_resnet18_readable():
    """torchvision's ResNet-18: depth=1 < depth=2 <= 60 nodes < every primitive."""
    from tinygrad_cnn.models import resnet18
    tc.manual_seed(0)
    loss = F.cross_entropy(resnet18(num_classes=10)(tc.randn(2, 3, 32, 32)), Tensor(np.array([1, 2])))
    loss.backward()
    counts = [laid_out_nodes(draw_graph(loss, depth=depth)) for depth in (1, 2, None)]
    assert counts[0] < counts[1] <= 60 < counts[2], counts
