"""The op table (``tinygrad_cnn.testing.op_db``) reaches every primitive of ``ops/``: each
entry is run forward, backward and, where it has one, through its second derivative, with
``Primitive.apply`` instrumented to record which primitives ran."""
import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import autograd, ops
from tinygrad_cnn.testing.op_db import Input, OpInfo, op_db

SHAPES = [(2, 3, 4, 5), (2, 4, 6, 5), (3, 5, 6), (3, 4), (4,), ()]
VALUES = {
    "real": lambda rng, shape: rng.standard_normal(shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "nonzero": lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(0.1, 0.9, shape),
    "ties": lambda rng, shape: rng.integers(-1, 2, shape) * 0.5,
}


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


def _input(rng: np.random.Generator, spec: Input) -> tc.Tensor:
    if spec.kind == "float":
        return tc.tensor(VALUES[spec.domain](rng, spec.shape), requires_grad=spec.requires_grad)
    if spec.kind == "index":
        return tc.tensor(rng.integers(0, max(spec.high, 1), spec.shape))
    if spec.kind == "bool":
        return tc.tensor(rng.random(spec.shape) > 0.5)
    return tc.tensor(rng.integers(-3, 4, spec.shape))


def run_entry(info: OpInfo) -> None:
    """The entry on the first shape it accepts: forward, then backward, or a gradient taken with
    ``create_graph`` and differentiated again where the entry has second derivatives."""
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        extras = info.inputs_for(shape)
        if extras is None:
            continue
        x = tc.tensor(VALUES[info.domain](rng, shape), requires_grad=True)
        source = x * 1 if info.inplace else x  # an in-place entry changes a non-leaf
        try:
            out = info.fn(tc, F, source, *[_input(rng, spec) for spec in extras])
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


@pytest.mark.parametrize("info", op_db, ids=lambda info: info.name)
def test_every_entry_runs_through_its_derivatives(info):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        run_entry(info)
