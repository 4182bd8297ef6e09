"""``check_op``: the battery of checks the library runs on each of its own operations, for any
op-table entry, a user's own ``autograd.Function`` included.

On a bounded set of sample shapes (every shape and layout with ``TINYGRAD_CNN_CHECK_OP=all``):

- forward against the entry's slow reference, where it names one;
- first derivatives against finite differences (``gradcheck``) and, where the entry has them,
  second derivatives (``gradgradcheck``), in float64, kinks avoided;
- the same values and gradients from inputs in other memory layouts (transposed, strided,
  channels-last) and on 1 and 2 threads;
- each dtype of the entry gives results of that dtype, close to float64's;
- the in-place variant gives what the operation gives;
- the ONNX export agrees through onnxruntime, where the entry exports and both are installed;
- every refusal raises its error.

Every failed check is reported, each naming the entry, the check and the shape.
"""
from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import functional as F
from ..gradcheck import GradcheckError, gradcheck, gradgradcheck
from ..kernels.threads import get_num_threads, set_num_threads
from ..random import manual_seed
from ..tensor import Tensor
from .samples import in_layout, sample_values
from .table import Input, OpInfo

Shape = tuple[int, ...]
SAMPLE_SHAPES: tuple[Shape, ...] = ((2, 3, 4, 5), (2, 4, 6, 5), (2, 4, 4, 6), (3, 5, 6), (3, 4), (5,), ())
MORE_SHAPES: tuple[Shape, ...] = ((1, 3, 1, 5), (2, 1, 3), (3, 4, 6), (4, 1), (1,))
LAYOUTS = ("permuted", "channels_last")
MORE_LAYOUTS = ("fortran", "strided", "offset")
ENVIRONMENT = "TINYGRAD_CNN_CHECK_OP"


class OpCheckError(AssertionError):
    """One or more checks of an op-table entry failed; the message lists each."""


def exhaustive() -> bool:
    """True when ``TINYGRAD_CNN_CHECK_OP=all``: every sample shape and layout, gradients checked on each."""
    return os.environ.get(ENVIRONMENT, "") == "all"


def check_op(info: OpInfo, shapes: Sequence[Shape] | None = None) -> None:
    """Run the battery on ``info``; raise ``OpCheckError`` listing every check that failed.

    ``shapes`` are the shapes of x to try (those the entry does not accept are passed over);
    by default the first sample shape it accepts, or all of them when exhaustive."""
    import tinygrad_cnn as tc

    every = exhaustive()
    candidates = tuple(shapes) if shapes is not None else SAMPLE_SHAPES + (MORE_SHAPES if every else ())
    accepted = [shape for shape in candidates if info.inputs_for(shape) is not None]
    if not accepted:
        raise OpCheckError(f"{info.name}: accepts none of the shapes {list(candidates)}")
    failures: list[str] = []
    for shape in accepted if every or shapes is not None else accepted[:1]:
        _Checks(info, shape, tc, failures).run(LAYOUTS + (MORE_LAYOUTS if every else ()))
    failures += _refusals(info, tc)
    if failures:
        raise OpCheckError(f"{info.name}: {len(failures)} check(s) failed\n" + "\n".join(failures))


def ops(db: Sequence[OpInfo]) -> Callable[[Callable[..., Any]], Any]:
    """A pytest decorator: the test runs once per entry of ``db``, given it as ``info``.

        @ops(my_op_db)
        def test_my_ops(info):
            check_op(info)
    """
    import pytest

    return pytest.mark.parametrize("info", list(db), ids=[info.name for info in db])


class _Checks:
    """The checks of one entry on one shape of x."""

    def __init__(self, info: OpInfo, shape: Shape, tc: Any, failures: list[str]) -> None:
        self.info, self.shape, self.tc, self.failures = info, shape, tc, failures
        self.extras: Sequence[Input] = info.inputs_for(shape) or ()

    def fail(self, check: str, message: str) -> None:
        self.failures.append(f"  {check} at x of shape {self.shape}: {message}")

    def arrays(self, dtype: str = "float64", layout: str = "contiguous", smooth: bool = False) -> list[np.ndarray]:
        """x and the other inputs; ``smooth`` draws real values where the domain has ties, so
        finite differences do not straddle a kink."""
        domain = "real" if smooth and self.info.domain == "ties" else self.info.domain
        made = [in_layout(sample_values(self.shape, dtype, "float", domain, seed=1), layout)]
        for i, extra in enumerate(self.extras):
            extra_domain = "real" if smooth and extra.domain == "ties" else extra.domain
            values = sample_values(extra.shape, extra.dtype or dtype, extra.kind, extra_domain, extra.high, seed=2 + i)
            made.append(in_layout(values, layout) if extra.any_layout else values)
        return made

    def needs_grad(self) -> list[bool]:
        return [True] + [e.kind == "float" and e.requires_grad for e in self.extras]

    def call(self, tensors: Sequence[Tensor]) -> tuple[Any, ...]:
        """The entry's outputs as a tuple (an in-place entry changes a copy of x, not the leaf)."""
        first = tensors[0] * 1 if self.info.inplace and tensors[0].requires_grad else tensors[0]
        manual_seed(0)
        out = self.info.fn(self.tc, F, first, *tensors[1:])
        return out if isinstance(out, tuple) else (out,)

    def evaluate(self, arrays: Sequence[np.ndarray], fn: Callable[[Sequence[Tensor]], tuple[Any, ...]] | None = None
                 ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """The outputs' values and the leaves' gradients of a fixed weighted sum of the outputs."""
        leaves = [Tensor(a, requires_grad=needs) for a, needs in zip(arrays, self.needs_grad())]
        outputs = [o for o in (fn or self.call)(leaves) if isinstance(o, Tensor)]
        values = [o.detach().numpy().copy() for o in outputs]
        differentiable = [o for o in outputs if o.requires_grad]
        wanted = [t for t in leaves if t.requires_grad]
        gradients: list[np.ndarray | None] = []
        if differentiable and wanted:
            rng = np.random.default_rng(7)
            total = sum((o * Tensor(rng.standard_normal(o.shape).astype(o.dtype))).sum() for o in differentiable)
            found = self.tc.autograd.grad(total, wanted, allow_unused=True)
            gradients = [None if g is None else g.numpy().copy() for g in found]
        return values, gradients

    def compare(self, check: str, have: tuple[list, list], want: tuple[list, list], rtol: float, atol: float) -> None:
        for kind, mine, theirs in (("output", have[0], want[0]), ("gradient", have[1], want[1])):
            if len(mine) != len(theirs):
                self.fail(check, f"{len(mine)} {kind}s, expected {len(theirs)}")
                continue
            for i, (a, b) in enumerate(zip(mine, theirs)):
                if (a is None) != (b is None):
                    self.fail(check, f"{kind} {i} is {'None' if a is None else 'present'}, expected otherwise")
                elif a is not None and not _close(a, b, rtol, atol):
                    self.fail(check, f"{kind} {i} differs: {_difference(a, b)}")

    def run(self, layouts: Sequence[str]) -> None:
        base = self.arrays()
        try:
            expected = self.evaluate(base)
        except Exception as error:  # noqa: BLE001 - reported as the failure it is
            self.fail("forward and backward", f"raised {type(error).__name__}: {error}")
            return
        self.reference(base, expected[0])
        for layout in layouts if self.info.any_layout else ():
            if layout == "channels_last" and len(self.shape) != 4:
                continue
            self.guarded(f"layout {layout}", lambda lay=layout: self.compare(
                f"layout {lay}", self.evaluate(self.arrays(layout=lay)), expected, 1e-10, 1e-12))
        self.guarded("threads", lambda: self.threads(base, expected))
        for dtype in self.info.dtypes:
            if dtype != "float64":
                self.guarded(f"dtype {dtype}", lambda d=dtype: self.dtype(d, expected))
        self.guarded("gradcheck", self.derivatives)
        if self.info.inplace_variant is not None:
            self.guarded("in-place variant", lambda: self.compare(
                "in-place variant", self.evaluate(base, self.in_place), expected, 1e-12, 1e-14))
        if self.info.onnx:  # in float32, the dtype exported models run in (onnxruntime has few float64 kernels)
            self.guarded("onnx", lambda: self.onnx(self.arrays("float32")))

    def guarded(self, check: str, body: Callable[[], None]) -> None:
        try:
            body()
        except Exception as error:  # noqa: BLE001 - each check reports, the battery goes on
            self.fail(check, f"raised {type(error).__name__}: {error}")

    def reference(self, arrays: Sequence[np.ndarray], values: list[np.ndarray]) -> None:
        if self.info.reference is None:
            return
        want = self.info.reference(*arrays)
        want = list(want) if isinstance(want, tuple) else [want]
        for i, (a, b) in enumerate(zip(values, want)):
            b = np.asarray(b)
            if a.shape != b.shape:
                self.fail("reference", f"output {i} has shape {a.shape}, the reference {b.shape}")
            elif not _close(a, b, 1e-10, 1e-12):
                self.fail("reference", f"output {i} differs: {_difference(a, b)}")

    def threads(self, arrays: Sequence[np.ndarray], expected: tuple[list, list]) -> None:
        before = get_num_threads()
        try:
            for count in (1, 2):
                set_num_threads(count)
                self.compare(f"threads {count}", self.evaluate(arrays), expected, 1e-12, 1e-14)
        finally:
            set_num_threads(before)

    def dtype(self, dtype: str, expected: tuple[list, list]) -> None:
        """Results in ``dtype`` (or wider, where an input of its own dtype is wider and not
        0-d, PyTorch's promotion), and each gradient in its input's dtype."""
        arrays = self.arrays(dtype)
        values, gradients = self.evaluate(arrays)
        wider = [e.dtype for e in self.extras if e.kind == "float" and e.dtype is not None and e.shape]
        result_dtype = np.result_type(dtype, *wider)
        for i, (have, want) in enumerate(zip(values, expected[0])):
            if want.dtype.kind == "f" and have.dtype != result_dtype:
                self.fail(f"dtype {dtype}", f"output {i} has dtype {have.dtype}, expected {result_dtype}")
        wanted = [a for a, needs in zip(arrays, self.needs_grad()) if needs]
        for i, (gradient, leaf) in enumerate(zip(gradients, wanted)):
            if gradient is not None and gradient.dtype != leaf.dtype:
                self.fail(f"dtype {dtype}", f"gradient {i} has dtype {gradient.dtype}, its input {leaf.dtype}")
        tolerance = 1e-3 if dtype in ("float32", "float16", "bfloat16") else 1e-8
        self.compare(f"dtype {dtype}", (values, gradients), expected, tolerance, tolerance)

    def derivatives(self) -> None:
        """gradcheck and gradgradcheck of the float64 outputs (finite differences cannot check
        a result rounded to a narrower dtype)."""
        def fn(*tensors: Tensor) -> tuple[Tensor, ...]:
            return tuple(o for o in self.call(tensors)
                         if isinstance(o, Tensor) and o.requires_grad and o.dtype == np.float64)

        leaves = tuple(Tensor(a, requires_grad=needs) for a, needs in zip(self.arrays(smooth=True), self.needs_grad()))
        if not fn(*leaves):
            return

        checks = [("gradcheck", gradcheck)] + ([("gradgradcheck", gradgradcheck)] if self.info.second_order else [])
        for name, check in checks:
            try:
                check(fn, leaves)
            except GradcheckError as error:
                self.fail(name, str(error))

    def in_place(self, tensors: Sequence[Tensor]) -> tuple[Any, ...]:
        first = tensors[0] * 1 if tensors[0].requires_grad else tensors[0].clone()
        manual_seed(0)
        out = self.info.inplace_variant(self.tc, F, first, *tensors[1:])
        if out is not first:
            self.fail("in-place variant", "did not return x itself")
        return (out,)

    def onnx(self, arrays: Sequence[np.ndarray]) -> None:
        try:
            import onnxruntime
        except ImportError:  # the exporter's optional extra: nothing to run the graph with here
            return
        from ..nn import Module
        from ..onnx import export

        info, tc = self.info, self.tc

        class Entry(Module):
            def forward(self, *tensors: Tensor) -> Any:
                return info.fn(tc, F, *tensors)

        # fresh copies for each run: an in-place entry changes its x
        values = [o.numpy() for o in self.call([Tensor(a.copy()) for a in arrays]) if isinstance(o, Tensor)]
        buffer = io.BytesIO()
        export(Entry(), tuple(Tensor(a.copy()) for a in arrays), buffer, dynamic_axes={})  # (at these shapes)
        session = onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
        feeds = {i.name: np.array(a, order="C") for i, a in zip(session.get_inputs(), arrays)}
        for i, (have, want) in enumerate(zip(session.run(None, feeds), values)):
            if not _close(np.asarray(have), want, 1e-4, 1e-5):
                self.fail("onnx", f"output {i} differs: {_difference(np.asarray(have), want)}")


def _refusals(info: OpInfo, tc: Any) -> list[str]:
    failures = []
    for refusal in info.refusals:
        try:
            refusal.call(tc, F)
        except refusal.error as error:
            if not re.search(refusal.match, str(error)):
                failures.append(f"  refusal {refusal.why!r}: message {str(error)!r} does not match {refusal.match!r}")
        except Exception as error:  # noqa: BLE001 - the wrong kind of error is the failure
            failures.append(f"  refusal {refusal.why!r}: raised {type(error).__name__}, not {refusal.error.__name__}:"
                            f" {error}")
        else:
            failures.append(f"  refusal {refusal.why!r}: ran without an error")
    return failures


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind not in "fc" and b.dtype.kind not in "fc":
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True))


def _difference(a: np.ndarray, b: np.ndarray) -> str:
    """Where the two differ most (a NaN against a number counts as infinitely far)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isnan(a64) & np.isnan(b64), 0.0, np.nan_to_num(np.abs(a64 - b64), nan=np.inf))
    worst = np.unravel_index(np.argmax(gap), gap.shape) if gap.ndim else ()
    return f"largest at {tuple(int(i) for i in worst)}: {a[worst]} against {b[worst]}"
