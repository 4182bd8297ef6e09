"""The op table (``tinygrad_cnn.testing.op_db``): every entry passes the battery
(``testing.check_op``), the battery fails on the bugs it is for, and the entries reach every
primitive of ``ops/`` (each entry is run forward, backward and, where it has one, through its
second derivative, with ``Primitive.apply`` instrumented to record which primitives ran)."""
import importlib
import inspect
import pkgutil
import sys
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import autograd, ops, testing
from tinygrad_cnn.testing import OpCheckError, check_op, sample_values
from tinygrad_cnn.testing.table import Input, OpInfo, Refusal, op_db

SHAPES = [(2, 3, 4, 5), (2, 4, 6, 5), (2, 4, 4, 6), (3, 5, 6), (3, 4), (4,), ()]

def primitives_of_ops() -> set[type]:
    """Every concrete Primitive class defined in a module of ``tinygrad_cnn.ops``."""
    found = set()
    for module_info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"tinygrad_cnn.ops.{module_info.name}")
        for value in vars(module).values():
            if (inspect.isclass(value) and issubclass(value, autograd.Primitive) and value.__module__ == module.__name__
                    and value.forward is not autograd.Primitive.forward):
                found.add(value)
    return found


def _input(spec: Input, seed: int) -> tc.Tensor:
    values = sample_values(spec.shape, spec.dtype or "float64", spec.kind, spec.domain, spec.high, seed)
    return tc.tensor(values, requires_grad=spec.kind == "float" and spec.requires_grad)


def run_entry(info: OpInfo) -> None:
    """The entry on the first shape it accepts: forward, then backward, or a gradient taken with
    ``create_graph`` and differentiated again where the entry has second derivatives."""
    for shape in SHAPES:
        extras = info.inputs_for(shape)
        if extras is None:
            continue
        x = tc.tensor(sample_values(shape, domain=info.domain, seed=1), requires_grad=True)
        source = x * 1 if info.inplace else x  # an in-place entry changes a non-leaf
        try:
            out = info.fn(tc, F, source, *[_input(spec, 2 + i) for i, spec in enumerate(extras)])
        except (ValueError, RuntimeError, NotImplementedError):  # refused for this shape: the next one
            continue
        outs = [o for o in (out if isinstance(out, tuple) else (out,))
                if isinstance(o, tc.Tensor) and o.requires_grad]
        if not outs:
            return
        total = sum((o * o).sum() for o in outs)
        if info.second_order:
            (gradient,) = tc.autograd.grad(total, [x], create_graph=True, allow_unused=True, materialize_grads=True)
            if gradient.requires_grad:
                (gradient * gradient).sum().backward()
        else:
            total.backward()
        return
    raise AssertionError(f"op_db entry {info.name!r} accepted none of the shapes {SHAPES}")


def test_the_op_table_reaches_every_primitive(monkeypatch):
    seen = set()
    apply = autograd.Primitive.apply.__func__

    def recording(cls, *args, **settings):
        seen.add(cls)
        return apply(cls, *args, **settings)

    monkeypatch.setattr(autograd.Primitive, "apply", classmethod(recording))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for info in op_db:
            run_entry(info)
    unreached = sorted(f"{c.__module__}.{c.__name__}" for c in primitives_of_ops() - seen)
    assert not unreached, f"primitives no op_db entry reaches: {unreached}"


@testing.ops(op_db)
def test_the_battery_passes_on(info):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        check_op(info)


class _Softsign(tc.autograd.Function):
    """x / (1 + |x|), with a backward a test can get wrong on purpose."""

    scale = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _Softsign.scale / (1 + x.abs()) ** 2


def _softsign_entry(**changes):
    settings = {"reference": lambda x: x / (1 + np.abs(x)),
                "refusals": (Refusal("a dimension out of range", lambda t, F: _Softsign.apply(t.ones(2)).sum(2),
                                     IndexError, "out of range"),)}
    return OpInfo("softsign", lambda t, F, x: _Softsign.apply(x), **{**settings, **changes})


def test_the_battery_passes_a_correct_custom_function():
    check_op(_softsign_entry(), shapes=[(2, 3, 4, 5), (3,)])


def test_the_battery_finds_a_wrong_first_derivative(monkeypatch):
    monkeypatch.setattr(_Softsign, "scale", 1.01)
    with pytest.raises(OpCheckError, match=r"gradcheck at x of shape \(2, 3, 4, 5\)"):
        check_op(_softsign_entry())


def test_the_battery_finds_a_wrong_forward_against_the_reference():
    with pytest.raises(OpCheckError, match="reference at x of shape"):
        check_op(_softsign_entry(reference=lambda x: x / (1 + x * x)))


def test_the_battery_finds_a_result_that_depends_on_the_memory_layout():
    """An operation that reads x's memory in storage order (a classic NumPy-port bug)."""
    def by_memory(t, F, x):
        flat = np.ravel(x.detach().numpy(), order="K")
        return x * t.tensor(flat.reshape(x.shape))

    with pytest.raises(OpCheckError, match="layout permuted"):
        check_op(OpInfo("by_memory", by_memory))


def test_the_battery_finds_a_refusal_that_does_not_happen_and_a_wrong_error():
    entry = _softsign_entry(refusals=(
        Refusal("never refused", lambda t, F: _Softsign.apply(t.ones(2)), ValueError),
        Refusal("wrong type", lambda t, F: t.ones(2).sum(2), TypeError)))
    with pytest.raises(OpCheckError, match="never refused.*ran without an error(.|\n)*wrong type.*raised"):
        check_op(entry)


def test_the_battery_finds_a_wrong_dtype_and_a_wrong_in_place_variant():
    entry = OpInfo("double", lambda t, F, x: x.double() * 2, inplace_variant=lambda t, F, x: x.mul_(2.5))
    with pytest.raises(OpCheckError) as failed:
        check_op(entry)
    assert "dtype float32 at x of shape (2, 3, 4, 5): output 0 has dtype float64" in str(failed.value)
    assert "in-place variant" in str(failed.value)


def test_each_refusal_is_pytorchs_too(torch):
    """The table's refusals are PyTorch's: the same call raises there, an error of the type the
    entry names (ours derive from it, so an ``except`` written for PyTorch's catches ours)."""
    refusals = [(info.name, refusal) for info in op_db for refusal in info.refusals]
    assert len(refusals) >= 25
    for name, refusal in refusals:
        with pytest.raises(refusal.error):
            refusal.call(torch, torch.nn.functional)
            pytest.fail(f"{name}: PyTorch accepts {refusal.why}")


def test_the_entries_listed_without_an_onnx_form_do_not_export():
    """The reviewed list stays true: an entry that exports now must leave it (and be checked)."""
    import dataclasses

    from tinygrad_cnn.testing.table import _NOT_EXPORTED

    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    exporting = []
    for info in op_db:
        if info.name in _NOT_EXPORTED:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    check_op(dataclasses.replace(info, onnx=True, refusals=()))
                    exporting.append(info.name)
                except OpCheckError as error:
                    if "onnx at" not in str(error):
                        exporting.append(info.name)
    assert not exporting, f"these export and agree now; take them off _NOT_EXPORTED: {exporting}"


def public_callables() -> list[tuple[object, str]]:
    """(namespace, name) for every public function of tinygrad_cnn and its functional module and
    every public method of Tensor (classes, modules and properties aside)."""
    found = []
    for space in (tc, F, tc.Tensor):
        for name in dir(space):
            if name.startswith("_") or isinstance(inspect.getattr_static(space, name), property):
                continue
            value = getattr(space, name)
            if callable(value) and not inspect.isclass(value) and not inspect.ismodule(value):
                found.append((space, name))
    return found


def test_every_public_operation_has_an_entry_or_a_reviewed_reason(monkeypatch):
    """Each public callable is called by some entry's fn (in any of its namespaces: tc.exp or
    Tensor.exp), or is listed in ``table.NOT_OPERATIONS`` with why it has none; a listed one
    that an entry calls must leave the list."""
    from tinygrad_cnn.testing import table

    called = set()

    def recording(name, function):
        def wrapper(*args, **kwargs):
            if sys._getframe(1).f_code.co_filename == table.__file__:
                called.add(name)
            return function(*args, **kwargs)
        return wrapper

    callables = public_callables()
    for space, name in callables:
        static = inspect.getattr_static(space, name)
        function = static.__func__ if isinstance(static, staticmethod) else static if space is tc.Tensor \
            else getattr(space, name)
        wrapped = recording(name, function)
        monkeypatch.setattr(space, name, staticmethod(wrapped) if isinstance(static, staticmethod) else wrapped)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for info in op_db:
            run_entry(info)
    names = {name for _, name in callables}
    missing = sorted(names - called - set(table.NOT_OPERATIONS))
    assert not missing, f"public callables no entry calls and no reason excludes: {missing}"
    stale = sorted(called & set(table.NOT_OPERATIONS))
    assert not stale, f"listed as not operations, but called by entries: {stale}"
    unknown = sorted(set(table.NOT_OPERATIONS) - names)
    assert not unknown, f"listed as not operations, but not public callables: {unknown}"
