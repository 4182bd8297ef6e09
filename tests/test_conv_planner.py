"""The convolution planner picks the backend its rules name, for the layers those rules were
measured on, and ``tc.kernels.explain`` shows the choices without changing the caller's state.
(That every backend computes the right values is tests/test_kernels.py's job.)"""
import re
import threading
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn
from tinygrad_cnn.kernels.conv import PlanError, Problem, plan


def channels_last(*shape, requires_grad=False):
    x = tc.randn(*shape).contiguous(memory_format=tc.channels_last)
    return x.requires_grad_(requires_grad)


def convolutions(explanation):
    """The convolution steps of an explanation (the matrix products' plans left out)."""
    return [step for step in explanation if not step.plan.computes.startswith("matmul")]


def plans(fn, *inputs, **kwargs):
    """(computes, backend) of every convolution plan ``fn`` makes, forward and backward."""
    return [(step.plan.computes, step.plan.backend) for step in convolutions(tc.kernels.explain(fn, *inputs, **kwargs))]


def test_the_seed_cnn_runs_im2col_then_blocked_rows():
    """conv1 reads the NCHW batch (im2col along image rows); conv2 reads conv1's channels-last
    result (blocked rows); both weight gradients reuse the forward's im2col, and conv2's input
    gradient (64 channels in, 32 out) scatters."""
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3))
    assert plans(model, tc.randn(8, 1, 28, 28)) == [
        ("conv2d", "im2col"), ("conv2d", "im2col blocked"),
        ("conv_transpose2d", "scatter"), ("conv2d_weight", "saved im2col"), ("conv2d_weight", "saved im2col")]


def test_narrow_layers_take_two_pixels_a_row_only_where_no_rows_are_kept():
    x, weight = channels_last(4, 16, 8, 8), tc.randn(16, 16, 3, 3, requires_grad=True)
    with tc.no_grad():
        assert plans(F.conv2d, x, weight, padding=1) == [("conv2d", "narrow")]
    assert plans(F.conv2d, x, weight, padding=1)[0] == ("conv2d", "im2col blocked")  # the weight gradient reads them
    with tc.no_grad():  # 32 channels out: the wider product no longer pays
        assert plans(F.conv2d, x, tc.randn(32, 16, 3, 3), padding=1) == [("conv2d", "im2col blocked")]


def test_depthwise_layers_run_depthwise_all_three_ways():
    x, weight = channels_last(2, 8, 6, 6, requires_grad=True), tc.randn(8, 1, 3, 3, requires_grad=True)
    assert sorted(plans(F.conv2d, x, weight, padding=1, groups=8)) == [
        ("conv2d", "depthwise"), ("conv2d_weight", "depthwise"), ("conv_transpose2d", "depthwise")]


def test_a_1x1_layer_over_pixel_rows_copies_nothing():
    """Its input gradient is one product per group; with fewer channels out than in it runs as
    the 1x1 convolution of the gradient, which copies nothing either."""
    x, weight = channels_last(2, 8, 5, 5, requires_grad=True), tc.randn(16, 8, 1, 1, requires_grad=True)
    explanation = convolutions(tc.kernels.explain(F.conv2d, x, weight))
    assert [step.plan.backend for step in explanation] == ["im2col", "1x1 products", "saved im2col"]
    assert explanation[0].plan.options["copy"] == "none"
    explanation = convolutions(tc.kernels.explain(F.conv2d, x, tc.randn(4, 8, 1, 1)))
    assert [step.plan.backend for step in explanation] == ["im2col", "as convolution", "im2col"]
    assert [step.plan.options["copy"] for step in explanation if step.plan.backend == "im2col"] == ["none", "none"]


def test_a_late_layer_takes_the_weights_order_and_leaves_out_the_padding():
    """A 3x3 layer on a 1x1 image reads its input with the centre offset only; with fewer
    pixels than output channels its im2col takes the weight's order."""
    x, weight = channels_last(2, 16, 1, 1, requires_grad=True), tc.randn(32, 16, 3, 3, requires_grad=True)
    explanation = convolutions(tc.kernels.explain(F.conv2d, x, weight, padding=1))
    forward, inner = explanation[0], explanation[1]
    assert (forward.plan.backend, forward.depth) == ("live window", 0)
    assert forward.plan.options["offsets"] == ((1, 1), (1, 1))
    assert (inner.plan.backend, inner.depth, inner.plan.problem.kernel) == ("im2col", 1, (1, 1))
    assert inner.plan.options["weight_order"] is True


def test_a_stride_1_input_gradient_with_more_channels_out_runs_as_a_convolution():
    """DenseNet's 128 -> 32 layers: the input gradient has 32 channels in and 128 out."""
    x, weight = channels_last(4, 128, 8, 8, requires_grad=True), tc.randn(32, 128, 3, 3)
    explanation = convolutions(tc.kernels.explain(F.conv2d, x, weight, padding=1))
    assert [(step.plan.computes, step.plan.backend, step.depth) for step in explanation] == [
        ("conv2d", "im2col blocked", 0), ("conv_transpose2d", "as convolution", 0), ("conv2d", "im2col blocked", 1)]


def test_the_matrix_products_splits_are_explained_under_the_kernel_that_runs_them():
    """A linear layer's product at a small batch splits the weight's columns (idea 40); the
    products of a convolution's backend are noted one level under its plan."""
    layer = nn.Linear(64, 256)
    explanation = tc.kernels.explain(layer, tc.randn(4, 64), backward=False)
    assert [(step.plan.computes, step.plan.backend, step.plan.operands) for step in explanation] == [
        ("matmul", "columns", "(4, 64) @ (64, 256)")]
    assert "fewer rows of a than columns of b" in str(explanation)
    explanation = tc.kernels.explain(nn.Conv2d(3, 8, 3), tc.randn(2, 3, 6, 6), backward=False)
    assert [(step.plan.computes, step.depth) for step in explanation] == [("conv2d", 0), ("matmul", 1)]


def test_a_backend_that_cannot_run_a_problem_says_why():
    x = np.zeros((2, 6, 5, 5))
    problem = Problem.of("conv2d", x, (4, 3, 3, 3), (3, 3), (1, 1), (0, 0), (1, 1), 2)
    with pytest.raises(PlanError, match="'narrow' cannot run .*groups 2.*needs one group"):
        plan(problem, backend="narrow")
    with pytest.raises(ValueError, match="no backend named 'winograd'.*'im2col'"):
        plan(problem, backend="winograd")
    assert plan(problem, backend="reference").backend == "reference"


def test_explain_prints_each_plan_with_its_reason():
    x, weight = channels_last(2, 4, 1, 1, requires_grad=True), tc.randn(4, 4, 3, 3)
    lines = str(tc.kernels.explain(F.conv2d, x, weight, padding=1)).splitlines()
    assert lines[:3] == [
        "forward:",
        "  1. conv2d x (2, 4, 1, 1) channels-last, weight (4, 4, 3, 3), padding 1",
        "    -> live window: some kernel offsets only ever multiply padding: run with the offsets that touch",
    ]
    assert lines[3] == "       the input, as a padding-0 problem (idea 39); offsets=((1, 1), (1, 1))"
    assert lines[4] == "    2. conv2d x (2, 4, 1, 1) channels-last, weight (4, 4, 1, 1)"  # the reduction's own call
    assert "backward:" in lines
    assert str(tc.kernels.explain(F.relu, x)) == "no planned kernel ran"


def test_explain_puts_the_gradients_back():
    layer = nn.Conv2d(3, 4, 3)
    x = tc.randn(2, 3, 6, 6, requires_grad=True)
    layer.weight.grad = tc.ones(4, 3, 3, 3)
    tc.kernels.explain(layer, x)
    assert x.grad is None and layer.bias.grad is None
    np.testing.assert_array_equal(layer.weight.grad.numpy(), np.ones((4, 3, 3, 3)))


def test_explain_records_only_its_own_thread():
    seen = []
    other = threading.Thread(target=lambda: seen.append(F.conv2d(tc.randn(1, 1, 4, 4), tc.randn(1, 1, 3, 3))))
    layer = nn.Conv2d(1, 1, 3)

    def both(x):
        other.start()
        other.join()
        return layer(x)

    assert tc.kernels.explain(both, tc.randn(1, 1, 4, 4), backward=False).backends == ["im2col", "rows"]
    assert len(seen) == 1


def test_the_readme_shows_what_explain_prints(capsys):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### Which convolution path ran?"):]
    code, printed = re.search(r"```python\n(.*?)```\n\nprints\n\n```\n(.*?)```", section, flags=re.S).groups()
    exec(compile(code, "README", "exec"), {})
    assert capsys.readouterr().out == printed


def test_plans_are_remembered_per_call_and_layout(monkeypatch):
    """The same call gets the same plan object without planning again; another layout of x,
    or another setting, is planned afresh; the memory is bounded."""
    from tinygrad_cnn.kernels.conv import planner

    monkeypatch.setattr(planner, "_PLANS", {})
    x = np.zeros((2, 4, 6, 6))
    first = planner.plan_call("conv2d", x, (8, 4, 3, 3), (6, 6), (1, 1), (1, 1), (1, 1), 1)
    assert planner.plan_call("conv2d", x, (8, 4, 3, 3), (6, 6), (1, 1), (1, 1), (1, 1), 1) is first
    channels_last_x = np.zeros((2, 6, 6, 4)).transpose(0, 3, 1, 2)
    other = planner.plan_call("conv2d", channels_last_x, (8, 4, 3, 3), (6, 6), (1, 1), (1, 1), (1, 1), 1)
    assert (first.backend, other.backend) == ("im2col", "narrow")
    monkeypatch.setattr(planner, "PLANS_KEPT", 2)
    planner.plan_call("conv2d", x, (8, 4, 3, 3), (4, 4), (1, 1), (0, 0), (1, 1), 1)
    assert len(planner._PLANS) == 1  # full: forgotten, then the new one kept
