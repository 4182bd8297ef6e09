"""The explorer in a real browser (Debian's Chromium driven by Playwright): the page contract.

Loads offline, drills down and Back, details on hover, search, stepping through backward,
highlights. Set TINYGRAD_CNN_SCREENSHOTS=1 to refresh docs/explorer.png, the README's picture,
from test_the_readme_screenshot.
"""
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
import visualize
from tinygrad_cnn import Tensor
from tinygrad_cnn.models import resnet20

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def resnet_step():
    tc.manual_seed(0)
    model = resnet20()
    with visualize.record() as recording:
        loss = F.cross_entropy(model(tc.randn(2, 3, 32, 32)), Tensor(np.array([1, 2])))
        loss.backward()
    return model, loss, recording


@pytest.fixture(scope="module")
def resnet_page(resnet_step, tmp_path_factory):
    _, loss, recording = resnet_step
    return visualize.to_html(loss, tmp_path_factory.mktemp("explorer") / "resnet20.html", recording=recording,
                             title="ResNet-20")


@dataclass
class Opened:
    """A page and what went wrong on it: script errors and requests that left the file."""

    page: object
    errors: list = field(default_factory=list)
    requests: list = field(default_factory=list)

    def hash(self):
        return self.page.evaluate("decodeURIComponent(location.hash)")

    def paths(self, kind):
        return self.page.eval_on_selector_all(f"#canvas g.{kind}", "nodes => nodes.map(n => n.dataset.path)")


@pytest.fixture
def opened(browser):
    context = browser.new_context(viewport=dict(width=1280, height=800))
    page = context.new_page()
    result = Opened(page)
    page.on("pageerror", lambda error: result.errors.append(str(error)))
    page.on("console", lambda message: result.errors.append(message.text) if message.type == "error" else None)

    def offline(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            result.requests.append(route.request.url)
            route.abort()
    context.route("**/*", offline)
    yield result
    context.close()
    assert result.errors == []


def test_the_page_loads_offline_and_opens_at_depth_one(opened, resnet_page, resnet_step):
    model = resnet_step[0]
    opened.page.goto(resnet_page.as_uri())
    assert opened.requests == []
    assert opened.page.text_content("#breadcrumbs") == "ResNet-20"
    assert sorted(opened.paths("module")) == sorted(name for name, _ in model.named_children())
    assert set(opened.paths("op")) == {""}  # the loss, outside the model
    assert "Hover over a node" in opened.page.text_content("#details")


def test_drilling_down_and_back(opened, resnet_page):
    page = opened.page
    page.goto(resnet_page.as_uri())
    page.click('g.module[data-path="layer1"]')
    assert opened.hash() == "#layer1"
    assert sorted(opened.paths("module")) == ["layer1.0", "layer1.1", "layer1.2"]
    page.click('g.module[data-path="layer1.0"]')
    assert opened.hash() == "#layer1.0"
    assert page.text_content("#breadcrumbs") == "ResNet-20›layer1›0"
    assert {"layer1.0.conv1", "layer1.0.bn2", "layer1.0.relu"} <= set(opened.paths("module"))
    assert opened.paths("op") == ["layer1.0"]  # the residual Add
    page.go_back()
    assert opened.hash() == "#layer1" and "layer1.0" in opened.paths("module")
    page.go_back()
    assert opened.hash() == "" and "layer3" in opened.paths("module")
    page.go_forward()
    page.click('#breadcrumbs a:has-text("ResNet-20")')
    page.wait_for_selector('g.module[data-path="layer3"]')  # (the link's view is drawn after its hash changes)
    assert opened.hash() == "" and page.url.endswith("#") and "layer3" in opened.paths("module")


def test_details_on_hover(opened, resnet_page):
    page = opened.page
    page.goto(resnet_page.as_uri() + "#layer1.0.conv1")
    page.hover("g.op")
    text = page.text_content("#details")
    for part in ("Conv2d", "stride", "output 0", "16×16×3×3", "values", "zeros", "gradient arriving", "norm",
                 "saved for backward", "created at", "backward step"):
        assert part in text, part
    page.hover('g.leaf')
    assert "layer1.0.conv1.weight" in page.text_content("#details")
    page.goto(resnet_page.as_uri() + "#")
    page.hover('g.module[data-path="layer2"]')
    text = page.text_content("#details")
    assert "Sequential" in text and "parameters" in text and "gradient norm" in text and "Click to open" in text


def test_search_finds_nodes_by_name_and_module_path(opened, resnet_page):
    page = opened.page
    page.goto(resnet_page.as_uri())
    page.fill("#search", "layer2.1.conv2")
    assert page.is_visible("#search-results")
    assert "conv2: Conv2d" in page.text_content("#search-results li")
    page.press("#search", "Enter")
    assert opened.hash() == "#layer2.1"
    assert page.get_attribute('g.module[data-path="layer2.1.conv2"]', "class") == "node module selected"
    page.fill("#search", "MatMul")  # an operation: its module's view opens
    page.click("#search-results li")
    assert opened.hash() == "#fc" and "selected" in page.get_attribute('g.op:has-text("MatMul")', "class")
    page.fill("#search", "no such node")
    assert not page.is_visible("#search-results")


def test_stepping_walks_backward_and_opens_modules_by_itself(opened, resnet_page, resnet_step):
    page = opened.page
    recording = resnet_step[2]
    steps = len(recording.backward_order)
    page.goto(resnet_page.as_uri())
    page.get_by_role("button", name="Step backward").click()
    assert page.text_content("#step-status") == f"backward step 1 of {steps}: NllLoss"
    assert page.text_content("#details h2") == "NllLoss"
    assert page.locator("g.node.current").count() == 1
    seen = [opened.hash()]
    for _ in range(steps - 1):
        page.keyboard.press("ArrowRight")
        seen.append(opened.hash())
    assert page.is_disabled("#step")
    expected = ["#" + (node.module_path or "") for node in recording.backward_order]
    assert [h or "#" for h in seen] == [e if e != "#" else "#" for e in expected]
    assert "#layer1.0.conv1" in seen  # a module stepped through opened by itself
    last = recording.backward_order[-1]
    assert page.text_content("#details h2") == last.name
    inside = next(i for i, node in enumerate(recording.backward_order) if node.module_path == "layer1.0.conv1")
    for _ in range(steps - 1 - inside):
        page.keyboard.press("ArrowLeft")
    assert page.text_content("#step-status") == f"backward step {inside + 1} of {steps}: Conv2d in layer1.0.conv1"
    page.goto(resnet_page.as_uri() + "#layer1.0")  # the module around the current node is current too
    assert opened.paths("module.current") == ["layer1.0.conv1"]
    page.goto(resnet_page.as_uri() + "#fc")
    assert page.locator("g.edge.gradient").count() > 0  # gradients arrived along every edge of fc
    labels = page.eval_on_selector_all("text.gradient-label", "nodes => nodes.map(n => n.textContent)")
    assert labels and all(label.startswith("‖grad‖ ") for label in labels)


def test_highlighted_nodes_are_marked(opened, resnet_step, tmp_path):
    loss = resnet_step[1]
    node = next(n for n in tc.autograd.topological_order([loss.grad_fn]) if n.module_path == "layer2.0.bn1")
    path = visualize.to_html(loss, tmp_path / "h.html", highlight=node)
    page = opened.page
    page.goto(path.as_uri())
    assert opened.page.eval_on_selector_all("g.highlight", "n => n.map(x => x.dataset.path)") == ["layer2"]
    page.goto(path.as_uri() + "#layer2.0.bn1")
    assert page.locator("g.op.highlight").count() == 1


def test_an_onnx_page(opened, tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_cnn.onnx import export

    path = tmp_path / "resnet20.onnx"
    export(resnet20().eval(), tc.randn(1, 3, 32, 32), path)
    page = opened.page
    page.goto(visualize.to_html(path, tmp_path / "onnx.html").as_uri())
    assert page.is_disabled("#step") and "no backward" in page.text_content("#step-status")
    page.click('g.module[data-path="layer1"]')
    page.click('g.module[data-path="layer1.0"]')
    page.hover('g.module[data-path="layer1.0.conv1"]')
    page.click('g.module[data-path="layer1.0.conv1"]')
    page.hover("g.op")
    text = page.text_content("#details")
    assert "Conv" in text and "layer1.0.conv1.weight" in text and "std" in text


def test_the_readme_screenshot(opened, resnet_page, tmp_path):
    """The picture in the README: a residual block, mid-way through stepping backward."""
    page = opened.page
    page.goto(resnet_page.as_uri())
    step = page.get_by_role("button", name="Step backward")
    while opened.hash() != "#layer3.2.conv2":
        step.click()
    page.goto(resnet_page.as_uri() + "#layer3.2")  # (the block around it, as a learner would look)
    page.hover('g.module[data-path="layer3.2.bn2"]')
    target = DOCS / "explorer.png" if os.environ.get("TINYGRAD_CNN_SCREENSHOTS") else tmp_path / "explorer.png"
    page.screenshot(path=str(tmp_path / "explorer.png"))
    if target != tmp_path / "explorer.png":
        shutil.copyfile(tmp_path / "explorer.png", target)
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
