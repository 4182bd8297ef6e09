"""Convolution kernels: a planner and the backends it chooses among.

Every call of ``conv2d``, ``conv2d_weight`` (the weight gradient) or ``conv_transpose2d``
(also conv2d's input gradient) asks ``planner.plan`` for a ``Plan`` naming a backend, and runs it
(``dispatch``). The backends, each in its own file:

- ``im2col``: x's windows copied into a matrix along x's memory, one product per group; the
  matrix is kept for the weight gradient. "im2col blocked" copies and multiplies a few
  samples at a time while the rows are in cache.
- ``narrow``: two output pixels per im2col row, for layers of at most 16 channels.
- ``depthwise``: per-offset multiply-adds for one channel in and out per group.
- ``transposed``: the transposed convolution's per-offset scatter, and 1x1 products.
- ``reference``: plain einsums and loops, what every backend is held to.
- ``live_window``: offsets that only see padding, left out (a reduction to a smaller problem);
  a stride-1 transposed convolution can also run "as convolution" (a reduction to conv2d).

``tc.kernels.explain(fn, *inputs)`` prints the plans a call makes; ``planner.BACKENDS`` lists
the rules.
"""
from .dispatch import (
    conv2d,
    conv2d_reference,
    conv2d_weight,
    conv2d_weight_reference,
    conv_transpose2d,
    conv_transpose2d_reference,
)
from .planner import BACKENDS, Plan, PlanError, Problem, plan

__all__ = [
    "conv2d", "conv2d_weight", "conv_transpose2d", "conv2d_reference", "conv2d_weight_reference",
    "conv_transpose2d_reference", "Plan", "PlanError", "Problem", "plan", "BACKENDS",
]
