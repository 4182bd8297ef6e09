"""The explorer's content, read from the page it writes: views per module, recordings, sizes.

Its behaviour in a browser is tested in test_explorer_browser.py.
"""
import json
import re

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
import visualize
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.debug import flags
from tinygrad_cnn.models import resnet20, seed_cnn


def page_data(path):
    """The JSON the page embeds."""
    text = path.read_text()
    match = re.search(r'<script type="application/json" id="scene">(.*?)</script>', text, re.S)
    return json.loads(match.group(1).replace("<\\/", "</"))


def all_items(data):
    return [(path, key, item) for path, view in data["views"].items() for key, item in view["items"].items()]


def seed_step(batch=4):
    tc.manual_seed(0)
    model = seed_cnn()
    x = tc.randn(batch, 1, 28, 28)
    y = Tensor(np.arange(batch) % 10)
    with visualize.record() as recording:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    return model, loss, recording


def test_recording_summarises_values_and_the_gradients_that_arrive():
    """A ReLU's record holds its output's statistics (the fraction of dead units among them)
    and the gradient that reached it; backward's order is the engine's."""
    x = Tensor(np.array([[-1.0, 2.0, 0.0, 3.0]]), requires_grad=True)
    w = Tensor(np.array([[0.5, -1.0, 2.0, 4.0]]))
    with visualize.record() as recording:
        y = x.relu()
        loss = (y * w).sum()
        loss.backward()
    relu = y.grad_fn
    values, gradient = recording[relu].values[0], recording[relu].gradients[0]
    assert values == pytest.approx(dict(min=0.0, mean=1.25, max=3.0, std=np.std([0, 2, 0, 3]), zeros=0.5,
                                        norm=np.sqrt(13)))
    assert gradient == pytest.approx(dict(min=-1.0, mean=1.375, max=4.0, std=np.std([0.5, -1, 2, 4]), zeros=0.0,
                                          norm=np.sqrt(21.25)))
    assert recording[relu].saved_bytes == y.numpy().nbytes  # ReLU's backward reads its output
    order = recording.backward_order
    assert [n.name for n in order] == ["Sum", "Mul", "Relu"]
    assert [recording[n].backward_step for n in order] == [0, 1, 2]


def test_recording_stops_at_the_end_of_the_block():
    """Outside the block nothing is observed: the switch is restored, the hooks are gone, and a
    second backward changes no record."""
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    with visualize.record() as recording:
        y = (x * 3).relu()
        z = y.sum()
    assert flags.observer is None and not flags.sites
    z.backward()
    assert recording[y.grad_fn].gradients == [None] and recording.backward_order == []
    assert all(not hooks for node in (y.grad_fn, z.grad_fn) for hooks in (node.tensor_hooks or {}).values())
    outside = (x * 2).sum()
    assert outside.grad_fn not in recording and outside.grad_fn.creation_site is None


def test_recorded_nonfinite_values_are_counted():
    x = Tensor(np.array([1.0, 0.0, -1.0]), requires_grad=True)
    with visualize.record() as recording, np.errstate(divide="ignore", invalid="ignore"):
        y = x.log()
    stats = recording[y.grad_fn].values[0]
    assert stats["nonfinite"] == pytest.approx(2 / 3) and np.isnan(stats["mean"])


def test_page_views_follow_the_modules(tmp_path):
    """One view per module that ran operations; the root view shows the model's children as
    module nodes; every operation sits in exactly one view, its module's."""
    model, loss, recording = seed_step()
    data = page_data(visualize.to_html(loss, tmp_path / "seed.html", recording=recording))
    children = [name for name, _ in model.named_children()]
    assert set(data["views"]) == {""} | set(children)
    root = data["views"][""]
    assert sorted(i["path"] for i in root["items"].values() if i["kind"] == "module") == sorted(children)
    assert all(i["opens"] == i["path"] for i in root["items"].values() if i["kind"] == "module")
    ops = [(path, key) for path, key, item in all_items(data) if item["kind"] == "op"]
    assert len(ops) == len({key for _, key in ops})  # each operation once
    for path, _, item in all_items(data):
        if item["kind"] == "op":
            assert item["path"] == path and item["details"]["module"] in (path, None)
    conv = next(i for _, _, i in all_items(data) if i["kind"] == "op" and i["details"]["primitive"] == "Conv2d")
    assert conv["details"]["settings"] == dict(stride="1", padding="0", dilation="1", groups="1")
    output = conv["details"]["outputs"][0]
    assert output["shape"] == "4×32×26×26" and set(output["values"]) >= {"min", "mean", "max", "std", "zeros"}
    assert output["gradient"]["norm"] > 0 and conv["details"]["site"].startswith(__file__)
    relu = data["views"]["1"]["items"]
    (relu_op,) = [i for i in relu.values() if i["kind"] == "op"]
    assert 0 < relu_op["details"]["outputs"][0]["values"]["zeros"] < 1  # the dead fraction
    svg = data["views"][""]["svg"]
    assert '<g id="n0" class="node op"' not in svg  # (root holds modules here, the ops are inside)
    assert re.search(r'<g id="m\d+" class="node module" data-path="0">', svg)
    assert re.search(r'<g id="n\d+" class="node op" data-path="1">', data["views"]["1"]["svg"])


def test_backward_order_is_recorded_and_each_step_names_its_view(tmp_path):
    _, loss, recording = seed_step()
    data = page_data(visualize.to_html(loss, tmp_path / "seed.html", recording=recording))
    order = data["order"]
    assert len(order) == len(recording.backward_order) == 16
    first = data["views"][order[0]["view"]]["items"][order[0]["id"]]
    assert first["details"]["primitive"] == "NllLoss" and first["details"]["backward_step"] == 1
    for step, entry in enumerate(order, 1):
        assert data["views"][entry["view"]]["items"][entry["id"]]["details"]["backward_step"] == step
    gradients = [e["gradient"] for view in data["views"].values() for e in view["edges"].values() if e["gradient"]]
    assert gradients and all(g.startswith("‖grad‖ ") for g in gradients)


def test_without_a_recording_the_page_shows_what_the_graph_knows(tmp_path):
    """Shapes, settings, parameters and their gradients; stepping still follows backward's order."""
    tc.manual_seed(0)
    model = seed_cnn()
    loss = F.cross_entropy(model(tc.randn(2, 1, 28, 28)), Tensor([1, 2]))
    loss.backward()
    data = page_data(visualize.to_html(loss, tmp_path / "plain.html"))
    assert not data["recorded"] and len(data["order"]) == 16
    leaves = {i["details"]["name"]: i["details"] for _, _, i in all_items(data) if i["kind"] == "leaf"}
    weight = leaves["0.weight"]
    assert weight["shape"] == "32×1×3×3" and weight["gradient"]["norm"] == pytest.approx(
        float(np.linalg.norm(model[0].weight.grad.numpy())), rel=1e-3)
    ops = [i["details"] for _, _, i in all_items(data) if i["kind"] == "op"]
    assert all("values" not in o["outputs"][0] for o in ops)
    assert all(o["saved_bytes"] is None for o in ops)  # backward freed them


def test_two_calls_of_one_module_are_two_nodes(tmp_path):
    """A ResNet block runs its ReLU module twice: two nodes in the block's view, not a loop."""
    tc.manual_seed(0)
    loss = F.cross_entropy(resnet20()(tc.randn(2, 3, 32, 32)), Tensor([1, 2]))
    data = page_data(visualize.to_html(loss, tmp_path / "resnet.html"))
    block = data["views"]["layer1.0"]
    relus = [key for key, i in block["items"].items() if i["kind"] == "module" and i["path"] == "layer1.0.relu"]
    assert len(relus) == 2
    assert "relu: ReLU(inplace=True) (call 1)" in block["svg"] and "(call 2)" in block["svg"]
    assert data["views"]["layer1.0"]["parent"] == "layer1" and data["views"]["layer1"]["parent"] == ""
    entering = [i for i in block["items"].values() if i["kind"] == "boundary" and i["goto"]]
    assert len(entering) == 1 and entering[0]["details"]["produced_by"] == "Relu in relu"


def test_highlighted_nodes_and_the_modules_around_them(tmp_path):
    tc.manual_seed(0)
    model = seed_cnn()
    loss = F.cross_entropy(model(tc.randn(2, 1, 28, 28)), Tensor([1, 2]))
    conv = next(n for n in tc.autograd.topological_order([loss.grad_fn]) if n.name == "Conv2d")
    data = page_data(visualize.to_html(loss, tmp_path / "h.html", highlight=conv))
    assert re.search(r'class="node module highlight" data-path="3"', data["views"][""]["svg"])
    assert re.search(r'class="node op highlight" data-path="3"', data["views"]["3"]["svg"])
    assert "highlight" not in data["views"]["0"]["svg"]


def test_the_page_runs_the_step_itself_given_a_model(tmp_path):
    tc.manual_seed(0)
    model = seed_cnn()
    path = visualize.to_html(path=tmp_path / "step.html", model=model, inputs=tc.randn(2, 1, 28, 28),
                             target=Tensor([1, 2]))
    data = page_data(path)
    assert data["recorded"] and data["title"] == "Sequential" and len(data["order"]) == 16
    assert model[0].weight.grad is not None
    forward_only = page_data(visualize.to_html(path=tmp_path / "f.html", model=model, inputs=tc.randn(2, 1, 28, 28)))
    assert forward_only["recorded"] and forward_only["order"]  # (nothing ran backward: its order is the engine's)


def test_bad_arguments(tmp_path):
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="to_html: expected the Tensor a computation produced"):
        visualize.to_html(3, tmp_path / "x.html")
    with pytest.raises(ValueError, match="to_html: the output has no graph"):
        visualize.to_html(Tensor(np.ones(2)), tmp_path / "x.html")
    with pytest.raises(TypeError, match="model= needs inputs="):
        visualize.to_html(path=tmp_path / "x.html", model=nn.ReLU())
    with pytest.raises(ValueError, match="rankdir must be"):
        visualize.to_html(x * 2, tmp_path / "x.html", rankdir="sideways")
    with pytest.raises(TypeError, match="highlight takes graph nodes"):
        visualize.to_html(x * 2, tmp_path / "x.html", highlight=x)
    assert not (tmp_path / "x.html").exists()


def test_a_graph_outside_any_module(tmp_path):
    """No module: one view, every operation in it, inputs and output drawn."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    data = page_data(visualize.to_html(y, tmp_path / "plain.html"))
    assert list(data["views"]) == [""]
    kinds = sorted(i["kind"] for i in data["views"][""]["items"].values())
    assert kinds == ["leaf", "op", "op", "output"]


def test_no_array_is_embedded_and_densenets_page_stays_a_few_megabytes(tmp_path):
    """DenseNet-121 (436 primitives in forward, 433 views): statistics only, never an array."""
    from tinygrad_cnn.models import densenet121

    tc.manual_seed(0)
    model = densenet121(num_classes=10)
    with visualize.record() as recording:
        loss = F.cross_entropy(model(tc.randn(2, 3, 32, 32)), Tensor([1, 2]))
        loss.backward()
    path = visualize.to_html(loss, tmp_path / "densenet.html", recording=recording)
    size = path.stat().st_size
    assert size < 6_000_000, f"{size:,} bytes"
    data = page_data(path)
    assert len(data["views"]) > 400
    assert sum(1 for _, _, i in all_items(data) if i["kind"] == "op") > 400

    def arrays(value):
        if isinstance(value, list):
            yield value
            for v in value:
                yield from arrays(v)
        elif isinstance(value, dict):
            for v in value.values():
                yield from arrays(v)
    lists = [v for v in arrays({k: v for k, v in data.items()}) if any(isinstance(x, (int, float)) for x in v)]
    assert lists == []  # every number is a named statistic
    assert not re.search(r"(-?\d+\.\d+,\s*){16}", path.read_text())  # nor an array written as text


def test_an_onnx_file_has_views_operators_and_weight_statistics(tmp_path):
    onnx = pytest.importorskip("onnx")
    from tinygrad_cnn.onnx import export

    model = resnet20(in_channels=1, num_classes=10).eval()
    path = tmp_path / "resnet20.onnx"
    export(model, tc.randn(2, 1, 28, 28), path)
    data = page_data(visualize.to_html(path, tmp_path / "onnx.html"))
    stored = onnx.load(str(path)).graph
    ops = [i for _, _, i in all_items(data) if i["kind"] == "op"]
    assert len(ops) == len(stored.node) and data["order"] == [] and data["kind"] == "onnx"
    assert {"layer1", "layer1.0", "layer3.2"} <= set(data["views"])
    conv = next(o for o in ops if o["details"]["name"].startswith("conv1/"))
    (weight,) = conv["details"]["weights"].values()
    assert weight["shape"] == "16×1×3×3" and weight["values"]["std"] == pytest.approx(
        float(model.conv1.weight.numpy().std()), rel=1e-3)
    assert conv["details"]["settings"]["kernel_shape"] == "3"
    relus = [i for i in data["views"]["layer1.0"]["items"].values() if i["kind"] == "module"
             and i["path"] == "layer1.0.relu"]
    assert len(relus) == 2
