"""The convolution kernels: each call asks the planner for a plan, then runs its backend.

"live window" and "as convolution" are reductions: they turn the problem into a smaller or
equivalent one and call a kernel again, which plans it afresh. Plans made while a backend
runs (a reduction's, the matrix products') are noted one level under its own.
"""
from __future__ import annotations

import numpy as np

from ... import windows
from ..explain import run_noted
from ..reduce import sum_axes
from . import depthwise, im2col, narrow, reference, transposed
from .group_rows import add_bias
from .im2col import Columns
from .live_window import live_input, live_kernel, live_size, poisoned_channels
from .planner import Plan, Problem, plan_call

Pair = tuple[int, int]


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair, padding: Pair,
           dilation: Pair, groups: int, columns_wanted: bool = True,
           backend: str | None = None) -> tuple[np.ndarray, Columns | None]:
    """The convolution, and x's im2col matrix for the weight gradient to reuse where the
    backend built one (None otherwise; ``columns_wanted`` off lets it keep none)."""
    out_hw = windows.output_hw(x.shape, weight.shape[2:], stride, padding, dilation)
    chosen = plan_call("conv2d", x, weight.shape, out_hw, stride, padding, dilation, groups, bias is not None,
                       keep_columns=columns_wanted, backend=backend)
    return run_noted(chosen, _CONV2D[chosen.backend], x, weight, bias, chosen)


def conv2d_weight(x: np.ndarray, grad_out: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                  dilation: Pair, groups: int, columns: Columns | None = None, with_bias: bool = False,
                  backend: str | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """d(conv2d)/d(weight) contracted with ``grad_out``; ``columns`` is x's im2col when the
    forward kept it. With ``with_bias``, also the bias gradient: free when the columns carry a
    ones entry, else a sum."""
    weight, bias = _conv2d_weight(x, grad_out, kernel, stride, padding, dilation, groups, columns, backend)
    if not with_bias:
        return weight
    return weight, (sum_axes(grad_out, (0, 2, 3)) if bias is None else bias)


def _conv2d_weight(x: np.ndarray, grad_out: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                   dilation: Pair, groups: int, columns: Columns | None,
                   backend: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The weight gradient, and the bias gradient where the backend got it as a by-product."""
    weight_shape = (grad_out.shape[1], x.shape[1] // groups, *kernel)
    chosen = plan_call("conv2d_weight", x, weight_shape, grad_out.shape[2:], stride, padding, dilation, groups,
                       columns_given=columns is not None, backend=backend)
    return run_noted(chosen, _CONV2D_WEIGHT[chosen.backend], x, grad_out, chosen, columns)


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, out_hw: Pair, stride: Pair,
                     padding: Pair, dilation: Pair, groups: int, backend: str | None = None) -> np.ndarray:
    """The adjoint of conv2d (its input gradient): every input pixel's weighted kernel added
    into the output, which has size ``out_hw``."""
    chosen = plan_call("conv_transpose2d", x, weight.shape, out_hw, stride, padding, dilation, groups,
                       bias is not None, backend=backend)
    return run_noted(chosen, _CONV_TRANSPOSE2D[chosen.backend], x, weight, bias, chosen)


conv2d_reference = reference.conv2d
conv2d_weight_reference = reference.conv2d_weight
conv_transpose2d_reference = reference.conv_transpose2d


# --------------------------------------------------------------------------- reductions

def _conv2d_live(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                 plan: Plan) -> tuple[np.ndarray, Columns | None]:
    """The padding-0 convolution of the offsets that touch the input; a left-out weight that is
    infinite or NaN makes its channel NaN, as PyTorch's multiplication by the padding does."""
    p, live = plan.problem, plan.options["offsets"]
    out, columns = conv2d(live_input(x, live, p.stride, p.padding, p.dilation, p.out_hw),
                          live_kernel(weight, live), bias, p.stride, (0, 0), p.dilation, p.groups, p.keep_columns)
    poisoned = poisoned_channels(weight, live)
    if poisoned is not None:
        out[:, poisoned] = np.nan
    return out, columns


def _conv2d_weight_live(x: np.ndarray, grad_out: np.ndarray, plan: Plan,
                        columns: Columns | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The live offsets' gradient, zeros elsewhere (NaN for channels whose output gradient is
    not finite: inf * 0 and NaN * 0, as PyTorch's im2col gives)."""
    p, live = plan.problem, plan.options["offsets"]
    part, bias = _conv2d_weight(live_input(x, live, p.stride, p.padding, p.dilation, p.out_hw), grad_out,
                                live_size(live), p.stride, (0, 0), p.dilation, p.groups, columns)
    weight = np.zeros(p.weight_shape, dtype=part.dtype)
    weight[~np.isfinite(grad_out).all(axis=(0, 2, 3))] = np.nan
    (i0, i1), (j0, j1) = live
    weight[:, :, i0:i1 + 1, j0:j1 + 1] = part
    return weight, bias


def _conv_transpose2d_live(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, plan: Plan) -> np.ndarray:
    """The live offsets' scatter, placed inside the padded output (the rest is padding)."""
    p, live = plan.problem, plan.options["offsets"]
    (i0, i1), (j0, j1) = live
    block_hw = tuple((size - 1) * p.stride[a] + (last - first) * p.dilation[a] + 1
                     for a, (size, (first, last)) in enumerate(zip(x.shape[2:], live)))
    block = conv_transpose2d(x, live_kernel(weight, live), None, block_hw, p.stride, (0, 0), p.dilation, p.groups)
    padded = np.zeros((x.shape[0], p.out_hw[0] + 2 * p.padding[0], p.out_hw[1] + 2 * p.padding[1],
                       p.groups * weight.shape[1]), dtype=block.dtype).transpose(0, 3, 1, 2)
    top, left = i0 * p.dilation[0], j0 * p.dilation[1]
    padded[:, :, top:top + block_hw[0], left:left + block_hw[1]] = block
    return add_bias(windows.crop(padded, p.padding, p.out_hw), bias)


def _conv_transpose2d_as_convolution(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                                     plan: Plan) -> np.ndarray:
    """At stride 1, the convolution of x padded to full correlation with the flipped kernel."""
    p = plan.problem
    flipped = weight.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]  # as a convolution's (C_out, C_in, kH, kW)
    return conv2d(x, flipped, bias, p.stride, plan.options["padding"], p.dilation, p.groups,
                  columns_wanted=False)[0]


# --------------------------------------------------------------------------- backends by name

def _settings(p: Problem) -> tuple:
    return p.stride, p.padding, p.dilation


_CONV2D = {
    "live window": _conv2d_live,
    "depthwise": lambda x, w, b, plan: (depthwise.conv2d(x, w, b, *_settings(plan.problem), plan.problem.out_hw),
                                        None),
    "narrow": narrow.conv2d,
    "im2col blocked": im2col.conv2d_blocked,
    "im2col": im2col.conv2d,
    "reference": lambda x, w, b, plan: (reference.conv2d(x, w, b, *_settings(plan.problem), plan.problem.groups),
                                        None),
}
_CONV2D_WEIGHT = {
    "live window": _conv2d_weight_live,
    "saved im2col": im2col.conv2d_weight,
    "depthwise": lambda x, g, plan, _: (depthwise.conv2d_weight(x, g, plan.problem.kernel,
                                                                *_settings(plan.problem)), None),
    "im2col": lambda x, g, plan, _: im2col.conv2d_weight(x, g, plan),
    "reference": lambda x, g, plan, _: reference.conv2d_weight(x, g, plan.problem.kernel, *_settings(plan.problem),
                                                               plan.problem.groups),
}
_CONV_TRANSPOSE2D = {
    "live window": _conv_transpose2d_live,
    "depthwise": lambda x, w, b, plan: add_bias(depthwise.conv_transpose2d(x, w, plan.problem.out_hw,
                                                                           *_settings(plan.problem)), b),
    "as convolution": _conv_transpose2d_as_convolution,
    "1x1 products": lambda x, w, b, plan: transposed.one_by_one(x, w, b, plan.problem.groups),
    "scatter": lambda x, w, b, plan: transposed.scatter(x, w, b, plan.problem.out_hw, *_settings(plan.problem),
                                                        plan.problem.groups),
    "reference": lambda x, w, b, plan: reference.conv_transpose2d(x, w, b, plan.problem.out_hw,
                                                                  *_settings(plan.problem), plan.problem.groups),
}
