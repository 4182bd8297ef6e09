"""Elementwise primitives: arithmetic with NumPy broadcasting and unary functions."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import kernels
from ..autograd import Primitive
from ..creation import zeros_like
from ..promotion import floating, result_type
from ..tensor import Tensor
from .arguments import ArgumentError, DtypeError, NotImplementedArgumentsError, is_integer
from .broadcast import sum_to_shape

Operand = Any  # a Tensor or a Python number


_PASS_THROUGH = (Tensor, float, int, bool)


def operand(value: Any, op: str) -> Operand:
    """Tensors pass through; Python numbers stay scalars (so float32 stays float32)."""
    if type(value) in _PASS_THROUGH or isinstance(value, Tensor):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, list, tuple)):
        return Tensor(value)
    raise TypeError(
        f"{op}: unsupported operand type {type(value).__name__}; expected a Tensor, NumPy "
        "array, list or Python number"
    )


def _shape(value: Operand) -> tuple[int, ...]:
    return value.shape if isinstance(value, Tensor) else ()


def binary_op(op: str, function: type[Primitive], a: Any, b: Any, true_division: bool = False,
              **layout: str) -> Tensor:
    """``function`` of a and b, broadcast and promoted as PyTorch's; ``output_layout=`` overrides
    the primitive's layout rule (``Primitive.apply``)."""
    if type(a) not in _PASS_THROUGH:  # the common types skip the call
        a = operand(a, op)
    if type(b) not in _PASS_THROUGH:
        b = operand(b, op)
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # a Python number broadcasts to anything
        shape_a, shape_b = a._data.shape, b._data.shape
        if shape_a != shape_b and shape_a and shape_b:
            try:
                np.broadcast_shapes(shape_a, shape_b)
            except ValueError:
                raise ArgumentError(
                    f"{op}: shapes {shape_a} and {shape_b} cannot be broadcast together"
                ) from None
        if a._data.dtype != b._data.dtype or true_division and a._data.dtype.kind != "f":
            a, b = promoted(a, b, true_division)
    elif isinstance(a, Tensor):
        if a._data.dtype.kind != "f":  # a float tensor keeps its dtype whatever the number
            a, b = promoted(a, b, true_division)
    elif isinstance(b, Tensor) and b._data.dtype.kind != "f":
        a, b = promoted(a, b, true_division)
    return function.apply(a, b, **layout)


def promoted(a: Operand, b: Operand, true_division: bool = False) -> tuple[Operand, Operand]:
    """``a`` and ``b`` with their Tensors cast to PyTorch's result type (a number is taken by
    NumPy at the tensor's dtype); with ``true_division``, integers become the default float."""
    dtype = result_type(a, b)
    if true_division:
        dtype = floating(dtype)
    return (cast(a, dtype) if isinstance(a, Tensor) else a), (cast(b, dtype) if isinstance(b, Tensor) else b)


class _Binary(Primitive):
    """Shared bookkeeping: sum broadcast gradients back to the inputs' shapes."""

    output_layout = "iterator"

    def reduce(self, grad_a: Tensor | None, grad_b: Tensor | None) -> tuple:
        a, b = self.inputs  # an input that needs a gradient is a Tensor
        needs = self.needs_input_grad
        return (
            sum_to_shape(grad_a, a._data.shape) if needs[0] else None,
            sum_to_shape(grad_b, b._data.shape) if needs[1] else None,
        )


class Add(_Binary):
    backward_reads = ()

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return ctx.reduce(grad, grad)


class Sub(_Binary):
    backward_reads = ()

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return ctx.reduce(grad, -grad if ctx.needs_input_grad[1] else None)


class Mul(_Binary):
    backward_reads = {0: (1,), 1: (0,)}  # each factor for the other's gradient

    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return ctx.reduce(
            grad * b if ctx.needs_input_grad[0] else None,
            grad * a if ctx.needs_input_grad[1] else None,
        )


class Div(_Binary):
    backward_reads = {0: (1,), 1: (0, 1)}

    @staticmethod
    def forward(ctx, a, b):
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return ctx.reduce(
            grad / b if ctx.needs_input_grad[0] else None,
            -grad * (a / b / b) if ctx.needs_input_grad[1] else None,  # PyTorch's order: no overflow of b * b
        )


class Pow(_Binary):
    """a ** b. Backward reads a and b, and the result where the exponent is a tensor, as PyTorch's."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        if isinstance(b, np.ndarray):
            ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:  # 0 where the exponent is 0, even at a = 0 (0 * inf), as PyTorch
            grad_a = grad * b * a ** (b - 1)
            if not isinstance(b, Tensor):
                grad_a = grad_a if b != 0 else zeros_like(grad_a)
            else:
                grad_a = where(b == 0, 0.0, grad_a)
        if ctx.needs_input_grad[1]:  # a ** b * log(a), but 0 where a = 0 and b >= 0 (PyTorch's limit)
            result = ctx.result(*ctx.saved_tensors)
            if isinstance(a, Tensor):
                limit = (a._data == 0) & (b._data >= 0)
                grad_b = grad * where(Tensor(limit), 0.0, result * a.log())
            else:
                grad_b = grad * (result * math.log(a) if a != 0 else where(b >= 0, 0.0, result * -math.inf))
        return ctx.reduce(grad_a, grad_b)


def add(a: Any, b: Any, *, alpha: Any = 1) -> Tensor:
    """a + alpha * b (PyTorch's ``add``)."""
    return binary_op("add", Add, a, b if alpha == 1 else b * alpha)


def sub(a: Any, b: Any, *, alpha: Any = 1) -> Tensor:
    """a - alpha * b (PyTorch's ``sub``)."""
    if _is_bool(a) or _is_bool(b):
        raise DtypeError("sub: subtraction, the `-` operator, with a bool tensor is not supported (as in "
                         "PyTorch); to invert a mask use `~` or logical_not()")
    return binary_op("sub", Sub, a, b if alpha == 1 else b * alpha)


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_)) or isinstance(value, Tensor) and value._data.dtype == np.bool_


def mul(a: Any, b: Any) -> Tensor:
    return binary_op("mul", Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    return binary_op("div", Div, a, b, true_division=True)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001  (mirrors torch.pow)
    if _is_bool(a) and _is_bool(b):
        if not isinstance(b, (bool, np.bool_)):
            raise NotImplementedArgumentsError("pow: not implemented for a bool base and a bool tensor exponent "
                                               "(as in PyTorch)")
        return a.clone() if b else where(a, True, True)  # x ** True is x, x ** False is 1 (True)
    if not isinstance(a, Tensor):  # PyTorch's pow(Scalar, Tensor) writes row-major memory
        return binary_op("pow", Pow, a, b, output_layout="contiguous")
    return binary_op("pow", Pow, a, b)


class FloorDivide(_Binary):
    """``a // b``: floor(a / b), Python's rounding; like PyTorch's it has no derivative."""

    backward_reads = ()

    @staticmethod
    def forward(ctx, a, b):
        if np.asarray(a).dtype.kind in "iu" and np.asarray(b).dtype.kind in "iu" and np.any(np.asarray(b) == 0):
            raise ArgumentError("floor_divide: integer division by zero (ZeroDivisionError)")
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("floor_divide: the derivative is not implemented (as in PyTorch); "
                           "use torch.div(a, b, rounding_mode='floor') on values that need no gradient")


def floor_divide(a: Any, b: Any) -> Tensor:
    if _is_bool(a) and _is_bool(b):
        raise NotImplementedArgumentsError("floor_divide: not implemented for two bool operands (as in PyTorch)")
    return binary_op("floor_divide", FloorDivide, a, b)


_COMPARISONS = {
    "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal,
}


class Compare(Primitive):
    """An elementwise comparison (``op`` is lt, le, gt, ge, eq or ne): a bool tensor with no
    gradient. It joins the graph only while an export traces it (a mask that depends on the
    input must stay a computation, not become a constant)."""

    output_layout = "iterator"
    backward_reads = ()

    @staticmethod
    def forward(ctx, a, b, op):
        return _COMPARISONS[op](a, b)

    @staticmethod
    def backward(ctx, grad):
        return None, None


def compare(op: str, a: Any, b: Any) -> Tensor:
    """An elementwise comparison with broadcasting: a bool tensor."""
    a, b = operand(a, op), operand(b, op)
    shape_a, shape_b = _shape(a), _shape(b)
    try:
        np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ArgumentError(f"{op}: shapes {shape_a} and {shape_b} cannot be broadcast together") from None
    return Compare.apply(a, b, op=op)


# --------------------------------------------------------------------------- unary

class Neg(Primitive):
    backward_reads = ()
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Primitive):
    """exp(x); backward reads the result, its own derivative (as PyTorch's)."""

    backward_reads = ()
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.result(*ctx.saved_tensors)


class Log(Primitive):
    backward_reads = (0,)
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad / x


class Sqrt(Primitive):
    """sqrt(x); backward reads the result: grad / (2 sqrt(x)) (as PyTorch's)."""

    backward_reads = ()
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.result(*ctx.saved_tensors))


class Rsqrt(Primitive):
    """1 / sqrt(x); backward reads the result: -grad y^3 / 2 (as PyTorch's)."""

    backward_reads = ()
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        out = np.reciprocal(np.sqrt(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return -0.5 * grad * ctx.result(*ctx.saved_tensors) ** 3


class Abs(Primitive):
    backward_reads = (0,)
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad * _sign(x._data)


class Log1p(Primitive):
    """log(1 + x), accurate for small x."""

    backward_reads = (0,)
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad / (x + 1)


def _sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1, and 0 at NaN (PyTorch's sign; NumPy's gives NaN): Sign's values, Abs's slope.
    The sign of a bool is itself."""
    if x.dtype.kind == "f":
        return np.where(np.isnan(x), np.zeros((), x.dtype), np.sign(x))
    return x.copy() if x.dtype == np.bool_ else np.sign(x)


class Sign(Primitive):
    """-1, 0 or 1; its gradient is zero everywhere (as PyTorch's)."""

    backward_reads = ()
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        return _sign(x)

    @staticmethod
    def backward(ctx, grad):
        return zeros_like(grad)  # zeros, also where grad is NaN or infinite


class Rounding(Primitive):
    """floor, ceil, round (half to even) or trunc; integers pass through unchanged, and the
    gradient is zero everywhere (as PyTorch's)."""

    backward_reads = ()
    output_layout = "iterator"
    KERNELS = {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc}

    @staticmethod
    def forward(ctx, x, how):
        return x.copy() if x.dtype.kind in "iub" else Rounding.KERNELS[how](x)

    @staticmethod
    def backward(ctx, grad):
        return zeros_like(grad)


class Relu(Primitive):
    """max(x, 0). Backward reads the output, as PyTorch's does (it is 0 exactly where x <= 0),
    so an in-place ReLU needs no copy of the values it overwrites."""

    backward_reads = ()  # the saved output's version is checked instead
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        out = kernels.relu(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ReluBackward.apply(grad, out)


class ReluBackward(Primitive):
    """0 where x <= 0, else grad (PyTorch's threshold_backward, so a NaN x passes grad on); x
    may be ReLU's input or its output, which is <= 0 at the same places.

    Linear in grad, so its own backward is itself; x only selects (a constant mask).
    """

    backward_reads = (1,)

    @staticmethod
    def forward(ctx, grad, x):
        return kernels.threshold_backward(grad, x)

    @staticmethod
    def backward(ctx, grad_grad):
        return ReluBackward.apply(grad_grad, ctx.inputs[1]), None


class Sigmoid(Primitive):
    """1 / (1 + exp(-x)); backward reads the result s: grad (1 - s) s (as PyTorch's)."""

    backward_reads = ()
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x gives 0, as it should
            out = 1 / (1 + np.exp(-x))  # PyTorch's formula, so float32 results round alike
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        s = ctx.result(*ctx.saved_tensors)
        return grad * (1 - s) * s


class Tanh(Primitive):
    """tanh(x); backward reads the result t: grad (1 - t^2) (as PyTorch's)."""

    backward_reads = ()
    output_layout = "iterator"

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        t = ctx.result(*ctx.saved_tensors)
        return grad * (1 - t * t)


class Where(Primitive):
    """``a`` where ``condition`` (a bool tensor) holds, else ``b``, all broadcast; the gradient
    follows the choice."""

    output_layout = "iterator"
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, condition, a, b):
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        condition, a, b = ctx.inputs
        grad_a = sum_to_shape(Where.apply(condition, grad, 0.0), a.shape) if ctx.needs_input_grad[1] else None
        grad_b = sum_to_shape(Where.apply(condition, 0.0, grad), b.shape) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


def condition_tensor(op: str, condition: Any) -> Tensor:
    """A bool condition as a Tensor (an array or list becomes a constant one)."""
    condition = condition if isinstance(condition, Tensor) else Tensor(np.asarray(condition))
    if condition.dtype != np.bool_:
        raise TypeError(f"{op}: the condition must be a bool tensor, got dtype {condition.dtype}")
    return condition


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise ``input if condition else other``, all three broadcast together."""
    condition = condition_tensor("where", condition)
    a, b = operand(input, "where"), operand(other, "where")
    shapes = [condition.shape, getattr(a, "shape", ()), getattr(b, "shape", ())]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ArgumentError(f"where: the condition {shapes[0]}, input {shapes[1]} and other {shapes[2]} "
                            "cannot be broadcast together") from None
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(np.asarray(a, dtype=result_type(a, b)))
    a, b = promoted(a, b)
    return Where.apply(condition, a, b)


class Clamp(Primitive):
    """x limited to [min, max] (either bound may be None); the gradient passes where
    min <= x <= max, as in PyTorch."""

    output_layout = "iterator"
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x, min, max):  # noqa: A002  (PyTorch's names)
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        low, high = ctx.settings["min"], ctx.settings["max"]
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x._data >= low
        if high is not None:
            inside &= x._data <= high
        return Where.apply(Tensor(inside), grad, 0.0)  # a mask by selection: inf * 0 would be NaN


class Cast(Primitive):
    backward_reads = ()

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return grad.astype(x.dtype)


def float_input(x: Tensor) -> Tensor:
    """The input of a float function (exp, sqrt, ...): integers and bools become the default
    float dtype first, as in PyTorch (NumPy would give float64, or float16 for small integers)."""
    return x if x._data.dtype.kind == "f" else cast(x, floating(x._data.dtype))


def _refuse_bool(op: str, x: Tensor, error: type[Exception] = DtypeError) -> None:
    if x._data.dtype == np.bool_:
        raise error(f"{op}: not supported for a bool tensor (as in PyTorch)")


def neg(x: Tensor) -> Tensor:
    _refuse_bool("neg", x)
    return Neg.apply(x)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(float_input(x))


def log(x: Tensor) -> Tensor:
    return Log.apply(float_input(x))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(float_input(x))


def abs(x: Tensor) -> Tensor:  # noqa: A001  (mirrors torch.abs)
    _refuse_bool("abs", x, NotImplementedArgumentsError)
    return Abs.apply(x)


def log1p(x: Tensor) -> Tensor:
    return Log1p.apply(float_input(x))


def sign(x: Tensor) -> Tensor:
    return Sign.apply(x)


def floor(x: Tensor) -> Tensor:
    _refuse_bool("floor", x, NotImplementedArgumentsError)
    return Rounding.apply(x, how="floor")


def ceil(x: Tensor) -> Tensor:
    _refuse_bool("ceil", x, NotImplementedArgumentsError)
    return Rounding.apply(x, how="ceil")


def trunc(x: Tensor) -> Tensor:
    _refuse_bool("trunc", x, NotImplementedArgumentsError)
    return Rounding.apply(x, how="trunc")


def round(x: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001  (mirrors torch.round)
    _refuse_bool("round", x, NotImplementedArgumentsError)
    """Half to even, as PyTorch; ``decimals`` rounds ``x * 10**decimals`` and scales back."""
    if not is_integer(decimals):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    if decimals == 0:
        return Rounding.apply(x, how="round")
    scale = 10.0 ** int(decimals)
    return Rounding.apply(x * scale, how="round") / scale


def square(x: Tensor) -> Tensor:
    if x._data.dtype == np.bool_:  # PyTorch's square is pow(x, 2): bools count as int64
        x = cast(x, np.int64)
    return x * x


def rsqrt(x: Tensor) -> Tensor:
    return Rsqrt.apply(float_input(x))


def relu(x: Tensor) -> Tensor:
    _refuse_bool("relu", x)
    return Relu.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(float_input(x))


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(float_input(x))


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit every element to [min, max]; the bounds are numbers or tensors (broadcast), at least
    one given. The gradient reaches x where min <= x <= max, and a tensor bound where it won."""
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, Tensor) and (
                isinstance(bound, bool) or not isinstance(bound, (int, float, np.number))):
            raise TypeError(f"clamp: {name} must be a number or a Tensor, got {type(bound).__name__}")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        return Clamp.apply(x, min=None if min is None else float(min), max=None if max is None else float(max))
    if min is not None and max is not None and isinstance(min, Tensor) != isinstance(max, Tensor):
        raise TypeError("clamp: min and max must both be numbers or both be Tensors (as in PyTorch)")
    out = x if min is None else where(x < min, min, x)
    return out if max is None else where(out > max, max, out)


clip = clamp


def cast(x: Tensor, dtype: Any) -> Tensor:
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return Tensor(x._data.astype(dtype))
    return Cast.apply(x, dtype=dtype)


# --------------------------------------------------------------------------- floating-point classes

def _classified(op: str, x: Any, test: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind in "fc":
        return Tensor(test(x._data))
    return Tensor(np.full(x.shape, op == "isfinite"))  # integers are finite, never NaN or infinite


def isnan(input: Tensor) -> Tensor:  # noqa: A002
    return _classified("isnan", input, np.isnan)


def isinf(input: Tensor) -> Tensor:  # noqa: A002
    return _classified("isinf", input, np.isinf)


def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    return _classified("isfinite", input, np.isfinite)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced (by 0 and the dtype's largest and smallest values unless
    given); the gradient passes where the input is finite, as PyTorch's."""
    if not isinstance(input, Tensor):
        raise TypeError(f"nan_to_num: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        return input.clone()
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


class NanToNum(Primitive):
    """NaN, +inf and -inf replaced; backward multiplies by "x is finite", as PyTorch's (so an
    infinite gradient where x is not finite gives NaN there, as there)."""

    output_layout = "iterator"
    backward_reads = (0,)

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor(np.isfinite(ctx.inputs[0]._data))


class Lerp(Primitive):
    """``input + weight * (end - input)`` as PyTorch's kernel rounds it: ``end - (end - input) *
    (1 - weight)`` where ``|weight| >= 0.5`` (no cancellation near ``end``). One node, as
    PyTorch's: its output laid out from (input, end, weight), its backward reading the weight
    for the first two gradients and input and end for the weight's."""

    output_layout = "iterator"
    backward_reads = {0: (2,), 1: (2,), 2: (0, 1)}

    @staticmethod
    def forward(ctx, x, end, weight):
        dtype = x.dtype.type
        difference = end - x
        if isinstance(weight, np.ndarray):
            weight = weight.astype(x.dtype, copy=False)  # (a 0-d weight of another float dtype)
            return np.where(np.abs(weight) < 0.5, x + weight * difference, end - difference * (dtype(1) - weight))
        if -0.5 < weight < 0.5:
            return x + dtype(weight) * difference
        return end - difference * (dtype(1) - dtype(weight))

    @staticmethod
    def backward(ctx, grad):
        x, end, weight = ctx.inputs
        needs = ctx.needs_input_grad
        return (sum_to_shape(grad * (1 - weight), x.shape) if needs[0] else None,
                sum_to_shape(grad * weight, end.shape) if needs[1] else None,
                sum_to_shape(grad * (end - x), weight.shape) if needs[2] else None)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:  # noqa: A002
    """input + weight * (end - input), differentiable in all three, rounded as PyTorch's (see
    ``Lerp``). As PyTorch's, no promotion: ``end``, and a ``weight`` tensor that is not 0-d,
    must have input's floating dtype."""
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        raise TypeError(f"lerp: input and end must be Tensors, got {type(input).__name__} and {type(end).__name__}")
    if input.dtype.kind != "f":
        raise DtypeError(f"lerp: not implemented for dtype {input.dtype} (as in PyTorch); convert with .float()")
    for name, value in (("end", end), ("weight", weight)):
        if isinstance(value, Tensor) and (name == "end" or value.ndim) and value.dtype != input.dtype:
            raise DtypeError(f"lerp: expected dtype {input.dtype} for `{name}` but got dtype {value.dtype}")
    if not isinstance(weight, Tensor):
        weight = float(weight)
    shapes = [input.shape, end.shape, getattr(weight, "shape", ())]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ArgumentError(f"lerp: input {shapes[0]}, end {shapes[1]} and weight {shapes[2]} cannot be "
                            "broadcast together") from None
    return Lerp.apply(input, end, weight)


def clamp_min(x: Tensor, min: Any) -> Tensor:  # noqa: A002
    return clamp(x, min=min)


def clamp_max(x: Tensor, max: Any) -> Tensor:  # noqa: A002
    return clamp(x, max=max)
