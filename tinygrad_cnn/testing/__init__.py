"""Tests for a user's own operations, in their own pytest suite: one-line gradient checks,
and the op table with the battery the library runs on its own operations.

    from tinygrad_cnn.testing import assert_gradients
    def test_my_op():
        assert_gradients(lambda x, w: my_op(x, w), (2, 3), (3, 4))

    from tinygrad_cnn import testing
    MY_OPS = [testing.OpInfo("my_op", lambda t, F, x: my_op(x), reference=my_numpy_op)]
    @testing.ops(MY_OPS)
    def test_my_ops(info):
        testing.check_op(info)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..gradcheck import GradcheckError, gradcheck, gradgradcheck
from ..tensor import Tensor
from .battery import OpCheckError, check_op, ops
from .samples import in_layout, sample_values
from .table import Input, OpInfo, Refusal, op_db

__all__ = ["assert_gradients", "random_inputs", "check_op", "ops", "OpCheckError", "OpInfo", "Input", "Refusal",
           "op_db", "sample_values", "in_layout"]


def random_inputs(*shapes: tuple[int, ...], seed: int = 0, low: float = -1.0, high: float = 1.0,
                  requires_grad: bool = True) -> tuple[Tensor, ...]:
    """Float64 tensors with uniform entries in [low, high), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return tuple(Tensor(rng.uniform(low, high, shape), requires_grad=requires_grad) for shape in shapes)


def assert_gradients(fn: Callable[..., Any], *inputs: Any, seed: int = 0, eps: float = 1e-6,
                     atol: float = 1e-5, rtol: float = 1e-3, second_order: bool = True) -> None:
    """Assert that ``fn``'s first (and second) derivatives match finite differences.

    Each input is a Tensor (used as is) or a shape (a random float64 tensor is made for it).
    Raises AssertionError saying which derivative of which input is wrong, and by how much.
    """
    shapes = [x for x in inputs if not isinstance(x, Tensor)]
    made = iter(random_inputs(*shapes, seed=seed))
    tensors = tuple(x if isinstance(x, Tensor) else next(made) for x in inputs)
    name = getattr(fn, "__name__", repr(fn))
    described = ", ".join(str(t.shape) for t in tensors)
    checks = [("first", gradcheck)] + ([("second", gradgradcheck)] if second_order else [])
    for order, check in checks:
        try:
            check(fn, tensors, eps=eps, atol=atol, rtol=rtol)
        except GradcheckError as error:
            raise AssertionError(
                f"{order} derivatives of {name} on inputs of shapes {described} are wrong: "
                f"{error} Look at the backward of the operation that input feeds "
                f"(for second derivatives: the operations its backward uses)."
            ) from None
