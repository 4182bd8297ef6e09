"""``explain``: the plans a piece of code makes, printed so a reader sees which backend ran
each kernel call and why.

The kernel families that choose among ways to run (the convolutions, ``conv.planner``; the
matrix products' split over the workers, ``linalg.plan_product``) make a plan object with a
``backend``, a ``computes`` and a ``__str__`` that says why. While a recording is open on a
thread, each kernel call notes its plan, and the calls its backend makes are noted one level
deeper.
"""
from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol


class Plan(Protocol):
    """What a kernel family's plan offers to ``explain``: ``str(plan)`` says what and why."""

    computes: str
    backend: str


@dataclass(frozen=True)
class Step:
    """A plan, the pass it was made in ("forward" or "backward") and how deep inside another
    kernel's backend it was made."""

    plan: Plan
    phase: str
    depth: int


class Explanation(list):
    """The ``Step``s of a run, in the order the kernels were called; ``str`` prints them."""

    def __str__(self) -> str:
        if not self:
            return "no planned kernel ran"
        lines, phase = [], None
        for number, step in enumerate(self, 1):
            if step.phase != phase:
                phase = step.phase
                lines.append(f"{phase}:")
            indent = "  " * (step.depth + 1)
            lines.extend(indent + ("" if i else f"{number}. ") + line
                         for i, line in enumerate(str(step.plan).splitlines()))
        return "\n".join(lines)

    @property
    def backends(self) -> list[str]:
        """The backends in the order they ran."""
        return [step.plan.backend for step in self]


@dataclass
class Choice:
    """The plan of a kernel with a single decision (a product's split over the workers, a
    sum's form, scale/shift's passes): what it computes on which operands, the way taken and why."""

    computes: str
    operands: str
    backend: str
    why: str

    def __str__(self) -> str:
        return describe(f"{self.computes} {self.operands}", self.backend, self.why)


_RECORDING: ContextVar[tuple[Explanation, str, int] | None] = ContextVar("tinygrad_cnn_plans", default=None)


def recording_now() -> bool:
    """Whether a recording is open on this thread: kernels that make their plan object only
    for ``explain`` ask first."""
    return _RECORDING.get() is not None


def describe(what: str, backend: str, why: str) -> str:
    """A plan's text: what is computed, then the backend and why, wrapped under it."""
    choice = textwrap.fill(f"-> {backend}: {why}", 96, subsequent_indent="   ")
    return f"{what}\n" + textwrap.indent(choice, "  ")


def note(plan: Plan) -> None:
    """Add ``plan`` to the open recording, if any."""
    active = _RECORDING.get()
    if active is not None:
        explanation, phase, depth = active
        explanation.append(Step(plan, phase, depth))


def run_noted(plan: Plan, runner: Callable[..., Any], *args: Any) -> Any:
    """``runner(*args)``; while recording, with ``plan`` noted and the plans the runner makes
    one level under it (a ContextVar read otherwise: this wraps every convolution kernel call)."""
    active = _RECORDING.get()
    if active is None:
        return runner(*args)
    explanation, phase, depth = active
    explanation.append(Step(plan, phase, depth))
    token = _RECORDING.set((explanation, phase, depth + 1))
    try:
        return runner(*args)
    finally:
        _RECORDING.reset(token)


@contextmanager
def recording(explanation: Explanation, phase: str = "forward") -> Iterator[Explanation]:
    """Note into ``explanation`` the plan of every planned kernel this thread calls."""
    token = _RECORDING.set((explanation, phase, 0))
    try:
        yield explanation
    finally:
        _RECORDING.reset(token)


def explain(fn: Callable[..., Any], *inputs: Any, backward: bool = True, **kwargs: Any) -> Explanation:
    """Call ``fn(*inputs, **kwargs)`` (a layer, a model, ``F.conv2d``) and, with ``backward``
    when its result requires grad, back-propagate ones laid out as the result (as a next
    layer's gradient would be); return the plan of every planned kernel (convolutions, matrix
    products) the two passes ran, in order. ``print`` it to read which backend ran each one and why.

    The gradients this backward computes are taken back: the ``.grad`` of ``fn``'s parameters
    and of the inputs are as they were. The call itself is a real call: a layer in training
    mode updates its running statistics, as any call does.
    """
    explanation = Explanation()
    with recording(explanation, "forward"):
        out = fn(*inputs, **kwargs)
    if backward and getattr(out, "requires_grad", False):
        parameters = fn.parameters() if callable(getattr(fn, "parameters", None)) else ()
        leaves = [t for t in (*inputs, *kwargs.values(), *parameters) if hasattr(t, "grad")]
        before = [t.grad for t in leaves]
        for leaf in leaves:  # backward adds into a gradient in place: start from none
            leaf.grad = None
        with recording(explanation, "backward"):
            out.backward(out.detach().clone().fill_(1))  # ones in the result's memory layout
        for leaf, grad in zip(leaves, before):
            leaf.grad = grad
    return explanation
