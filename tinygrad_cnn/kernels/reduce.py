"""Sums over several axes as BLAS matrix-vector products.

Which form a sum takes is a plan (``plan_sum``): "ones @ rows" when the summed axes are the
outermost in memory, "rows @ ones" when they are the innermost, else "numpy" (``np.sum``);
``explain`` prints it, and the tests force every form on the same arrays.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .explain import Choice, note, recording_now
from .linalg import matmul, matmul_inner

FORMS = ("ones @ rows", "rows @ ones", "numpy")
SMALL_SUM = 1 << 14  # elements below which np.sum's own loop is as fast
_WHY = {
    "ones @ rows": "the summed axes are the outermost in memory: a row of ones times the array as rows, at "
                   "BLAS's speed (idea 2)",
    "rows @ ones": "the summed axes are the innermost in memory: the array as rows times a column of ones "
                   "(idea 2)",
    "numpy": "integers, a small array, all or none of the axes, or summed axes between kept ones in memory: "
             "np.sum",
}


class _Placement(NamedTuple):
    """Where the summed axes lie in x's memory: first (``outer``) or last (``inner``), with x's
    axes in memory order as a view and the kept axes in that order."""

    outer: bool
    inner: bool
    in_memory_order: np.ndarray
    kept: list[int]


def _placement(x: np.ndarray, dims: tuple[int, ...]) -> _Placement | None:
    """None when x's memory is not one block in some order of its axes."""
    order = sorted(range(x.ndim), key=lambda d: -x.strides[d])
    in_memory_order = x.transpose(order)
    if not in_memory_order.flags.c_contiguous:
        return None
    summed, count = sorted(order.index(d) for d in dims), len(dims)
    return _Placement(summed == list(range(count)), summed == list(range(x.ndim - count, x.ndim)), in_memory_order,
                      [d for d in order if d not in dims])


def _form(x: np.ndarray, dims: tuple[int, ...]) -> tuple[str, _Placement | None]:
    """The form the rules choose (see ``_WHY``), and the placement it was read from."""
    if x.dtype.kind != "f" or x.size < SMALL_SUM or not dims or len(dims) == x.ndim:
        return "numpy", None
    placed = _placement(x, dims)
    if placed is None or not (placed.outer or placed.inner):
        return "numpy", placed
    return ("ones @ rows" if placed.outer else "rows @ ones"), placed


def plan_sum(x: np.ndarray, dims: tuple[int, ...], form: str | None = None) -> Choice:
    """The form of ``x.sum(dims)`` and why; ``form`` forces one that can run (any in FORMS
    whose summed axes lie where it needs them in memory)."""
    operands = f"{x.shape} over axes {tuple(dims)}"
    if form is None:
        chosen = _form(x, dims)[0]
        return Choice("sum_axes", operands, chosen, _WHY[chosen])
    placed = _placement(x, dims) if dims else None
    runs = {"numpy": True, "ones @ rows": placed is not None and placed.outer,
            "rows @ ones": placed is not None and placed.inner}
    if not runs.get(form, False):
        raise ValueError(f"sum_axes: cannot sum {operands} as {form!r}; the forms are {FORMS}, "
                         "the matrix-vector ones for summed axes outermost or innermost in memory")
    return Choice("sum_axes", operands, form, "asked for")


def sum_axes(x: np.ndarray, dims: tuple[int, ...], form: str | None = None) -> np.ndarray:
    """``x.sum(dims)``, as one matrix-vector product when the summed axes are the outer (or
    the inner) ones in memory: BLAS runs that several times faster than ``np.sum`` over
    strided axes (bias gradients, batch-norm statistics)."""
    placed = None
    if form is None and not recording_now():  # (no plan object on the hot path)
        form, placed = _form(x, dims)
    else:
        plan = plan_sum(x, dims, form)
        note(plan)
        form = plan.backend
    if form == "numpy":
        return np.sum(x, axis=dims)
    in_memory_order, kept = (placed or _placement(x, dims))[2:]
    kept_size = math.prod(x.shape[d] for d in kept)
    if form == "ones @ rows":
        rows = in_memory_order.reshape(-1, kept_size)
        result = matmul_inner(np.ones((1, rows.shape[0]), dtype=x.dtype), rows)
    else:
        rows = in_memory_order.reshape(kept_size, -1)
        result = matmul(rows, np.ones((rows.shape[1], 1), dtype=x.dtype))
    result = result.reshape([x.shape[d] for d in kept])
    return result.transpose(np.argsort(kept))  # back to the kept axes' logical order


def sum_axes_reference(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    return np.sum(x, axis=dims)
