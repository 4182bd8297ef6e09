"""PyTorch's type promotion over the whole dtype x dtype x {tensor, 0-dim, number} x op matrix,
replayed from a fixture that tests/fixtures/make_promotion_fixture.py wrote with PyTorch
(issue 19, finding 3)."""
import builtins
import json
import operator
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "promotion.json").read_text())

BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "pow": operator.pow, "lt": operator.lt, "eq": operator.eq,
    "where": lambda a, b: tc.where(tc.tensor([True, False, True]), a, b),
}


def build(description):
    if description["kind"] == "number":
        return description["value"]
    return tc.tensor(description["value"]).to(getattr(tc, description["dtype"]))


def describe(d):
    return d["dtype"] if d["kind"] == "number" else f"{d['kind']}:{d['dtype']}"


def difference(compute, expected):
    """What differs from PyTorch's outcome (None when nothing does)."""
    try:
        result = compute()
    except Exception as error:  # noqa: BLE001  (the class is compared)
        if "error" in expected and isinstance(error, getattr(builtins, expected["error"])):
            return None
        return f"raised {type(error).__name__}: {error}; PyTorch: {expected}"
    if "error" in expected:
        return f"gave {result.dtype}; PyTorch raises {expected['error']}"
    if np.dtype(result.dtype) != np.dtype(expected["dtype"]):
        return f"dtype {result.dtype}; PyTorch: {expected['dtype']}"
    if not np.allclose(result.numpy().astype(np.float64), np.asarray(expected["value"], np.float64), rtol=1e-6):
        return f"values {result.numpy().tolist()}; PyTorch: {expected['value']}"
    return None


@pytest.mark.parametrize("case", FIXTURE["binary"], ids=lambda c: f"{describe(c['left'])}-{describe(c['right'])}")
def test_binary_operations_promote_as_pytorch(case):
    a, b = build(case["left"]), build(case["right"])
    assert tc.result_type(a, b) == np.dtype(case["result_type"])
    differences = {name: difference(lambda f=BINARY[name]: f(a, b), expected) for name, expected in case["ops"].items()}
    assert not {k: v for k, v in differences.items() if v}


@pytest.mark.parametrize("case", FIXTURE["unary"], ids=lambda c: c["dtype"])
def test_unary_operations_on_every_dtype_as_pytorch(case):
    x = build({"kind": "tensor", "dtype": case["dtype"], "value": [3, 1, 2]})
    differences = {name: difference(lambda n=name: getattr(x, n)(), expected) for name, expected in case["ops"].items()}
    assert not {k: v for k, v in differences.items() if v}


def test_promote_types_and_can_cast():
    assert tc.promote_types(tc.uint8, tc.int8) == np.int16
    assert tc.promote_types(tc.int64, tc.float32) == np.float32
    assert tc.promote_types(tc.bool, tc.int16) == np.int16
    assert tc.can_cast(tc.float64, tc.float32) and tc.can_cast(tc.int64, tc.float32)
    assert not tc.can_cast(tc.float32, tc.int64) and not tc.can_cast(tc.int8, tc.bool)


def test_default_dtype_decides_numbers_and_divisions():
    assert tc.get_default_dtype() == np.float32
    try:
        tc.set_default_dtype(tc.float64)
        assert (tc.tensor([1, 2]) / 2).dtype == np.float64
        assert (tc.tensor([1, 2]) + 0.5).dtype == np.float64
        assert tc.tensor([1.5]).dtype == np.float64 and tc.zeros(2).dtype == np.float64
        assert (tc.ones(2, dtype=tc.float32) * 2.5).dtype == np.float32
    finally:
        tc.set_default_dtype(tc.float32)
    with pytest.raises(TypeError, match="float32 and float64"):
        tc.set_default_dtype(tc.int64)


def test_mixed_float_gradients_keep_each_input_dtype():
    a = tc.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = tc.tensor(3.0, dtype=tc.float64, requires_grad=True)  # a float64 0-dim tensor
    out = a * b
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(b.grad.numpy(), 3.0)


def test_dtype_mismatches_are_refused():
    with pytest.raises(TypeError, match="cross_entropy: expected floating point logits, got dtype int64"):
        F.cross_entropy(Tensor(np.zeros((2, 3), np.int64)), Tensor([0, 1]))
    with pytest.raises(TypeError, match="linear: input must be floating point, got dtype int64"):
        nn.Linear(3, 2)(Tensor(np.ones((2, 3), np.int64)))
    with pytest.raises(TypeError, match="conv2d: expected one dtype, got input float64, weight float32, "
                                        "bias float32"):
        nn.Conv2d(1, 2, 3)(Tensor(np.ones((1, 1, 5, 5))))
    with pytest.raises(TypeError, match="batch_norm: expected one dtype, got input float64, weight float32"):
        nn.BatchNorm2d(2)(Tensor(np.ones((2, 2, 3, 3))))
    with pytest.raises(TypeError, match="matmul: expected both operands to have the same dtype, got float32 and "
                                        "float64"):
        Tensor(np.ones((2, 3), np.float32)) @ Tensor(np.ones(3))
