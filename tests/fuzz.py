"""A differential fuzzer: random programs over the op table, run by PyTorch and by tinygrad_cnn.

A program is an input (shape, dtype, values, memory layout) and 1 to 5 operations from
``tinygrad_cnn.testing.op_db``, each applied to the previous result, with inputs of their own
in random layouts. Both libraries run it step by step; forward values, result dtypes, shapes,
memory sharing and errors are compared at every step, then the gradients of a weighted sum of
the result with respect to every input, and for float64 programs a Hessian-vector product.

hypothesis draws the programs (derandomized: the same programs every run). ``--self-check``
runs PyTorch against itself, which must pass whole: a harness bug is never mistaken for ours.

    python tests/fuzz.py --examples 20000            # a long local run
    python tests/fuzz.py --self-check --examples 2000
    FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py     # the CI test with a bigger count
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tinygrad_cnn.testing.samples import LAYOUTS, in_layout, sample_values
from tinygrad_cnn.testing.table import Input, OpInfo, op_db

OPS: dict[str, OpInfo] = {info.name: info for info in op_db}
CI_EXAMPLES = 10000

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ArraySpec:
    """Everything needed to rebuild one input array exactly: its values come from ``seed``."""

    shape: tuple[int, ...]
    dtype: str
    kind: str = "float"
    domain: str = "real"
    high: int = 0
    layout: str = "contiguous"
    seed: int = 0
    requires_grad: bool = True
    rounded_to: str | None = None  # float values first rounded to this dtype (a float64 rerun of float32)
    jitter: float = 0.0  # a relative perturbation of real values: does the result depend on rounding?

    def make(self) -> np.ndarray:
        """A new array with these values, laid out in memory as ``layout`` says."""
        return in_layout(self.values(), self.layout)

    def values(self) -> np.ndarray:
        values = sample_values(self.shape, self.rounded_to or self.dtype, self.kind, self.domain, self.high,
                               self.seed, self.jitter)
        return values.astype(self.dtype) if self.kind == "float" else values


# --------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class Step:
    op: str
    extras: tuple[ArraySpec, ...]


@dataclass(frozen=True)
class Program:
    """An input and the operations applied to it in turn; ``grad``: recorded for backward;
    ``second_order``: a Hessian-vector product is compared too."""

    x: ArraySpec
    steps: tuple[Step, ...]
    grad: bool = True
    second_order: bool = False
    seed: int = 0
    grad_layout: str = "contiguous"  # the memory layout of the gradient that backward starts from

    @property
    def precision(self) -> str:
        """float32 when any input is float32: the tolerance every comparison uses."""
        specs = [self.x] + [e for step in self.steps for e in step.extras]
        return "float32" if any(s.dtype == "float32" for s in specs if s.kind == "float") else "float64"

    def in_float64(self) -> Program:
        """The same program with its float32 inputs in float64: the reference for float32 rounding."""
        def wider(spec: ArraySpec) -> ArraySpec:
            if spec.kind != "float" or spec.dtype != "float32":
                return spec
            return dataclasses.replace(spec, dtype="float64", rounded_to="float32")
        return self._with_inputs(wider)

    def jittered(self) -> Program:
        """The same program with its real-valued inputs moved by a few units of their precision."""
        return self._with_inputs(lambda spec: dataclasses.replace(
            spec, jitter=1e-6 if spec.dtype == "float32" else 1e-13) if spec.kind == "float" else spec)

    def contiguous(self) -> Program:
        """The same program with every input, and the gradient backward starts from, in row-major memory."""
        program = self._with_inputs(lambda spec: dataclasses.replace(spec, layout="contiguous"))
        return dataclasses.replace(program, grad_layout="contiguous")

    def _with_inputs(self, change: Callable[[ArraySpec], ArraySpec]) -> Program:
        steps = tuple(Step(s.op, tuple(map(change, s.extras))) for s in self.steps)
        return dataclasses.replace(self, x=change(self.x), steps=steps)

    def describe(self) -> str:
        return (f"x={self.x}; steps={[s.op for s in self.steps]}; extras={[s.extras for s in self.steps]}; "
                f"grad={self.grad}; second_order={self.second_order}; seed={self.seed}; "
                f"grad_layout={self.grad_layout!r}")


# --------------------------------------------------------------------------- the two libraries


class Library:
    """One library's way of running a program: its modules and the few calls that differ."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "torch":
            import torch
            import torch.nn.functional as F  # noqa: N812
            self.t, self.F, self.Tensor = torch, F, torch.Tensor
            self._grad = torch.autograd.grad
        else:
            import tinygrad_cnn as tc
            import tinygrad_cnn.functional as F  # noqa: N812
            self.t, self.F, self.Tensor = tc, F, tc.Tensor
            self._grad = tc.grad

    def tensor(self, array: np.ndarray, requires_grad: bool) -> Any:
        if self.name == "torch":
            t = self.t.from_numpy(array)
            return t.requires_grad_() if requires_grad else t
        return self.Tensor(array, requires_grad=requires_grad)

    def numpy(self, t: Any) -> np.ndarray:
        if self.name == "torch":  # force: a gradient may be a ZeroTensor; clone: numpy(force=True) of
            # some gradients (strided, from numpy memory) crashed torch 2.13 with a segmentation fault
            return t.detach().clone().numpy(force=True)
        return np.array(t.numpy(), copy=True)

    def dtype(self, t: Any) -> str:
        return str(t.dtype).replace("torch.", "")

    def memory(self, t: Any) -> tuple[int, int]:
        """The byte range a tensor's elements span, to tell whether two tensors share memory."""
        if self.name == "torch":
            if t.numel() == 0:
                return (0, 0)
            start = t.data_ptr()
            span = sum((n - 1) * s for n, s in zip(t.shape, t.stride())) * t.element_size()
            return (start, start + span + t.element_size())
        array = t.numpy()
        if array.size == 0:
            return (0, 0)
        low, high = np.lib.array_utils.byte_bounds(array)
        return (low, high)

    def no_grad(self) -> Any:
        return self.t.no_grad()

    def grad(self, outputs: Any, inputs: Sequence[Any], create_graph: bool = False) -> list[Any]:
        return list(self._grad(outputs, inputs, allow_unused=True, create_graph=create_graph,
                               retain_graph=True))


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# --------------------------------------------------------------------------- running


@dataclass
class Outcome:
    """What one library did with a program, step by step."""

    values: list[np.ndarray] = field(default_factory=list)
    dtypes: list[str] = field(default_factory=list)
    shares: list[bool] = field(default_factory=list)
    error: tuple[int, str, str] | None = None  # (step, exception class, message)
    error_classes: tuple[str, ...] = ()  # the names of the exception's classes and their bases
    grads: list[np.ndarray | None] | None = None
    hvp: list[np.ndarray | None] | None = None
    backward_error: tuple[str, str] | None = None


def adapt(x: Any, domain: str) -> Any:
    """Bring a later step's input into its operation's domain (the same map in both libraries)."""
    if domain in ("positive", "nonzero"):
        return x.abs() + 0.5
    if domain == "unit":  # (0.05, 0.95): well away from where log(1 - p) loses all its digits
        return x.sigmoid() * 0.9 + 0.05
    return x


def run(program: Program, lib: Library) -> Outcome:
    outcome = Outcome()
    leaves: list[Any] = []

    def tensor(spec: ArraySpec) -> Any:
        needs = program.grad and spec.kind == "float" and spec.requires_grad
        t = lib.tensor(spec.make(), needs)
        if needs:
            leaves.append(t)
        return t

    context = contextlib.nullcontext() if program.grad else lib.no_grad()
    x = tensor(program.x)
    with context:
        for index, step in enumerate(program.steps):
            info = OPS[step.op]
            extras = [tensor(spec) for spec in step.extras]
            try:
                if index and info.domain != "real" and info.domain != "ties":
                    x = adapt(x, info.domain)
                inputs = [x] + extras
                before = [lib.memory(t) for t in inputs if isinstance(t, lib.Tensor)]
                y = info.fn(lib.t, lib.F, *inputs)
            except Exception as error:  # noqa: BLE001 - every error is compared, none is lost
                outcome.error = (index, type(error).__name__, str(error).splitlines()[0][:200] if str(error) else "")
                outcome.error_classes = tuple(c.__name__ for c in type(error).__mro__)
                return outcome
            if isinstance(y, tuple):
                y = y[0]
            outcome.values.append(lib.numpy(y))
            outcome.dtypes.append(lib.dtype(y))
            outcome.shares.append(not info.inplace and any(overlaps(lib.memory(y), m) for m in before))
            x = y
    if not program.grad or not getattr(x, "requires_grad", False) or not leaves:
        return outcome
    weights = in_layout(np.random.default_rng(program.seed).standard_normal(x.shape).astype(outcome.dtypes[-1]),
                        program.grad_layout)
    try:
        loss = (x * lib.tensor(weights, False)).sum()
        grads = lib.grad(loss, leaves, create_graph=program.second_order)
        outcome.grads = [None if g is None else lib.numpy(g) for g in grads]
        if program.second_order:
            rng = np.random.default_rng(program.seed + 1)
            total = None
            for g, leaf in zip(grads, leaves):
                v = rng.standard_normal(leaf.shape)  # one draw per input: the same vectors in both libraries
                if g is not None and g.requires_grad:
                    term = (g * lib.tensor(v, False)).sum()
                    total = term if total is None else total + term
            if total is not None:
                outcome.hvp = [None if h is None else lib.numpy(h) for h in lib.grad(total, leaves)]
    except Exception as error:  # noqa: BLE001
        outcome.backward_error = (type(error).__name__, str(error).splitlines()[0][:200] if str(error) else "")
    return outcome


# --------------------------------------------------------------------------- comparing

@dataclass(frozen=True)
class Mismatch:
    kind: str
    op: str
    detail: str
    step: int = -1  # for a value: the step whose result differs

    @property
    def signature(self) -> tuple[str, str]:
        return self.kind, self.op


def close(a: np.ndarray, b: np.ndarray, dtype: str) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
        return np.array_equal(a, b)
    a, b = a.astype(np.float64), b.astype(np.float64)
    nan = np.isnan(a) | np.isnan(b)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    a, b = a[~nan], b[~nan]
    if not np.array_equal(np.isinf(a) & (a > 0), np.isinf(b) & (b > 0)) or \
            not np.array_equal(np.isinf(a) & (a < 0), np.isinf(b) & (b < 0)):
        return False
    finite = np.isfinite(a)
    a, b = a[finite], b[finite]
    scale = max(1.0, float(np.abs(a).max(initial=0)))
    rtol, atol = (1e-3, 1e-4 * scale) if dtype == "float32" else (1e-7, 1e-9 * scale)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def within_rounding(want: np.ndarray, have: np.ndarray, exact: np.ndarray | None, scale: float = 1.0) -> bool:
    """For a float32 program: ours is as close to the float64 result ``exact`` as PyTorch's
    float32 result is (up to twice its largest error plus a float32 ulp or two of ``scale`` or
    of the result, whichever is larger), where a tolerance cannot tell rounding from a bug
    (divisions by a tiny deviation, cancellations: the noise of the array, not of each element,
    since PyTorch's error at one element can be small by luck)."""
    if exact is None or exact.shape != want.shape or want.dtype.kind != "f":
        return False
    want, have, exact = (a.astype(np.float64) for a in (want, have, exact))
    if not np.array_equal(np.isfinite(want), np.isfinite(have)):
        return False
    finite = np.isfinite(want) & np.isfinite(exact)
    scale = max(1.0, scale, float(np.abs(exact[finite]).max(initial=0)))
    error_theirs = np.abs(want - exact)[finite]
    error_ours = np.abs(have - exact)[finite]
    return bool(np.all(error_ours <= 2 * error_theirs.max(initial=0) + 2e-7 * scale))


def compare(program: Program, expected: Outcome, got: Outcome, exact: Outcome | None = None) -> list[Mismatch]:
    """The differences between PyTorch's outcome (``expected``) and ours (``got``); ``exact``:
    PyTorch's outcome of ``program.in_float64()``, which settles float32 rounding."""
    found: list[Mismatch] = []
    ops = [s.op for s in program.steps]
    # (a float64 program that casts to float32 on the way, .float(), rounds as float32 from there)
    precision = "float32" if "float32" in expected.dtypes else program.precision
    for i, (want, have) in enumerate(zip(expected.values, got.values)):
        op = ops[i]
        if want.shape != have.shape:
            return [Mismatch("shape", op, f"step {i}: {want.shape} expected, got {have.shape}")]
        if expected.dtypes[i] != got.dtypes[i]:  # the rest follows from the promotion (issue 15)
            return [Mismatch("dtype", op, f"step {i}: {expected.dtypes[i]} expected, got {got.dtypes[i]}")]
        if not close(want, have, precision) and not within_rounding(
                want, have, exact.values[i] if exact and i < len(exact.values) else None):
            return found + [Mismatch("value", op, f"step {i}: values differ by up to {_worst(want, have)}", i)]
        if expected.shares[i] != got.shares[i]:
            found.append(Mismatch("alias", op, f"step {i}: ours {'shares' if got.shares[i] else 'does not share'} "
                                  f"memory with an input; PyTorch's {'does' if expected.shares[i] else 'does not'}"))
    if expected.error != got.error and (expected.error is None or got.error is None
                                        or expected.error[0] != got.error[0]):
        if got.error is not None and (expected.error is None or got.error[0] < expected.error[0]):
            step, kind, message = got.error
            return found + [Mismatch("refused", ops[step], f"step {step}: {kind}: {message}")]
        step, kind, message = expected.error
        return found + [Mismatch("accepted", ops[step], f"step {step}: PyTorch raises {kind}: {message}")]
    if expected.error and got.error and expected.error[1] not in got.error_classes:
        found.append(Mismatch("error_type", ops[expected.error[0]],
                              f"PyTorch raises {expected.error[1]}, we raise {got.error[1]}: {got.error[2]}"))
    if expected.error:
        return found
    last = ops[-1]
    if (expected.backward_error is None) != (got.backward_error is None):
        if got.backward_error:
            return found + [Mismatch("refused_backward", last, f"{got.backward_error}")]
        return found + [Mismatch("accepted_backward", last, f"PyTorch: {expected.backward_error}")]
    finite = expected.grads is not None and all(g is None or np.isfinite(g).all() for g in expected.grads) and (
        not expected.values or np.isfinite(expected.values[-1]).all())
    for kind, want, have, reference in (("grad", expected.grads, got.grads, exact and exact.grads),
                                        ("second_order", expected.hvp, got.hvp, exact and exact.hvp)):
        if want is None and have is None or kind == "second_order" and not finite:
            continue  # (second derivatives of a NaN or infinite output or gradient are not compared)
        if want is None or have is None:  # no gradient at all: the same as zeros everywhere
            want, have = want or [None] * len(have), have or [None] * len(want)
        # a gradient that sums others' terms (broadcasting) cancels to rounding at their scale
        scale = max((float(np.abs(g[np.isfinite(g)]).max(initial=0)) for g in reference or () if g is not None),
                    default=1.0)
        for j, (w, h) in enumerate(zip(want, have)):
            w = np.zeros_like(h) if w is None and h is not None else w
            h = np.zeros_like(w) if h is None and w is not None else h
            r = reference[j] if reference and j < len(reference) else None
            if w is not None and not close(w, h, precision) and not within_rounding(w, h, r, scale):  # None: zeros
                found.append(Mismatch(kind, _blame(program, ops), f"input {j}: differs by up to {_worst(w, h)}"))
                break
    return found


def step_alone(program: Program, step: int, given: np.ndarray, lib: Library) -> np.ndarray | None:
    """Step ``step`` of ``program`` applied to ``given`` (PyTorch's input to it), without a graph."""
    info = OPS[program.steps[step].op]
    with lib.no_grad(), np.errstate(all="ignore"), _quiet():
        x = lib.tensor(np.array(given, copy=True), False)
        extras = [lib.tensor(spec.make(), False) for spec in program.steps[step].extras]
        try:
            y = info.fn(lib.t, lib.F, adapt(x, info.domain) if step else x, *extras)
        except Exception:  # noqa: BLE001 - then the step itself differs
            return None
    return lib.numpy(y[0] if isinstance(y, tuple) else y)


def _blame(program: Program, ops: list[str]) -> str:
    """A gradient mismatch is the whole chain's; name it by its operations."""
    return "+".join(ops) if len(ops) <= 2 else ops[-1]


def _worst(a: np.ndarray, b: np.ndarray) -> str:
    try:
        difference = np.abs(a.astype(np.float64) - b.astype(np.float64))
        return f"{np.nanmax(difference):.3g}" if difference.size else "0"
    except (ValueError, TypeError):
        return "?"


# --------------------------------------------------------------------------- drawing programs

_SHAPE_PROBE: Library | None = None


def _probe() -> Library:
    global _SHAPE_PROBE
    if _SHAPE_PROBE is None:
        _SHAPE_PROBE = Library("torch")
    return _SHAPE_PROBE


def _applicable(shape: tuple[int, ...], first: bool) -> list[tuple[OpInfo, Sequence[Input]]]:
    found = []
    for info in op_db:
        extras = info.inputs_for(shape)
        if extras is not None and (first or info.domain != "ties"):
            found.append((info, extras))
    return found


@st.composite
def programs(draw: Callable[..., Any], self_check: bool = False) -> Program:
    """A random program whose every step applies (by PyTorch's shapes) to the result before it."""
    dtype = draw(st.sampled_from(["float32", "float64"]))
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    seeds = itertools.count(draw(st.integers(0, 2 ** 30)))
    layouts = st.sampled_from(LAYOUTS)
    probe = _probe()
    first_choices = _applicable(shape, True)
    info, extras = draw(st.sampled_from(first_choices))
    x = ArraySpec(shape, dtype, domain=info.domain, layout=draw(layouts), seed=next(seeds))
    current = probe.tensor(x.make(), False)
    steps = []
    for index in range(draw(st.integers(1, 5))):
        if index:
            choices = _applicable(tuple(current.shape), False)
            if not choices:
                break
            info, extras = draw(st.sampled_from(choices))
        specs = tuple(ArraySpec(e.shape, e.dtype or dtype, e.kind, e.domain, e.high,
                                draw(layouts) if e.any_layout else "contiguous", next(seeds), e.requires_grad)
                      for e in extras)
        steps.append(Step(info.name, specs))
        try:
            inputs = [adapt(current, info.domain) if index else current]
            y = info.fn(probe.t, probe.F, *inputs, *[probe.tensor(s.make(), False) for s in specs])
        except Exception:  # noqa: BLE001 - an error ends the program; it is compared like any result
            break
        y = y[0] if isinstance(y, tuple) else y
        if not y.is_floating_point():
            break
        current = y.detach()
    ops = [OPS[s.op] for s in steps]
    grad = draw(st.booleans()) or draw(st.booleans())  # three in four programs record a graph
    second = grad and dtype == "float64" and all(o.second_order for o in ops) and draw(st.booleans())
    return Program(x, tuple(steps), grad, second, seed=next(seeds), grad_layout=draw(layouts))


# --------------------------------------------------------------------------- the run


# PyTorch's own bugs met on the way, each with its reproducer and what the fuzzer does about it.
TORCH_BUGS = {
    "max_pool2d window wholly in padding": (
        "F.max_pool2d(torch.zeros(1, 1, 1, 1), 2, stride=2, padding=1, return_indices=True)[1] holds an index "
        "outside the input when a window covers only padding (its value is -inf). Avoided: the op table's "
        "pools never pad more than the kernel reaches into the input."),
    "batch_norm reads a strided weight as contiguous": (
        "w = torch.from_numpy(np.array([-0.9, 0, 0.0015, 0, 0.26, 0], np.float32)[::2]).requires_grad_(); "
        "F.batch_norm(x, torch.zeros(3), torch.ones(3), w, training=False).backward(torch.ones(3, 3)) gives "
        "x.grad rows [-0.9, 0, 0.0015] instead of [-0.9, 0.0015, 0.26]; training=True too. Avoided: "
        "batch_norm's statistics, weight and bias are contiguous in the op table (Input.any_layout=False)."),
    "nll_loss over images needs a contiguous input in backward": (
        "x = torch.from_numpy(np.asfortranarray(np.random.randn(3, 4, 3, 4).astype(np.float32)))"
        ".requires_grad_(); F.nll_loss(x, torch.zeros(3, 3, 4, dtype=torch.long)).backward() raises "
        "'grad_input must be contiguous'. Counted apart: a program whose PyTorch backward raises that is "
        "not compared."),
    "a result that depends on the memory layout": (
        "x = torch.from_numpy(np.asfortranarray(np.random.randn(1, 4, 1, 5))).requires_grad_(); "
        "F.batch_norm(x, None, None, training=True).backward(g) gives another x.grad than the same values "
        "in row-major memory (x counts as channels-last with its size-1 dimensions); so does a row-major "
        "x of shape (1, 3, 4, 1) with g in Fortran order (finite differences agree with the row-major "
        "result, and with ours). Counted apart: a program where we agree with PyTorch on the same inputs "
        "and upstream gradient in row-major memory, and PyTorch's two runs disagree."),
    "writes into an expanded tensor": (
        "v = torch.tensor([1.0]).expand(2); v[0] = 5 changes both elements, which share one memory location; "
        "PyTorch's documentation of expand calls in-place changes of such tensors unsupported. Ours refuses "
        "them (broadcast views are read-only). Counted apart."),
    "std's second derivative where a deviation is 0": (
        "x = torch.tensor([[1., 0.5], [0., 0.5]], dtype=torch.float64, requires_grad=True); (g,) = "
        "torch.autograd.grad((torch.softmax(x.std(0, keepdim=True), 1) * 0.3).sum(), x, create_graph=True); "
        "torch.autograd.grad((g * torch.tensor([[0.3, -0.2], [0.5, 0.7]])).sum(), x) is NaN in column 0: the "
        "double backward of std divides by column 1's zero deviation and softmax mixes the NaN into "
        "column 0, whose deviation is 0.71 (ours: finite). Counted apart: a program with std whose "
        "PyTorch Hessian-vector product has NaN where its gradients are finite and ours are not NaN."),
    "a loss of mixed float dtypes fails in backward": (
        "x = torch.randn(4, dtype=torch.float64, requires_grad=True); t = torch.randn(4, requires_grad=True); "
        "F.huber_loss(x, t, reduction='sum').backward() raises 'Found dtype Float but expected Double' (forward "
        "promotes to float64, backward does not cast the target's gradient back). Ours computes both gradients. "
        "Counted apart: a program whose PyTorch backward raises that."),
    "the variance of equal values is not 0": (
        "x = torch.tensor([[-0.3587326517424646] * 3], dtype=torch.float64, requires_grad=True); "
        "x.std(1, unbiased=False) is 5.6e-17, not 0, and its gradient -1/3 where std's own rule gives 0 "
        "(along dimension 0 of x.T it is 0). Ours is 0 along any dimension. Counted apart: a program with "
        "std or var where, given PyTorch's input to that step, PyTorch's result is not 0 where ours is."),
    "a NaN meeting a convolution's zero padding": (
        "x = torch.randn(2, 2, 5, 1); w = torch.randn(3, 2, 3, 3, requires_grad=True); y = F.conv2d(x, w, "
        "padding=1); g = torch.randn_like(y); g[0, 0, 0, 0] = float('nan'); y.backward(g): w.grad[0, 0] has 0 "
        "in the column of taps that meet only padding there, while in float64 (x.double(), w.double()) it is "
        "NaN throughout (that kernel multiplies the padding's zeros by the NaN); conv_transpose2d alike. Ours "
        "gives float64's answer in both dtypes. Counted apart: a float32 program with a convolution whose "
        "gradients have NaN where PyTorch's have it in float64."),
    "group_norm's weight gradient over an empty input": (
        "x = torch.zeros(1, 2, 4, 0, requires_grad=True); w = torch.ones(2, requires_grad=True); "
        "F.group_norm(x, 1, w, torch.zeros(2)).sum().backward() gives w.grad = [nan, nan]: a sum over no "
        "elements, 0 (ours: 0; the bias's is 0 in both). Counted apart: a program with group_norm over an "
        "empty tensor whose PyTorch gradients have NaN where ours have none."),
    "adaptive pooling's backward refuses the empty tensors its forward accepted": (
        "x = torch.zeros(4, 0, 3, requires_grad=True); F.adaptive_avg_pool1d(x, 2).sum().backward() raises "
        "'Expected grad_output to have non-zero size for non-batch dimensions' after the forward ran (ours: "
        "an empty gradient). Counted apart: a program whose PyTorch backward raises that."),
    "a float32 norm overflows where its squares do": (
        "torch.tensor([3e20, 4e20]).norm() is inf: the squares overflow float32 (the norm, 5e20, does not; "
        "float64 gives it). Ours is 5e20. Counted apart: a float32 program whose norm step PyTorch gives as "
        "inf where ours is finite and agrees with PyTorch's float64 run."),
    "mish's second derivative at large inputs": (
        "x = torch.tensor([1000.], dtype=torch.float64, requires_grad=True); (g,) = torch.autograd.grad("
        "F.mish(x).sum(), x, create_graph=True); torch.autograd.grad(g.sum(), x) is NaN (exp overflows in "
        "mish's double backward from x = 710); the second derivative there is 0 (ours: 0). Counted apart: a "
        "program with mish whose PyTorch Hessian-vector product has NaN where its gradients are finite and "
        "ours are not NaN."),
}


def _nan_only_in_pytorchs_hvp(expected: Outcome, got: Outcome) -> bool:
    """PyTorch's Hessian-vector product has NaN where its gradients are finite, and ours none."""
    return bool(expected.hvp and got.hvp) and all(
        g is None or np.isfinite(g).all() for g in expected.grads or ()) and any(
        h is not None and np.isnan(h).any() for h in expected.hvp) and not any(
        h is not None and np.isnan(h).any() for h in got.hvp)


def torch_bug(program: Program, expected: Outcome, got: Outcome) -> str | None:
    """The TORCH_BUGS entry that explains a difference, if one does."""
    if _nan_only_in_pytorchs_hvp(expected, got):
        if any("std" in s.op for s in program.steps):
            return "std's second derivative where a deviation is 0"
        if _uses(program, "mish"):
            return "mish's second derivative at large inputs"
    if _uses(program, "group_norm") and any(v.size == 0 for v in expected.values) and any(
            w is not None and h is not None and np.isnan(w).any() and not np.isnan(h).any()
            for w, h in zip(expected.grads or (), got.grads or ())):
        return "group_norm's weight gradient over an empty input"
    if expected.backward_error and re.match(r"Found dtype \w+ but expected \w+", expected.backward_error[1]):
        return "a loss of mixed float dtypes fails in backward"
    if expected.backward_error and "Expected grad_output to have non-zero size" in expected.backward_error[1]:
        return "adaptive pooling's backward refuses the empty tensors its forward accepted"
    if expected.backward_error and "grad_input must be contiguous" in expected.backward_error[1]:
        return "nll_loss over images needs a contiguous input in backward"
    if got.error and "read-only view (from expand" in got.error[2] and (
            expected.error is None or expected.error[0] > got.error[0]):  # (PyTorch may refuse a later step)
        return "writes into an expanded tensor"
    return None


def _uses(program: Program, *prefixes: str) -> bool:
    return any(s.op.startswith(prefixes) for s in program.steps)


# Issue 18's findings, as the fuzzer meets them: a test of a mismatch and its program. On the
# commit before that work (0f0f9f8), 10,000 programs re-find every one; after it, 1 to 7 are gone.
FINDINGS: dict[str, Callable[[Mismatch, Program], bool]] = {
    "1 batch_norm backward in other layouts": lambda m, p: m.kind == "grad" and _uses(p, "batch_norm/training"),
    "2 second order of batch_norm and cross_entropy": lambda m, p: m.kind == "second_order" and _uses(
        p, "batch_norm/training", "cross_entropy"),
    "3 conv2d input gradient": lambda m, p: m.kind == "grad" and _uses(p, "conv2d"),
    "4 results sharing the input's memory": lambda m, p: m.kind == "alias" and m.op.startswith(
        ("cat/one", "stack/one", "flip", "repeat", "pad/constant_zero", "interpolate/nearest_same")),
    "5 t[i] is a copy": lambda m, p: m.kind in ("value", "alias") and m.op.startswith(
        ("getitem/int", "getitem/negative_int", "getitem/element", "element_relu_")),
    "6 writes through a view of a buffer": lambda m, p: m.kind in ("grad", "value") and _uses(p, "into_buffer"),
    "7 NaN and inf where PyTorch gives 0": lambda m, p: m.kind in ("grad", "second_order", "value") and _uses(
        p, "pow/0", "clamp", "sign", "floor", "ceil", "round", "trunc", "hardtanh", "max_dim", "min_dim", "std"),
    "8 .view() copies where PyTorch refuses": lambda m, p: m.kind in ("accepted", "alias") and m.op.startswith("view"),
}


@dataclass
class Report:
    examples: int = 0
    seconds: float = 0.0
    mismatches: Counter = field(default_factory=Counter)
    first: dict[tuple[str, str], tuple[Mismatch, Program]] = field(default_factory=dict)
    ops_drawn: Counter = field(default_factory=Counter)
    torch_bugs: Counter = field(default_factory=Counter)
    rounding: Counter = field(default_factory=Counter)  # differences that rounding alone explains
    findings: Counter = field(default_factory=Counter)

    def add(self, program: Program, found: list[Mismatch]) -> None:
        self.examples += 1
        self.ops_drawn.update(s.op for s in program.steps)
        for name, test in FINDINGS.items():
            if any(test(m, program) for m in found):
                self.findings[name] += 1
        for mismatch in found:
            self.mismatches[mismatch.kind] += 1
            self.first.setdefault(mismatch.signature, (mismatch, program))

    def signatures(self, kinds: set[str] | None = None) -> list[tuple[str, str]]:
        return sorted(s for s in self.first if kinds is None or s[0] in kinds)

    def summary(self, limit: int = 60) -> str:
        lines = [f"{self.examples} programs in {self.seconds:.0f} s over {len(self.ops_drawn)} op variants; "
                 f"mismatches by kind: {dict(self.mismatches) or 'none'}; {len(self.first)} signatures; "
                 f"PyTorch's own bugs met: {dict(self.torch_bugs) or 'none'}; "
                 f"rounding differences made whole: {dict(self.rounding) or 'none'}",
                 "programs with issue 18's findings: " + ", ".join(f"{name}: {self.findings[name]}" for name in FINDINGS)]
        for signature in self.signatures()[:limit]:
            mismatch, program = self.first[signature]
            lines.append(f"  [{mismatch.kind}] {mismatch.op}: {mismatch.detail}\n      {program.describe()}")
        if len(self.first) > limit:
            lines.append(f"  ... {len(self.first) - limit} more signatures")
        return "\n".join(lines)


def explained(program: Program, expected: Outcome, got: Outcome, found: list[Mismatch], torch_lib: Library,
              our_lib: Library) -> tuple[str, str] | None:
    """A numeric difference that is no bug of ours, and why: ("torch", a TORCH_BUGS entry) or
    ("rounding", how), where

    - a value differs only after earlier steps' rounding: given PyTorch's input to that step,
      ours computes PyTorch's result (ceil, sign or a degenerate statistic made a last-bit
      difference whole);
    - PyTorch's result changes with the inputs' memory layout, and ours is its row-major one;
    - PyTorch's own result moves as much when the real inputs move by a few units of their
      precision: the program is ill-conditioned there.
    """
    if _uses(program, "std", "var") and _pytorchs_variance_of_equal_values(program, expected, torch_lib, our_lib):
        return "torch", "the variance of equal values is not 0"
    if program.precision == "float32" and _uses(program, "conv2d", "conv_transpose2d") and _same_nans(
            run(program.in_float64(), torch_lib).grads, got.grads) and not _same_nans(expected.grads, got.grads):
        return "torch", "a NaN meeting a convolution's zero padding"
    if program.precision == "float32" and _pytorchs_norm_overflows(program, expected, got, found, torch_lib):
        return "torch", "a float32 norm overflows where its squares do"
    for m in found:
        if m.kind == "value" and m.step > 0:
            given = expected.values[m.step - 1]
            ours, theirs = step_alone(program, m.step, given, our_lib), step_alone(program, m.step, given, torch_lib)
            if ours is not None and theirs is not None and close(theirs, ours, program.precision):
                return "rounding", "a step given PyTorch's input agrees"
    row_major = run(program.contiguous(), torch_lib)
    if not compare(program, row_major, got) and compare(program, expected, row_major):
        return "torch", "a result that depends on the memory layout"
    if compare(program, expected, run(program.jittered(), torch_lib)):
        return "rounding", "PyTorch's result moves with its inputs' last bits"
    return None


def _pytorchs_variance_of_equal_values(program: Program, expected: Outcome, torch_lib: Library,
                                       our_lib: Library) -> bool:
    """A std or var step that, given PyTorch's input to it, PyTorch computes as not 0 where ours
    is 0 (the values it reduces are equal)."""
    for i, step in enumerate(program.steps[:len(expected.values)]):
        if step.op.startswith(("std", "var")):
            given = expected.values[i - 1] if i else program.x.make()
            ours, theirs = step_alone(program, i, given, our_lib), step_alone(program, i, given, torch_lib)
            if ours is not None and theirs is not None and ours.shape == theirs.shape and np.any(
                    (ours == 0) & (theirs != 0) & np.isfinite(theirs)):
                return True
    return False


def _pytorchs_norm_overflows(program: Program, expected: Outcome, got: Outcome, found: list[Mismatch],
                             torch_lib: Library) -> bool:
    """A value mismatch at a norm step where PyTorch's float32 result is inf, ours finite and
    PyTorch's own float64 run agrees with ours."""
    steps = [m.step for m in found if m.kind == "value" and m.step >= 0
             and program.steps[m.step].op.startswith(("norm", "vector_norm", "normalize"))]
    if not steps:
        return False
    wide = run(program.in_float64(), torch_lib)
    return all(np.isinf(expected.values[i]).any() and np.isfinite(got.values[i]).all() and i < len(wide.values)
               and close(wide.values[i].astype(np.float32), got.values[i], "float32") for i in steps)


def _same_nans(a: Sequence[np.ndarray | None] | None, b: Sequence[np.ndarray | None] | None) -> bool:
    """The two sets of gradients have NaN at the same places."""
    if not a or not b or len(a) != len(b):
        return False
    return all((x is None) == (y is None) and (x is None or x.shape == y.shape and np.array_equal(
        np.isnan(x), np.isnan(y))) for x, y in zip(a, b))


def fuzz(examples: int, self_check: bool = False) -> Report:
    """Run ``examples`` derandomized programs; PyTorch against us, or against itself."""
    expected_lib = Library("torch")
    got_lib = Library("torch") if self_check else Library("tinygrad_cnn")
    report = Report()
    start = time.perf_counter()

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(programs(self_check))
    def one(program: Program) -> None:
        expected, got = run(program, expected_lib), run(program, got_lib)
        bug = torch_bug(program, expected, got)
        if bug is not None:
            report.torch_bugs[bug] += 1
            report.examples += 1
            return
        found = compare(program, expected, got)
        numeric = ("value", "grad", "second_order")
        if program.precision == "float32" and any(m.kind in numeric for m in found):
            found = compare(program, expected, got, run(program.in_float64(), expected_lib))
        if any(m.kind in numeric for m in found):
            why = explained(program, expected, got, found, expected_lib, got_lib)
            if why is not None:
                (report.torch_bugs if why[0] == "torch" else report.rounding)[why[1]] += 1
                report.examples += 1
                return
        report.add(program, found)

    with np.errstate(all="ignore"), _quiet():
        one()
    report.seconds = time.perf_counter() - start
    return report


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def replay(program: Program) -> None:
    """Print what each library computes for ``program``, step by step (for investigating)."""
    for lib in (Library("torch"), Library("tinygrad_cnn")):
        with np.errstate(all="ignore"), _quiet():
            outcome = run(program, lib)
        print(f"--- {lib.name}: error={outcome.error} backward_error={outcome.backward_error}")
        for step, value, dtype, shares in zip(program.steps, outcome.values, outcome.dtypes, outcome.shares):
            print(f"  {step.op}: {dtype} shares={shares}\n{value}")
        print(f"  grads: {outcome.grads}\n  hvp: {outcome.hvp}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=CI_EXAMPLES)
    parser.add_argument("--self-check", action="store_true", help="PyTorch against itself")
    parser.add_argument("--limit", type=int, default=80, help="signatures to print")
    args = parser.parse_args(argv)
    report = fuzz(args.examples, args.self_check)
    print(report.summary(args.limit))
    return 0 if not report.first else 1


if __name__ == "__main__":
    sys.exit(main())


