"""The op table: every public operation, in variants, as PyTorch code.

Each ``OpInfo`` is written once against PyTorch's names, ``fn(t, F, x, *extras)``, where ``t``
is the top-level module and ``F`` its functional module. Called with ``tinygrad_cnn`` and
``tinygrad_cnn.functional`` it runs here; called with ``torch`` and ``torch.nn.functional`` it
runs there, which is how the differential fuzzer (``tests/fuzz.py``) holds one to the other.
The library itself never imports PyTorch.

``x`` is the tensor an operation applies to (the current value of a random program);
``extras(shape)`` describes the other inputs it needs for an ``x`` of that shape, or returns
None when the operation does not apply to that shape.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import references

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Input:
    """One more input of an operation. ``kind``: "float" (values from ``domain``), "index"
    (integers in [0, high)), "bool", or "int"; ``dtype`` None means x's float dtype.
    ``requires_grad``: a float input that gradients are checked for. ``any_layout``: False
    where PyTorch's own kernel misreads other memory layouts of it (the fuzzer's TORCH_BUGS)."""

    shape: Shape
    kind: str = "float"
    domain: str = "real"
    high: int = 0
    dtype: str | None = None
    requires_grad: bool = True
    any_layout: bool = True


@dataclass(frozen=True)
class Refusal:
    """A call the operation must refuse: ``call(t, F)`` raises ``error`` (PyTorch's type, which
    ours derive from) with a message matching the regular expression ``match``."""

    why: str
    call: Callable[[Any, Any], Any]
    error: type[Exception] = RuntimeError
    match: str = ""


@dataclass(frozen=True)
class OpInfo:
    """An operation variant.

    ``fn(t, F, x, *extras)`` runs it, ``t`` and ``F`` being the library and its functional
    module. ``domain`` is where x's values must lie ("real", "positive", "nonzero", "unit": (0,
    1), or "ties": few distinct values); ``second_order``: PyTorch and this library both
    differentiate its gradient; ``inplace``: it changes x itself; ``min_ndim``/``max_ndim``
    bound x's dimensions; ``any_layout``: False where x's memory layout decides whether it runs
    (``view`` refuses strides it cannot view, as PyTorch's).

    For ``testing.check_op``: ``reference(x, *extras)`` computes the result from NumPy arrays
    by the definition, slowly and obviously; ``dtypes`` are the float dtypes it runs in;
    ``inplace_variant`` (same signature as ``fn``) changes x to what ``fn`` returns;
    ``onnx``: it exports; ``refusals``: calls it must refuse, with their errors.
    """

    name: str
    fn: Callable[..., Any]
    extras: Callable[[Shape], Sequence[Input] | None] = lambda shape: ()
    domain: str = "real"
    min_ndim: int = 0
    max_ndim: int = 4
    second_order: bool = True
    inplace: bool = False
    float_only: bool = True
    any_layout: bool = True
    reference: Callable[..., Any] | None = None
    dtypes: tuple[str, ...] = ("float32", "float64")
    inplace_variant: Callable[..., Any] | None = None
    onnx: bool = False
    refusals: tuple[Refusal, ...] = ()

    @property
    def family(self) -> str:
        """The operation's name without the variant ("conv2d" for "conv2d/stride2")."""
        return self.name.split("/")[0]

    def inputs_for(self, shape: Shape) -> Sequence[Input] | None:
        """The other inputs for an x of ``shape``, or None when the variant does not apply."""
        if not self.min_ndim <= len(shape) <= self.max_ndim:
            return None
        return self.extras(shape)


op_db: list[OpInfo] = []


def _add(*infos: OpInfo) -> None:
    op_db.extend(infos)


def _same(shape: Shape, **kwargs: Any) -> tuple[Input, ...]:
    return (Input(shape, **kwargs),)


def _needs(predicate: Callable[[Shape], bool], extras: Callable[[Shape], Sequence[Input]] = lambda s: ()
           ) -> Callable[[Shape], Sequence[Input] | None]:
    return lambda shape: extras(shape) if predicate(shape) else None


def _channel_vector(shape: Shape, **kwargs: Any) -> Input:
    return Input((shape[1],), **kwargs)


# --------------------------------------------------------------------------- elementwise

_UNARY: dict[str, tuple[Callable[..., Any], str]] = {
    "neg": (lambda t, F, x: -x, "real"),
    "abs": (lambda t, F, x: x.abs(), "real"),
    "sign": (lambda t, F, x: x.sign(), "real"),
    "floor": (lambda t, F, x: x.floor(), "real"),
    "ceil": (lambda t, F, x: t.ceil(x), "real"),
    "round": (lambda t, F, x: x.round(), "real"),
    "trunc": (lambda t, F, x: x.trunc(), "real"),
    "square": (lambda t, F, x: x.square(), "real"),
    "sqrt": (lambda t, F, x: x.sqrt(), "positive"),
    "rsqrt": (lambda t, F, x: x.rsqrt(), "positive"),
    "exp": (lambda t, F, x: x.exp(), "real"),
    "log": (lambda t, F, x: x.log(), "positive"),
    "log1p": (lambda t, F, x: x.log1p(), "positive"),
    "sigmoid": (lambda t, F, x: x.sigmoid(), "real"),
    "tanh": (lambda t, F, x: t.tanh(x), "real"),
    "relu": (lambda t, F, x: x.relu(), "real"),
    "relu/ties": (lambda t, F, x: F.relu(x), "ties"),
    "clamp/min": (lambda t, F, x: x.clamp(min=0.1), "real"),
    "clamp/max": (lambda t, F, x: x.clamp(max=0.2), "real"),
    "clamp/both": (lambda t, F, x: t.clamp(x, -0.5, 0.5), "ties"),
    "clip/min_only_zero": (lambda t, F, x: x.clip(min=0), "ties"),
    "pow/2": (lambda t, F, x: x ** 2, "real"),
    "pow/3": (lambda t, F, x: x.pow(3), "real"),
    "pow/0": (lambda t, F, x: x ** 0, "ties"),
    "pow/half": (lambda t, F, x: x ** 0.5, "positive"),
    "pow/minus1": (lambda t, F, x: x ** -1, "nonzero"),
    "rpow/2": (lambda t, F, x: 2 ** x, "real"),
    "mul/scalar": (lambda t, F, x: x * 2.5, "real"),
    "rmul/scalar": (lambda t, F, x: 3 * x, "real"),
    "add/scalar": (lambda t, F, x: x + 1, "real"),
    "rsub/scalar": (lambda t, F, x: 1 - x, "real"),
    "div/scalar": (lambda t, F, x: x / 3, "real"),
    "rdiv/scalar": (lambda t, F, x: 3 / x, "nonzero"),
    "relu6": (lambda t, F, x: F.relu6(x * 4), "ties"),
    "hardtanh": (lambda t, F, x: F.hardtanh(x), "ties"),
    "hardtanh/bounds": (lambda t, F, x: F.hardtanh(x, -0.25, 0.5), "real"),
    "leaky_relu": (lambda t, F, x: F.leaky_relu(x, 0.1), "ties"),
    "elu": (lambda t, F, x: F.elu(x), "real"),
    "selu": (lambda t, F, x: F.selu(x), "real"),
    "gelu": (lambda t, F, x: F.gelu(x), "real"),
    "gelu/tanh": (lambda t, F, x: F.gelu(x, approximate="tanh"), "real"),
    "silu": (lambda t, F, x: F.silu(x), "real"),
    "mish": (lambda t, F, x: F.mish(x), "real"),
    "softplus": (lambda t, F, x: F.softplus(x), "real"),
    "softplus/beta_threshold": (lambda t, F, x: F.softplus(x, beta=2, threshold=1), "real"),
    "hardswish": (lambda t, F, x: F.hardswish(x * 4), "real"),
    "hardsigmoid": (lambda t, F, x: F.hardsigmoid(x * 4), "real"),  # (PyTorch has no second derivative)
    "logsigmoid": (lambda t, F, x: F.logsigmoid(x), "real"),
    "F.sigmoid": (lambda t, F, x: F.sigmoid(x), "real"),
    "F.tanh": (lambda t, F, x: F.tanh(x), "real"),
}

def _erf(x: Any) -> Any:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def _softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


# the slow references of the unary entries, from the definitions (PyTorch's documented formulas)
_UNARY_REFERENCES: dict[str, Callable[[Any], Any]] = {
    "neg": np.negative, "abs": np.abs, "sign": np.sign, "floor": np.floor, "ceil": np.ceil,
    "round": np.round, "trunc": np.trunc, "square": lambda x: x * x, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "exp": np.exp, "log": np.log, "log1p": np.log1p,
    "sigmoid": _sigmoid, "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0),
    "relu/ties": lambda x: np.maximum(x, 0), "clamp/min": lambda x: np.maximum(x, 0.1),
    "clamp/max": lambda x: np.minimum(x, 0.2), "clamp/both": lambda x: np.minimum(np.maximum(x, -0.5), 0.5),
    "clip/min_only_zero": lambda x: np.maximum(x, 0), "pow/2": lambda x: x * x, "pow/3": lambda x: x * x * x,
    "pow/0": np.ones_like, "pow/half": np.sqrt, "pow/minus1": lambda x: 1 / x, "rpow/2": lambda x: 2.0 ** x,
    "mul/scalar": lambda x: x * 2.5, "rmul/scalar": lambda x: 3 * x, "add/scalar": lambda x: x + 1,
    "rsub/scalar": lambda x: 1 - x, "div/scalar": lambda x: x / 3, "rdiv/scalar": lambda x: 3 / x,
    "relu6": lambda x: np.minimum(np.maximum(4 * x, 0), 6), "hardtanh": lambda x: np.minimum(np.maximum(x, -1), 1),
    "hardtanh/bounds": lambda x: np.minimum(np.maximum(x, -0.25), 0.5),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.1 * x), "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554804934193349852946 * np.where(
        x > 0, x, 1.6732632423543772848170429916717 * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "gelu/tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "silu": lambda x: x * _sigmoid(x), "mish": lambda x: x * np.tanh(_softplus(x)), "softplus": _softplus,
    "softplus/beta_threshold": lambda x: _softplus(x, 2, 1),
    "hardswish": lambda x: 4 * x * np.minimum(np.maximum(4 * x + 3, 0), 6) / 6,
    "hardsigmoid": lambda x: np.minimum(np.maximum(4 * x + 3, 0), 6) / 6, "logsigmoid": lambda x: -np.log1p(np.exp(-x)),
    "F.sigmoid": _sigmoid, "F.tanh": np.tanh,
}
_add(*(OpInfo(name, fn, domain=domain, second_order=name != "hardsigmoid", reference=_UNARY_REFERENCES[name])
       for name, (fn, domain) in _UNARY.items()))


def _broadcast_partners(shape: Shape) -> dict[str, Shape]:
    """Shapes that broadcast against ``shape``: the same, trailing dims only, ones, 0-d."""
    partners = {"same": shape, "scalar_tensor": ()}
    if len(shape) >= 2:
        partners["trailing"] = shape[1:]
        partners["ones"] = tuple(1 if i % 2 else n for i, n in enumerate(shape))
        partners["leading"] = (2,) + shape if len(shape) < 4 else shape
    return partners


_BINARY: dict[str, tuple[Callable[..., Any], str, Callable[[Any, Any], Any]]] = {
    "add": (lambda t, F, x, y: x + y, "real", np.add),
    "sub": (lambda t, F, x, y: x - y, "real", np.subtract),
    "mul": (lambda t, F, x, y: x * y, "real", np.multiply),
    "div": (lambda t, F, x, y: x / y, "nonzero", np.divide),
    "pow": (lambda t, F, x, y: x.abs() ** y, "real", lambda x, y: np.abs(x) ** y),
    "where": (lambda t, F, x, y: t.where(x > 0, x, y), "real", lambda x, y: np.where(x > 0, x, y)),
}
for _name, (_fn, _domain, _reference) in _BINARY.items():
    for _partner in ("same", "scalar_tensor", "trailing", "ones", "leading"):
        _add(OpInfo(f"{_name}/{_partner}", _fn, reference=_reference,
                    extras=lambda shape, p=_partner, d=_domain: (
                        (Input(_broadcast_partners(shape)[p], domain=d),) if p in _broadcast_partners(shape)
                        else None)))

# dtype promotion: PyTorch's result_type, not NumPy's
_add(
    OpInfo("mul/int64_tensor", lambda t, F, x, y: x * y, extras=lambda s: (Input(s, kind="int", high=4),)),
    OpInfo("add/float64_0d", lambda t, F, x, y: x + y,
           extras=lambda s: (Input((), dtype="float64", requires_grad=False),)),
    OpInfo("pow/int64_tensor", lambda t, F, x, y: x ** y, extras=lambda s: (Input(s, kind="int", high=3),)),
    OpInfo("add/bool_tensor", lambda t, F, x, y: x + y, extras=lambda s: (Input(s, kind="bool"),)),
    OpInfo("mul/float64_tensor", lambda t, F, x, y: x * y, extras=lambda s: (Input(s, dtype="float64"),)),
    OpInfo("masked_fill", lambda t, F, x, m: x.masked_fill(m, 0.5), extras=lambda s: (Input(s, kind="bool"),)),
    OpInfo("masked_fill/broadcast_mask", lambda t, F, x, m: x.masked_fill(m, -1.0),
           extras=lambda s: (Input(s[-1:], kind="bool"),) if s else None),
    OpInfo("compare/gt", lambda t, F, x, y: x > y, extras=lambda s: (Input(s),), second_order=False),
    OpInfo("compare/eq_scalar", lambda t, F, x: x == 0.5, domain="ties", second_order=False),
)

# --------------------------------------------------------------------------- reductions

_DIMS: dict[str, Callable[[Shape], Any]] = {
    "all": lambda s: None, "0": lambda s: 0, "last": lambda s: -1, "first_and_last": lambda s: (0, -1),
}
for _dims_name, _dims in _DIMS.items():
    for _keep in ((False,) if _dims_name == "all" else (False, True)):
        _tag = f"{_dims_name}{'_keepdim' if _keep else ''}"
        _needs_dim = _dims_name != "all"
        _min = 2 if _dims_name == "first_and_last" else (1 if _needs_dim else 0)

        def _dim_args(shape: Shape, d=_dims, k=_keep) -> dict[str, Any]:
            dim = d(shape)
            return {} if dim is None else {"dim": dim, "keepdim": k}

        def _over(reduce: Callable[..., Any], d=_dims, k=_keep, **more: Any) -> Callable[[Any], Any]:
            """The NumPy reduction over the entry's dimensions (all of them where it names none)."""
            return lambda x: reduce(x, axis=d(x.shape), keepdims=k, **more)

        _add(
            OpInfo(f"sum/{_tag}", lambda t, F, x, a=_dim_args: x.sum(**a(x.shape)), min_ndim=_min,
                   reference=_over(np.sum)),
            OpInfo(f"mean/{_tag}", lambda t, F, x, a=_dim_args: x.mean(**a(x.shape)), min_ndim=_min,
                   reference=_over(np.mean)),
            OpInfo(f"amax/{_tag}", lambda t, F, x, d=_dims, k=_keep: x.amax(
                dim=() if d(x.shape) is None else d(x.shape), keepdim=k), domain="ties", min_ndim=_min,
                reference=_over(np.max)),
            OpInfo(f"var/{_tag}", lambda t, F, x, a=_dim_args: x.var(**a(x.shape)), min_ndim=max(_min, 1),
                   reference=_over(np.var, ddof=1)),
            OpInfo(f"std/{_tag}", lambda t, F, x, a=_dim_args: x.std(**a(x.shape)), min_ndim=max(_min, 1),
                   reference=_over(np.std, ddof=1)),
            OpInfo(f"logsumexp/{_tag}", lambda t, F, x, d=_dims, k=_keep: x.logsumexp(
                dim=tuple(range(x.ndim)) if d(x.shape) is None else d(x.shape), keepdim=k), min_ndim=max(_min, 1),
                reference=_over(lambda x, **a: np.log(np.sum(np.exp(x), **a)))),
        )
        if _dims_name in ("0", "last"):
            _add(
                OpInfo(f"max_dim/{_tag}", lambda t, F, x, d=_dims, k=_keep: x.max(d(x.shape), keepdim=k).values,
                       domain="ties", min_ndim=1, reference=_over(np.max)),
                OpInfo(f"min_dim/{_tag}", lambda t, F, x, d=_dims, k=_keep: x.min(dim=d(x.shape), keepdim=k)[0],
                       domain="ties", min_ndim=1, reference=_over(np.min)),
                OpInfo(f"argmax/{_tag}", lambda t, F, x, d=_dims, k=_keep: x.argmax(d(x.shape), keepdim=k),
                       domain="ties", min_ndim=1, second_order=False, reference=_over(np.argmax)),
                OpInfo(f"argmin/{_tag}", lambda t, F, x, d=_dims, k=_keep: x.argmin(dim=d(x.shape), keepdim=k),
                       domain="ties", min_ndim=1, second_order=False, reference=_over(np.argmin)),
            )


def _softmax(x: Any, dim: int) -> Any:
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


_add(
    OpInfo("max/all", lambda t, F, x: x.max(), domain="ties", reference=np.max),
    OpInfo("min/all", lambda t, F, x: t.min(x), domain="ties", reference=np.min),
    OpInfo("var/correction0", lambda t, F, x: x.var(dim=-1, correction=0), min_ndim=1,
           reference=lambda x: np.var(x, -1)),
    OpInfo("std/unbiased_false", lambda t, F, x: x.std(0, unbiased=False), min_ndim=1,
           reference=lambda x: np.std(x, 0)),
    OpInfo("mean/tuple_dims_keepdim", lambda t, F, x: x.mean((0, 1), keepdim=True), min_ndim=2,
           reference=lambda x: np.mean(x, (0, 1), keepdims=True)),
)
for _dim_name, _dim in (("0", 0), ("last", -1), ("1", 1)):
    _add(
        OpInfo(f"softmax/{_dim_name}", lambda t, F, x, d=_dim: F.softmax(x, dim=d), min_ndim=max(1, _dim + 1),
               reference=lambda x, d=_dim: _softmax(x, d)),
        OpInfo(f"log_softmax/{_dim_name}", lambda t, F, x, d=_dim: x.log_softmax(d), min_ndim=max(1, _dim + 1),
               reference=lambda x, d=_dim: np.log(_softmax(x, d))),
    )

# --------------------------------------------------------------------------- shape and indexing

_add(
    OpInfo("reshape/flat", lambda t, F, x: x.reshape(-1)),
    OpInfo("reshape/reversed", lambda t, F, x: x.reshape(x.shape[::-1])),
    OpInfo("reshape/split_first", lambda t, F, x: x.reshape(1, *x.shape), max_ndim=3),
    OpInfo("view/flat", lambda t, F, x: x.view(-1), any_layout=False),
    OpInfo("view/batch_flat", lambda t, F, x: x.view(x.size(0), -1), min_ndim=2, any_layout=False),
    OpInfo("view_as", lambda t, F, x: x.view_as(x)),
    OpInfo("flatten", lambda t, F, x: x.flatten()),
    OpInfo("flatten/from1", lambda t, F, x: t.flatten(x, 1), min_ndim=2),
    OpInfo("permute/reversed", lambda t, F, x: x.permute(*range(x.ndim - 1, -1, -1)), min_ndim=1),
    OpInfo("permute/channels_last", lambda t, F, x: x.permute(0, 2, 3, 1), min_ndim=4),
    OpInfo("transpose/first_last", lambda t, F, x: x.transpose(0, -1), min_ndim=1),
    OpInfo("T", lambda t, F, x: x.T, min_ndim=2, max_ndim=2),
    OpInfo("unsqueeze/0", lambda t, F, x: x.unsqueeze(0), max_ndim=3),
    OpInfo("unsqueeze/last", lambda t, F, x: t.unsqueeze(x, -1), max_ndim=3),
    OpInfo("squeeze/all", lambda t, F, x: x.squeeze()),
    OpInfo("squeeze/0", lambda t, F, x: x.squeeze(0)),
    OpInfo("expand/new_dim", lambda t, F, x: x.expand(2, *x.shape), max_ndim=3),
    OpInfo("expand_as", lambda t, F, x, y: x.expand_as(y),
           extras=lambda s: (Input((2,) + s, requires_grad=False),), max_ndim=3),
    OpInfo("repeat/twice", lambda t, F, x: x.repeat(*([2] + [1] * (x.ndim - 1))), min_ndim=1),
    OpInfo("repeat/ones", lambda t, F, x: x.repeat(*([1] * x.ndim)), min_ndim=1),
    OpInfo("repeat/new_dim", lambda t, F, x: x.repeat(2, *([1] * x.ndim)), max_ndim=3),
    OpInfo("flip/0", lambda t, F, x: x.flip(0), min_ndim=1),
    OpInfo("flip/all", lambda t, F, x: t.flip(x, tuple(range(x.ndim)))),
    OpInfo("contiguous", lambda t, F, x: x.contiguous()),
    OpInfo("clone", lambda t, F, x: x.clone()),
    OpInfo("cat/self", lambda t, F, x: t.cat([x, x], dim=0), min_ndim=1),
    OpInfo("cat/one", lambda t, F, x: t.cat([x]), min_ndim=1),
    OpInfo("cat/other_last", lambda t, F, x, y: t.cat((x, y), -1), extras=lambda s: (Input(s),), min_ndim=1),
    OpInfo("stack/self", lambda t, F, x: t.stack([x, x * 2], dim=-1), max_ndim=3),
    OpInfo("stack/one", lambda t, F, x: t.stack([x]), max_ndim=3),
    OpInfo("split/first", lambda t, F, x: x.split(2)[0], min_ndim=1),
    OpInfo("split/last_sections", lambda t, F, x: t.split(x, [1, x.shape[-1] - 1], -1)[-1],
           extras=_needs(lambda s: len(s) >= 1 and s[-1] >= 1)),
    OpInfo("chunk/last", lambda t, F, x: x.chunk(2, dim=-1)[-1], min_ndim=1),
    OpInfo("getitem/int", lambda t, F, x: x[0], min_ndim=1),
    OpInfo("getitem/negative_int", lambda t, F, x: x[-1], min_ndim=1),
    OpInfo("getitem/element", lambda t, F, x: x[(0,) * x.ndim], min_ndim=1),
    OpInfo("getitem/slice", lambda t, F, x: x[:, 1:], min_ndim=2),
    OpInfo("getitem/step", lambda t, F, x: x[..., ::2], min_ndim=1),
    OpInfo("getitem/none", lambda t, F, x: x[None], max_ndim=3),
    OpInfo("getitem/index_tensor", lambda t, F, x, i: x[i], min_ndim=1,
           extras=lambda s: (Input((3,), kind="index", high=s[0]),) if s[0] else None),
    OpInfo("getitem/bool_mask", lambda t, F, x, m: x[m], extras=lambda s: (Input(s, kind="bool"),), min_ndim=1),
    OpInfo("index_select/last", lambda t, F, x, i: x.index_select(-1, i), min_ndim=1,
           extras=lambda s: (Input((4,), kind="index", high=s[-1]),) if s[-1] else None),
    OpInfo("gather/last", lambda t, F, x, i: x.gather(-1, i), min_ndim=1,
           extras=lambda s: (Input(s, kind="index", high=s[-1]),) if s[-1] else None),
    OpInfo("where/scalar_other", lambda t, F, x: t.where(x > 0, x, 0.0)),
)

# --------------------------------------------------------------------------- matrix products

_add(
    OpInfo("matmul/matrix", lambda t, F, x, w: x @ w, min_ndim=2, max_ndim=2,
           extras=lambda s: (Input((s[-1], 3)),)),
    OpInfo("matmul/batched", lambda t, F, x, w: t.matmul(x, w), min_ndim=3, max_ndim=4,
           extras=lambda s: (Input((s[-1], 2)),)),
    OpInfo("matmul/vector", lambda t, F, x, v: x @ v, min_ndim=1, max_ndim=3, extras=lambda s: (Input((s[-1],)),)),
    OpInfo("linear", lambda t, F, x, w, b: F.linear(x, w, b), min_ndim=1,
           extras=lambda s: (Input((3, s[-1])), Input((3,)))),
    OpInfo("linear/no_bias", lambda t, F, x, w: F.linear(x, w), min_ndim=2, extras=lambda s: (Input((2, s[-1])),)),
)

# --------------------------------------------------------------------------- convolution


def _image(shape: Shape, kernel: int = 1, dilation: int = 1, padding: int = 0) -> bool:
    """x is an (N, C, H, W) image large enough for the kernel."""
    extent = dilation * (kernel - 1) + 1
    return len(shape) == 4 and min(shape[2:]) + 2 * padding >= extent and shape[0] >= 1


_CONVS: dict[str, dict[str, Any]] = {
    "k3": {"kernel": 3}, "k1": {"kernel": 1}, "k2_stride2": {"kernel": 2, "stride": 2},
    "k3_pad1": {"kernel": 3, "padding": 1}, "k3_pad_same": {"kernel": 3, "padding": "same"},
    "k2_dilation2": {"kernel": 2, "dilation": 2}, "k3_stride2_pad1": {"kernel": 3, "stride": 2, "padding": 1},
    "k1x3": {"kernel": (1, 3)}, "k3_groups": {"kernel": 3, "groups": 2}, "depthwise": {"kernel": 3, "groups": -1},
    "k2_no_bias": {"kernel": 2, "bias": False}, "k3_pad2_stride3": {"kernel": 3, "padding": 2, "stride": 3},
}


def _conv_extras(setting: dict[str, Any]) -> Callable[[Shape], Sequence[Input] | None]:
    def extras(shape: Shape) -> Sequence[Input] | None:
        kernel = setting["kernel"] if isinstance(setting["kernel"], tuple) else (setting["kernel"],) * 2
        padding = setting.get("padding", 0)
        pad = kernel[0] // 2 if padding == "same" else padding
        if not _image(shape, max(kernel), setting.get("dilation", 1), pad):
            return None
        channels = shape[1]
        groups = channels if setting.get("groups") == -1 else setting.get("groups", 1)
        if not channels or channels % groups:
            return None
        out = channels if groups == channels else 3 * groups
        weight = Input((out, channels // groups, *kernel))
        return (weight, Input((out,))) if setting.get("bias", True) else (weight,)
    return extras


for _name, _setting in _CONVS.items():
    def _conv(t, F, x, w, b=None, s=_setting):
        groups = x.shape[1] if s.get("groups") == -1 else s.get("groups", 1)
        return F.conv2d(x, w, b, stride=s.get("stride", 1), padding=s.get("padding", 0),
                        dilation=s.get("dilation", 1), groups=groups)

    def _conv_reference(x, w, b=None, s=_setting):
        groups = x.shape[1] if s.get("groups") == -1 else s.get("groups", 1)
        dilation = s.get("dilation", 1)
        padding = s.get("padding", 0)  # "same": the odd kernels' symmetric padding
        pads = tuple(dilation * (k - 1) // 2 for k in w.shape[2:]) if padding == "same" else (padding, padding)
        return references.conv2d(x, w, b, (s.get("stride", 1),) * 2, pads, (dilation,) * 2, groups)
    _add(OpInfo(f"conv2d/{_name}", _conv, extras=_conv_extras(_setting), min_ndim=4, reference=_conv_reference))

_TRANSPOSED: dict[str, dict[str, Any]] = {
    "k3": {"kernel": 3}, "k2_stride2": {"kernel": 2, "stride": 2}, "k3_stride2_pad1_out1":
    {"kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}, "k3_groups": {"kernel": 3, "groups": 2},
    "k2_dilation2": {"kernel": 2, "dilation": 2}, "k1": {"kernel": 1},
}
for _name, _setting in _TRANSPOSED.items():
    def _conv_t(t, F, x, w, b, s=_setting):
        return F.conv_transpose2d(x, w, b, stride=s.get("stride", 1), padding=s.get("padding", 0),
                                  output_padding=s.get("output_padding", 0), groups=s.get("groups", 1),
                                  dilation=s.get("dilation", 1))

    def _conv_t_extras(shape: Shape, s=_setting) -> Sequence[Input] | None:
        groups = s.get("groups", 1)
        if len(shape) != 4 or shape[1] % groups:
            return None
        k = s["kernel"]
        return Input((shape[1], 2, k, k)), Input((2 * groups,))

    def _conv_t_reference(x, w, b, s=_setting):
        return references.conv_transpose2d(x, w, b, (s.get("stride", 1),) * 2, (s.get("padding", 0),) * 2,
                                           (s.get("output_padding", 0),) * 2, s.get("groups", 1),
                                           (s.get("dilation", 1),) * 2)
    _add(OpInfo(f"conv_transpose2d/{_name}", _conv_t, extras=_conv_t_extras, min_ndim=4, reference=_conv_t_reference))

# --------------------------------------------------------------------------- pooling and resizing

_POOLS: dict[str, dict[str, Any]] = {
    "k2": {"kernel_size": 2}, "k3_stride1": {"kernel_size": 3, "stride": 1}, "k2_stride1_pad1":
    {"kernel_size": 2, "stride": 1, "padding": 1}, "k3_stride2_pad1": {"kernel_size": 3, "stride": 2, "padding": 1},
    "k2_ceil": {"kernel_size": 2, "ceil_mode": True}, "k1x2": {"kernel_size": (1, 2)},
}
for _name, _setting in _POOLS.items():
    _k = _setting["kernel_size"] if isinstance(_setting["kernel_size"], tuple) else (_setting["kernel_size"],) * 2
    _padding = _setting.get("padding", 0)
    _fits = _needs(lambda s, k=_k, p=_padding: _image(s, max(k), 1, p))
    # (kernel, stride, padding) for the references, which have no ceil mode
    _windows = (_k, (_setting["stride"],) * 2 if "stride" in _setting else _k, (_padding, _padding))
    _add(
        OpInfo(f"max_pool2d/{_name}", lambda t, F, x, s=_setting: F.max_pool2d(x, **s), extras=_fits,
               domain="ties", min_ndim=4,
               reference=None if "ceil_mode" in _setting else lambda x, a=_windows: references.max_pool2d(x, *a)),
        OpInfo(f"avg_pool2d/{_name}", lambda t, F, x, s=_setting: F.avg_pool2d(x, **s), extras=_fits, min_ndim=4,
               reference=None if "ceil_mode" in _setting else lambda x, a=_windows: references.avg_pool2d(x, *a)),
    )
_add(
    OpInfo("max_pool2d/dilation2", lambda t, F, x: F.max_pool2d(x, 2, stride=1, dilation=2),
           extras=_needs(lambda s: _image(s, 2, 2)), domain="ties", min_ndim=4),
    OpInfo("max_pool2d/indices", lambda t, F, x: F.max_pool2d(x, 2, return_indices=True)[1],
           extras=_needs(lambda s: _image(s, 2)), domain="ties", min_ndim=4, second_order=False),
    OpInfo("avg_pool2d/exclude_pad", lambda t, F, x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
           extras=_needs(lambda s: _image(s, 3, 1, 1)), min_ndim=4),
    OpInfo("avg_pool2d/divisor", lambda t, F, x: F.avg_pool2d(x, 2, divisor_override=3),
           extras=_needs(lambda s: _image(s, 2)), min_ndim=4),
    OpInfo("adaptive_avg_pool2d/1", lambda t, F, x: F.adaptive_avg_pool2d(x, 1), min_ndim=4),
    OpInfo("adaptive_avg_pool2d/3", lambda t, F, x: F.adaptive_avg_pool2d(x, 3), min_ndim=4),
    OpInfo("adaptive_avg_pool2d/2x1", lambda t, F, x: F.adaptive_avg_pool2d(x, (2, 1)), min_ndim=4),
    OpInfo("adaptive_max_pool2d/2", lambda t, F, x: F.adaptive_max_pool2d(x, 2), domain="ties", min_ndim=4),
    OpInfo("interpolate/nearest_2x", lambda t, F, x: F.interpolate(x, scale_factor=2), min_ndim=4),
    OpInfo("interpolate/nearest_size", lambda t, F, x: F.interpolate(x, size=(3, 5)), min_ndim=4),
    OpInfo("interpolate/nearest_same", lambda t, F, x: F.interpolate(x, size=x.shape[2:]), min_ndim=4),
    OpInfo("interpolate/bilinear", lambda t, F, x: F.interpolate(x, size=(4, 3), mode="bilinear"), min_ndim=4),
    OpInfo("interpolate/bilinear_corners", lambda t, F, x: F.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=True), min_ndim=4),
)
_PADS: dict[str, tuple[tuple[int, ...], str, int]] = {
    "constant": ((1, 2), "constant", 1), "constant_zero": ((0, 0), "constant", 1),
    "constant_negative": ((-1, 1), "constant", 1), "constant_2d": ((1, 0, 0, 2), "constant", 2),
    "reflect": ((1, 1), "reflect", 2), "reflect_2d": ((1, 1, 1, 0), "reflect", 3),
    "replicate": ((2, 1), "replicate", 2), "replicate_wide": ((3, 3), "replicate", 2),
    "circular": ((1, 1), "circular", 2), "circular_2d": ((1, 0, 1, 1), "circular", 3),
}
for _name, (_amounts, _mode, _min) in _PADS.items():
    _add(OpInfo(f"pad/{_name}", lambda t, F, x, a=_amounts, m=_mode: F.pad(x, a, mode=m, **(
        {"value": 0.5} if m == "constant" else {})), min_ndim=_min, max_ndim=4 if _mode == "constant" else _min + 1,
        extras=_needs(lambda s, a=_amounts, m=_mode: m == "constant" or all(
            n > 1 for n in s[-len(a) // 2:]))))

# --------------------------------------------------------------------------- normalisation


def _channels(shape: Shape) -> bool:
    return len(shape) >= 2 and shape[1] >= 1 and math.prod(shape) // shape[1] > 1


_add(
    OpInfo("batch_norm/training", lambda t, F, x: F.batch_norm(x, None, None, training=True),
           extras=_needs(_channels), min_ndim=2,
           reference=lambda x: references.batch_norm_train(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), 1e-5)[0]),
    OpInfo("batch_norm/training_affine", lambda t, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           extras=_needs(_channels, lambda s: (_channel_vector(s, any_layout=False),
                                               _channel_vector(s, any_layout=False))), min_ndim=2),
    OpInfo("batch_norm/running_stats", lambda t, F, x, m, v: F.batch_norm(x, m, v, training=True, momentum=0.3),
           extras=_needs(_channels, lambda s: (_channel_vector(s, requires_grad=False),
                                               _channel_vector(s, domain="positive", requires_grad=False))),
           min_ndim=2),
    OpInfo("batch_norm/eval", lambda t, F, x, m, v, w: F.batch_norm(x, m, v, w, training=False),
           extras=lambda s: (_channel_vector(s, requires_grad=False, any_layout=False),
                             _channel_vector(s, domain="positive", requires_grad=False, any_layout=False),
                             _channel_vector(s, any_layout=False)),
           min_ndim=2),
    OpInfo("group_norm", lambda t, F, x, w, b: F.group_norm(x, 1, w, b), min_ndim=2,
           extras=lambda s: (_channel_vector(s), _channel_vector(s))),
    OpInfo("group_norm/2_groups", lambda t, F, x: F.group_norm(x, 2), min_ndim=3,
           extras=_needs(lambda s: s[1] % 2 == 0)),
    OpInfo("layer_norm/last", lambda t, F, x, w, b: F.layer_norm(x, x.shape[-1:], w, b), min_ndim=1,
           extras=lambda s: (Input(s[-1:]), Input(s[-1:]))),
    OpInfo("layer_norm/last_two", lambda t, F, x: F.layer_norm(x, x.shape[-2:]), min_ndim=2),
    OpInfo("instance_norm", lambda t, F, x: F.instance_norm(x), min_ndim=3,
           extras=_needs(lambda s: math.prod(s[2:]) > 1)),
    OpInfo("local_response_norm", lambda t, F, x: F.local_response_norm(x, 3), min_ndim=3),
    OpInfo("dropout/p0", lambda t, F, x: F.dropout(x, 0.0)),
    OpInfo("dropout/eval", lambda t, F, x: F.dropout(x, 0.5, training=False)),
)

# --------------------------------------------------------------------------- losses

_REDUCTIONS = ("mean", "sum", "none")
for _reduction in _REDUCTIONS:
    def _targets(shape: Shape) -> Sequence[Input] | None:
        if len(shape) < 2 or shape[1] == 0:
            return None
        return (Input((shape[0],) + shape[2:], kind="index", high=shape[1]),)

    def _weighted(shape: Shape) -> Sequence[Input] | None:
        found = _targets(shape)
        return None if found is None else (*found, _channel_vector(shape, domain="positive", requires_grad=False))

    _add(
        OpInfo(f"cross_entropy/{_reduction}", lambda t, F, x, y, r=_reduction: F.cross_entropy(x, y, reduction=r),
               extras=_targets, min_ndim=2, max_ndim=2,
               reference=lambda x, y, r=_reduction: references.cross_entropy(x, y, r, 0.0)),
        OpInfo(f"cross_entropy/smoothing_{_reduction}", lambda t, F, x, y, r=_reduction: F.cross_entropy(
            x, y, reduction=r, label_smoothing=0.2), extras=_targets, min_ndim=2, max_ndim=2,
            reference=lambda x, y, r=_reduction: references.cross_entropy(x, y, r, 0.2)),
        OpInfo(f"cross_entropy/images_{_reduction}", lambda t, F, x, y, r=_reduction: F.cross_entropy(
            x, y, reduction=r), extras=_targets, min_ndim=3),
        OpInfo(f"cross_entropy/weight_{_reduction}", lambda t, F, x, y, w, r=_reduction: F.cross_entropy(
            x, y, w, reduction=r), extras=_weighted, min_ndim=2),
        OpInfo(f"cross_entropy/ignore_{_reduction}", lambda t, F, x, y, r=_reduction: F.cross_entropy(
            x, y, reduction=r, ignore_index=0), extras=_targets, min_ndim=2),
        OpInfo(f"cross_entropy/probabilities_{_reduction}", lambda t, F, x, p, r=_reduction: F.cross_entropy(
            x, p.softmax(1), reduction=r), extras=lambda s: (Input(s, requires_grad=False),), min_ndim=2),
        OpInfo(f"nll_loss/{_reduction}", lambda t, F, x, y, r=_reduction: F.nll_loss(
            x.log_softmax(1), y, reduction=r), extras=_targets, min_ndim=2),
        OpInfo(f"nll_loss/weight_ignore_{_reduction}", lambda t, F, x, y, w, r=_reduction: F.nll_loss(
            x, y, w, ignore_index=1, reduction=r), extras=_weighted, min_ndim=2),
        OpInfo(f"mse_loss/{_reduction}", lambda t, F, x, y, r=_reduction: F.mse_loss(x, y, reduction=r),
               extras=lambda s: (Input(s),)),
        OpInfo(f"l1_loss/{_reduction}", lambda t, F, x, y, r=_reduction: F.l1_loss(x, y, reduction=r),
               extras=lambda s: (Input(s),)),
        OpInfo(f"smooth_l1_loss/{_reduction}", lambda t, F, x, y, r=_reduction: F.smooth_l1_loss(
            x, y, reduction=r, beta=0.5), extras=lambda s: (Input(s),)),
        OpInfo(f"huber_loss/{_reduction}", lambda t, F, x, y, r=_reduction: F.huber_loss(
            x, y, reduction=r, delta=0.5), extras=lambda s: (Input(s),)),
        OpInfo(f"binary_cross_entropy/{_reduction}", lambda t, F, x, y, r=_reduction: F.binary_cross_entropy(
            x, y, reduction=r), domain="unit", extras=lambda s: (Input(s, domain="unit", requires_grad=False),)),
        OpInfo(f"bce_with_logits/{_reduction}", lambda t, F, x, y, r=_reduction:
               F.binary_cross_entropy_with_logits(x, y, reduction=r),
               extras=lambda s: (Input(s, domain="unit", requires_grad=False),)),
        OpInfo(f"kl_div/{_reduction}", lambda t, F, x, y, r=_reduction: F.kl_div(
            x.log_softmax(-1), y, reduction=r), min_ndim=1, extras=lambda s: (Input(s, domain="unit"),)),
    )
_add(
    OpInfo("bce_with_logits/pos_weight", lambda t, F, x, y, w: F.binary_cross_entropy_with_logits(
        x, y, pos_weight=w), min_ndim=1,
        extras=lambda s: (Input(s, domain="unit", requires_grad=False),
                          Input(s[-1:], domain="positive", requires_grad=False))),
    OpInfo("bce_with_logits/target_grad", lambda t, F, x, y, w: F.binary_cross_entropy_with_logits(
        x, y, weight=w, reduction="sum"), min_ndim=1,
        extras=lambda s: (Input(s, domain="unit"), Input(s[-1:], domain="positive", requires_grad=False))),
    OpInfo("bce_with_logits/pos_weight_target_grad", lambda t, F, x, y, w: F.binary_cross_entropy_with_logits(
        x, y, pos_weight=w, reduction="none"), min_ndim=1,
        extras=lambda s: (Input(s, domain="unit"), Input(s[-1:], domain="positive", requires_grad=False))),
    OpInfo("kl_div/log_target", lambda t, F, x, y: F.kl_div(x, y, reduction="batchmean", log_target=True),
           min_ndim=1, extras=lambda s: (Input(s),)),
)

# --------------------------------------------------------------------------- unbatched inputs, 0-d dims

_add(
    OpInfo("conv2d/unbatched", lambda t, F, x, w: F.conv2d(x, w, padding=1), min_ndim=3, max_ndim=3,
           extras=lambda s: (Input((2, s[0], 3, 3)),) if s[0] else None),
    OpInfo("max_pool2d/unbatched", lambda t, F, x: F.max_pool2d(x, 2, ceil_mode=True), domain="ties",
           min_ndim=3, max_ndim=3),
    OpInfo("avg_pool2d/unbatched", lambda t, F, x: F.avg_pool2d(x, 2, ceil_mode=True), min_ndim=3, max_ndim=3),
    OpInfo("cross_entropy/unbatched", lambda t, F, x, y: F.cross_entropy(x, y[0]), min_ndim=1, max_ndim=1,
           extras=lambda s: (Input((1,), kind="index", high=s[0]),) if s[0] else None),
    OpInfo("sum/0d_dim", lambda t, F, x: x.sum(0, keepdim=True), max_ndim=0),
    OpInfo("max_dim/0d", lambda t, F, x: x.max(-1)[0], max_ndim=0),
    OpInfo("masked_fill/mask_beyond", lambda t, F, x, m: x.masked_fill(m, 0.5), max_ndim=3,
           extras=lambda s: (Input((2,) + s, kind="bool"),)),
)

# --------------------------------------------------------------------------- in place

_add(*(OpInfo(name, fn, extras=extras, inplace=True, domain=domain) for name, fn, extras, domain in (
    ("add_", lambda t, F, x, y: x.add_(y), lambda s: (Input(s),), "real"),
    ("add_/alpha", lambda t, F, x, y: x.add_(y, alpha=2), lambda s: (Input(s),), "real"),
    ("sub_/scalar", lambda t, F, x: x.sub_(1.5), lambda s: (), "real"),
    ("mul_", lambda t, F, x, y: x.mul_(y), lambda s: (Input(s),), "real"),
    ("div_/scalar", lambda t, F, x: x.div_(4), lambda s: (), "real"),
    ("iadd", lambda t, F, x, y: _iadd(x, y), lambda s: (Input(s),), "real"),
    ("imul/broadcast", lambda t, F, x, y: _imul(x, y), lambda s: (Input(s[-1:]),) if s else None, "real"),
    ("clamp_", lambda t, F, x: x.clamp_(min=-0.5, max=0.5), lambda s: (), "ties"),
    ("relu_", lambda t, F, x: x.relu_(), lambda s: (), "ties"),
    ("relu/inplace", lambda t, F, x: F.relu(x, inplace=True), lambda s: (), "ties"),
    ("leaky_relu/inplace", lambda t, F, x: F.leaky_relu(x, 0.2, inplace=True), lambda s: (), "real"),
    ("hardtanh/inplace", lambda t, F, x: F.hardtanh(x, inplace=True), lambda s: (), "ties"),
    ("zero_", lambda t, F, x: x.zero_(), lambda s: (), "real"),
    ("fill_", lambda t, F, x: x.fill_(0.25), lambda s: (), "real"),
    ("copy_", lambda t, F, x, y: x.copy_(y), lambda s: (Input(s),), "real"),
    ("setitem/row", lambda t, F, x: _setitem(x, 0, 0.0), lambda s: () if s else None, "real"),
    ("setitem/tensor", lambda t, F, x, y: _setitem(x, (Ellipsis, 0), y), lambda s: (Input(s[:-1]),) if s else None,
     "real"),
    ("view_mul_", lambda t, F, x: _through_view(x, lambda v: v.mul_(2)), lambda s: () if s else None, "real"),
    ("view_relu_", lambda t, F, x: _through_view(x, lambda v: v.relu_()), lambda s: () if s else None, "real"),
    ("element_relu_", lambda t, F, x: _through_view(x, lambda v: v.relu_(), element=True),
     lambda s: () if s else None, "real"),
)))
_add(
    OpInfo("into_buffer/copy_", lambda t, F, x: _into_buffer(t, x), max_ndim=3),
    OpInfo("into_buffer/setitem", lambda t, F, x: _into_buffer(t, x, setitem=True), max_ndim=3),
)


def _iadd(x: Any, y: Any) -> Any:
    x += y
    return x


def _imul(x: Any, y: Any) -> Any:
    x *= y
    return x


def _setitem(x: Any, index: Any, value: Any) -> Any:
    x[index] = value
    return x


def _through_view(x: Any, change: Callable[[Any], Any], element: bool = False) -> Any:
    """Change the first row (or the first element) of x through a view; x is what changed."""
    change(x[(0,) * x.ndim] if element else x[0])
    return x


def _into_buffer(t: Any, x: Any, setitem: bool = False) -> Any:
    """A buffer that needs no gradient, written through a view of it: gradients reach x."""
    buffer = t.zeros((2,) + tuple(x.shape), dtype=x.dtype)
    if setitem:
        buffer[1] = x
    else:
        buffer[0].copy_(x)
    return buffer * buffer + buffer


def _check_names(*reviewed: dict[str, Any]) -> None:
    """Every entry's name is its own, and the reviewed lists name entries that exist."""
    seen: set[str] = set()
    for info in op_db:
        if info.name in seen:
            raise ValueError(f"op_db: two entries are named {info.name!r}")
        seen.add(info.name)
    for table in reviewed:
        unknown = sorted(set(table) - seen)
        if unknown:
            raise ValueError(f"op_db: no entries are named {unknown}")


# --------------------------------------------------------------------------- PyTorch's other names (issue 19)

_MORE_UNARY: dict[str, tuple[Callable[..., Any], str]] = {
    "sin": (lambda t, F, x: x.sin(), "real"),
    "cos": (lambda t, F, x: t.cos(x), "real"),
    "tan": (lambda t, F, x: x.tan(), "unit"),
    "asin": (lambda t, F, x: x.asin(), "unit"),
    "acos": (lambda t, F, x: t.acos(x), "unit"),
    "atan": (lambda t, F, x: x.atan(), "real"),
    "sinh": (lambda t, F, x: x.sinh(), "real"),
    "cosh": (lambda t, F, x: t.cosh(x), "real"),
    "exp2": (lambda t, F, x: x.exp2(), "real"),
    "log2": (lambda t, F, x: x.log2(), "positive"),
    "log10": (lambda t, F, x: t.log10(x), "positive"),
    "expm1": (lambda t, F, x: x.expm1(), "real"),
    "reciprocal": (lambda t, F, x: x.reciprocal(), "nonzero"),
    "cumsum/0": (lambda t, F, x: x.cumsum(0), "real"),
    "cumsum/last": (lambda t, F, x: t.cumsum(x, -1), "real"),
    "cumprod/last": (lambda t, F, x: x.cumprod(-1), "real"),
    "cumprod/ties": (lambda t, F, x: x.cumprod(0), "ties"),
    "norm": (lambda t, F, x: x.norm(), "real"),
    "vector_norm/ord3_dim": (lambda t, F, x: t.linalg.vector_norm(x, 3, -1), "real"),
    "vector_norm/ord1_keepdim": (lambda t, F, x: t.linalg.vector_norm(x, 1, 0, keepdim=True), "real"),
    "vector_norm/inf": (lambda t, F, x: t.linalg.vector_norm(x, float("inf")), "real"),
    "normalize": (lambda t, F, x: F.normalize(x, dim=-1), "real"),
    "roll": (lambda t, F, x: x.roll(1, 0) if x.ndim else x.roll(1), "real"),
    "roll/flat": (lambda t, F, x: t.roll(x, -2), "real"),
}
_MORE_UNARY_REFERENCES: dict[str, Callable[[Any], Any]] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "exp2": np.exp2, "log2": np.log2, "log10": np.log10, "expm1": np.expm1,
    "reciprocal": lambda x: 1 / x, "cumsum/0": lambda x: np.cumsum(x, 0), "cumsum/last": lambda x: np.cumsum(x, -1),
    "cumprod/last": lambda x: np.cumprod(x, -1), "cumprod/ties": lambda x: np.cumprod(x, 0),
    "norm": lambda x: np.sqrt(np.sum(x * x)),
    "vector_norm/ord3_dim": lambda x: np.sum(np.abs(x) ** 3, -1) ** (1 / 3),
    "vector_norm/ord1_keepdim": lambda x: np.sum(np.abs(x), 0, keepdims=True),
    "vector_norm/inf": lambda x: np.max(np.abs(x), initial=0.0),
    "normalize": lambda x: x / np.maximum(np.sqrt(np.sum(x * x, -1, keepdims=True)), 1e-12),
    "roll": lambda x: np.roll(x, 1, 0) if x.ndim else x, "roll/flat": lambda x: np.roll(x, -2),
}
_add(*(OpInfo(name, fn, domain=domain, min_ndim=1 if name.startswith(("cum", "roll", "normalize"))
              or name.endswith("_dim") or "keepdim" in name else 0, reference=_MORE_UNARY_REFERENCES[name])
       for name, (fn, domain) in _MORE_UNARY.items()))
_add(
    OpInfo("atan2", lambda t, F, x, y: t.atan2(x, y), extras=lambda s: (Input(s, domain="nonzero"),)),
    OpInfo("mm", lambda t, F, x, w: x.mm(w), min_ndim=2, max_ndim=2, extras=lambda s: (Input((s[-1], 3)),)),
    OpInfo("mv", lambda t, F, x, v: t.mv(x, v), min_ndim=2, max_ndim=2, extras=lambda s: (Input((s[-1],)),)),
    OpInfo("bmm", lambda t, F, x, w: x.bmm(w), min_ndim=3, max_ndim=3, extras=lambda s: (Input((s[0], s[-1], 2)),)),
    OpInfo("dot", lambda t, F, x, y: x.dot(y), min_ndim=1, max_ndim=1, extras=lambda s: (Input(s),)),
    OpInfo("outer", lambda t, F, x, y: t.outer(x, y), min_ndim=1, max_ndim=1, extras=lambda s: (Input((3,)),)),
    OpInfo("t", lambda t, F, x: x.t(), max_ndim=2),
    OpInfo("einsum/matmul", lambda t, F, x, w: t.einsum("ij,jk->ik", x, w), min_ndim=2, max_ndim=2,
           extras=lambda s: (Input((s[-1], 2)),)),
    OpInfo("einsum/ellipsis_sum", lambda t, F, x, v: t.einsum("...i,i->...", x, v), min_ndim=1,
           extras=lambda s: (Input((s[-1],)),)),
    OpInfo("einsum/outer_trace", lambda t, F, x: t.einsum("ij->j", x) * 2, min_ndim=2, max_ndim=2),
    OpInfo("sort/values", lambda t, F, x: x.sort(dim=-1, stable=True).values, min_ndim=1),  # (ties: as below)
    OpInfo("sort/descending_indices",  # (stable: PyTorch's order of ties is otherwise unspecified)
           lambda t, F, x: t.sort(x, dim=0, descending=True, stable=True)[1].to(x.dtype) + x, min_ndim=1),
    # PyTorch's topk picks among tied values in an unspecified order: a ramp smaller than any
    # step between distinct values breaks the ties the same way in both libraries
    OpInfo("topk", lambda t, F, x: (x + t.arange(x.shape[-1], dtype=x.dtype) * 1e-3).topk(1, -1).values,
           min_ndim=1, extras=lambda s: () if s[-1] else None),
    OpInfo("tril", lambda t, F, x: x.tril(), min_ndim=2),
    OpInfo("triu/offset", lambda t, F, x: t.triu(x, -1), min_ndim=2),
    OpInfo("diag/of_matrix", lambda t, F, x: x.diag(1), min_ndim=2, max_ndim=2),
    OpInfo("diag/of_vector", lambda t, F, x: t.diag(x, -1), min_ndim=1, max_ndim=1),
    OpInfo("diagonal", lambda t, F, x: x.diagonal(0, -1, 0) * 2, min_ndim=2),
    OpInfo("masked_select", lambda t, F, x: x.masked_select(x > 0), domain="ties"),
    OpInfo("scatter", lambda t, F, x, i, y: x.scatter(-1, i, y), min_ndim=1,
           extras=lambda s: (Input(s[:-1] + (1,), kind="index", high=s[-1]), Input(s[:-1] + (1,)))
           if s[-1] else None),
    OpInfo("scatter_add", lambda t, F, x, i, y: t.scatter_add(x, 0, i, y), min_ndim=1,
           extras=lambda s: (Input(s, kind="index", high=s[0]), Input(s)) if s[0] else None),
    OpInfo("cosine_similarity", lambda t, F, x, y: F.cosine_similarity(x, y, dim=-1), min_ndim=1,
           extras=lambda s: (Input(s),)),
    # floor division has no derivative (in PyTorch either): its quotient multiplies x
    OpInfo("floor_divide", lambda t, F, x: (x.detach() // 0.7) * x),
    OpInfo("nan_to_num", lambda t, F, x: t.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)),
    OpInfo("embedding", lambda t, F, x, i: F.embedding(i, x), min_ndim=2, max_ndim=2,
           extras=lambda s: (Input((3, 2), kind="index", high=s[0]),) if s[0] else None),
)


# --------------------------------------------------------------------------- the other public operations

_add(
    OpInfo("amin/last", lambda t, F, x: t.amin(x, -1), domain="ties", min_ndim=1,
           reference=lambda x: np.min(x, -1)),
    OpInfo("argsort", lambda t, F, x: x.argsort(dim=-1, stable=True).to(x.dtype) + x, min_ndim=1),
    OpInfo("clamp_max", lambda t, F, x: t.clamp_max(x, 0.2), reference=lambda x: np.minimum(x, 0.2)),
    OpInfo("clamp_min", lambda t, F, x: x.clamp_min(0.1), reference=lambda x: np.maximum(x, 0.1)),
    OpInfo("lerp/scalar", lambda t, F, x, y: x.lerp(y, 0.3), extras=lambda s: (Input(s),),
           reference=lambda x, y: x + 0.3 * (y - x)),
    OpInfo("lerp/tensor", lambda t, F, x, y, w: t.lerp(x, y, w), extras=lambda s: (Input(s), Input(s, domain="unit")),
           reference=lambda x, y, w: x + w * (y - x)),
    OpInfo("narrow", lambda t, F, x: x.narrow(-1, 1, x.shape[-1] - 1),
           extras=_needs(lambda s: len(s) >= 1 and s[-1] >= 1), reference=lambda x: x[..., 1:]),
    OpInfo("repeat_interleave/dim", lambda t, F, x: x.repeat_interleave(2, dim=0), min_ndim=1,
           reference=lambda x: np.repeat(x, 2, 0)),
    OpInfo("repeat_interleave/flat", lambda t, F, x: t.repeat_interleave(x, 2), reference=lambda x: np.repeat(x, 2)),
    OpInfo("unflatten", lambda t, F, x: x.unflatten(-1, (1, x.shape[-1])), min_ndim=1, max_ndim=3,
           reference=lambda x: x.reshape(x.shape[:-1] + (1, x.shape[-1]))),
    OpInfo("index_add", lambda t, F, x, i, y: x.index_add(0, i, y), min_ndim=1,
           extras=lambda s: (Input((3,), kind="index", high=s[0]), Input((3,) + s[1:])) if s[0] else None),
    OpInfo("reshape_as", lambda t, F, x, y: x.reshape_as(y), extras=lambda s: (Input(s[::-1], requires_grad=False),),
           reference=lambda x, y: x.reshape(y.shape)),
    OpInfo("broadcast_to", lambda t, F, x: x.broadcast_to((2,) + tuple(x.shape)), max_ndim=3,
           reference=lambda x: np.broadcast_to(x, (2,) + x.shape)),
    OpInfo("sum_to_size", lambda t, F, x: x.sum_to_size(*([1] + list(x.shape[1:]))), min_ndim=1,
           reference=lambda x: np.sum(x, 0, keepdims=True)),
    OpInfo("softmin", lambda t, F, x: F.softmin(x, dim=-1), min_ndim=1, reference=lambda x: _softmax(-x, -1)),
    OpInfo("pixel_shuffle", lambda t, F, x: F.pixel_shuffle(x, 2), min_ndim=4, extras=_needs(lambda s: s[1] % 4 == 0)),
    OpInfo("pixel_unshuffle", lambda t, F, x: F.pixel_unshuffle(x, 2), min_ndim=4,
           extras=_needs(lambda s: s[2] % 2 == 0 and s[3] % 2 == 0)),
    OpInfo("one_hot", lambda t, F, x, i: F.one_hot(i, x.shape[-1]).to(x.dtype) * x, min_ndim=1,
           extras=lambda s: (Input(s[:-1], kind="index", high=s[-1]),) if s[-1] else None),
    OpInfo("conv1d", lambda t, F, x, w, b: F.conv1d(x, w, b, padding=1), min_ndim=3, max_ndim=3,
           extras=lambda s: (Input((2, s[1], 3)), Input((2,))) if s[1] else None),
    OpInfo("conv_transpose1d", lambda t, F, x, w, b: F.conv_transpose1d(x, w, b, stride=2), min_ndim=3, max_ndim=3,
           extras=lambda s: (Input((s[1], 2, 3)), Input((2,))) if s[1] else None),
    OpInfo("avg_pool1d", lambda t, F, x: F.avg_pool1d(x, 2), min_ndim=3, max_ndim=3,
           extras=_needs(lambda s: s[2] >= 2)),
    OpInfo("max_pool1d", lambda t, F, x: F.max_pool1d(x, 2, stride=1), domain="ties", min_ndim=3, max_ndim=3,
           extras=_needs(lambda s: s[2] >= 2)),
    OpInfo("adaptive_avg_pool1d", lambda t, F, x: F.adaptive_avg_pool1d(x, 2), min_ndim=3, max_ndim=3),
    OpInfo("adaptive_max_pool1d", lambda t, F, x: F.adaptive_max_pool1d(x, 2), domain="ties", min_ndim=3,
           max_ndim=3),
    OpInfo("dropout1d/eval", lambda t, F, x: F.dropout1d(x, 0.5, training=False), min_ndim=2, max_ndim=3),
    OpInfo("dropout2d/eval", lambda t, F, x: F.dropout2d(x, 0.5, training=False), min_ndim=3, max_ndim=4),
    OpInfo("dropout3d/eval", lambda t, F, x: F.dropout3d(x, 0.5, training=False), min_ndim=4, max_ndim=4),
    OpInfo("add/alpha", lambda t, F, x, y: t.add(x, y, alpha=2), extras=lambda s: (Input(s),),
           reference=lambda x, y: x + 2 * y),
    OpInfo("sub/alpha", lambda t, F, x, y: x.sub(y, alpha=0.5), extras=lambda s: (Input(s),),
           reference=lambda x, y: x - 0.5 * y),
    OpInfo("mul/named", lambda t, F, x, y: t.mul(x, y), extras=lambda s: (Input(s),), reference=np.multiply),
    OpInfo("div/named", lambda t, F, x, y: x.div(y), extras=lambda s: (Input(s, domain="nonzero"),),
           reference=np.divide),
    OpInfo("neg/named", lambda t, F, x: t.neg(x), reference=np.negative),
    OpInfo("negative", lambda t, F, x: x.negative(), reference=np.negative),
    OpInfo("floor_divide/named", lambda t, F, x: t.floor_divide(x.detach(), 0.7) * x),
    OpInfo("concat", lambda t, F, x: t.concat([x, x], 0), min_ndim=1,
           reference=lambda x: np.concatenate([x, x], 0)),
    OpInfo("concatenate", lambda t, F, x, y: t.concatenate((x, y), -1), min_ndim=1, extras=lambda s: (Input(s),),
           reference=lambda x, y: np.concatenate([x, y], -1)),
    OpInfo("double", lambda t, F, x: x.double(), dtypes=("float64",), reference=lambda x: x.astype(np.float64)),
    OpInfo("float", lambda t, F, x: x.float() * 1.0, dtypes=("float32",)),
    OpInfo("type/float64", lambda t, F, x: x.type(t.float64), dtypes=("float64",)),
    OpInfo("type_as", lambda t, F, x, y: x.type_as(y) * y, extras=lambda s: (Input(s),)),
    OpInfo("int_and_long", lambda t, F, x: (x * 4).int().to(x.dtype) + (x * 4).long().to(x.dtype) + x,
           second_order=False),
    OpInfo("bool_all_any", lambda t, F, x: x * (x > 0).all().to(x.dtype) + x.bool().any().to(x.dtype),
           domain="ties"),
    OpInfo("compare/named", lambda t, F, x, y: x * sum(c.to(x.dtype) for c in (
        t.eq(x, y), x.ne(y), x.lt(0.0), t.le(x, y), x.gt(y), t.ge(x, 0.5))), domain="ties",
        extras=lambda s: (Input(s, domain="ties"),)),
    OpInfo("isfinite_isinf_isnan", lambda t, F, x: (x.isfinite().to(x.dtype) + t.isinf(x).to(x.dtype)
                                                    + x.isnan().to(x.dtype)) * x),
    OpInfo("isclose", lambda t, F, x, y: t.isclose(x, y).to(x.dtype) * x, domain="ties",
           extras=lambda s: (Input(s, domain="ties"),)),
    OpInfo("nonzero", lambda t, F, x: x.nonzero().to(x.dtype).sum() * x, domain="ties"),
    OpInfo("unique", lambda t, F, x: t.unique(x.detach()), domain="ties", reference=np.unique),
    OpInfo("bincount", lambda t, F, x, i: t.bincount(i).to(x.dtype).sum() * x,
           extras=lambda s: (Input((4,), kind="index", high=3),)),
)
_add(*(OpInfo(name, fn, extras=extras, inplace=True, domain=domain) for name, fn, extras, domain in (
    ("elu_", lambda t, F, x: F.elu_(x), lambda s: (), "real"),
    ("hardtanh_", lambda t, F, x: F.hardtanh_(x), lambda s: (), "ties"),
    ("leaky_relu_", lambda t, F, x: F.leaky_relu_(x, 0.2), lambda s: (), "real"),
    ("selu_", lambda t, F, x: F.selu_(x), lambda s: (), "real"),
    ("scatter_", lambda t, F, x, i, y: x.scatter_(-1, i, y),
     lambda s: (Input(s[:-1] + (1,), kind="index", high=s[-1]), Input(s[:-1] + (1,))) if s and s[-1] else None, "real"),
    ("scatter_add_", lambda t, F, x, i, y: x.scatter_add_(0, i, y),
     lambda s: (Input(s, kind="index", high=s[0]), Input(s)) if s and s[0] else None, "real"),
)))

# the public callables (of tinygrad_cnn, its functional module and Tensor) that are not operations
# on tensor values, so have no entry, and why; tests/test_op_table.py holds every other one to an entry
_NOT_OPERATIONS = {
    "makes a tensor from no input tensor's values (tests/test_tensor.py)": (
        "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "linspace", "logspace", "ones", "ones_like",
        "rand", "rand_like", "randint", "randn", "randn_like", "randperm", "tensor", "zeros_like"),
    "fills a tensor with random numbers (PyTorch's generator is another)": ("normal_", "uniform_"),
    "configuration or state": (
        "compile", "get_default_device", "get_default_dtype", "get_num_threads", "initial_seed", "is_grad_enabled",
        "keep_freed_memory", "manual_seed", "seed", "set_default_device", "set_default_dtype", "set_num_threads",
        "set_printoptions"),
    "dtype rules (tests/test_promotion.py)": ("can_cast", "promote_types", "result_type"),
    "the autograd machinery the battery itself runs on (tests/test_autograd*.py, tests/test_hooks.py)": (
        "backward", "grad", "gradcheck", "gradgradcheck", "register_hook", "register_post_accumulate_grad_hook",
        "requires_grad_", "retain_grad"),
    "files (tests/test_serialization.py)": ("load", "save"),
    "leaves the library: NumPy arrays, Python numbers (astype is NumPy's spelling of .to(dtype); PyTorch has "
    "none)": ("astype", "cpu", "item", "numpy", "tolist"),
    "facts about a tensor, not values (tests/test_tensor.py; strides: tests/test_silent_errors.py)": (
        "data_ptr", "dim", "element_size", "is_contiguous", "is_floating_point", "nelement", "numel",
        "storage_offset", "stride"),
    "a Python bool, not a tensor": ("allclose", "equal"),
    "refuses: float16 is not supported (README, differences from PyTorch)": ("half",),
}
NOT_OPERATIONS: dict[str, str] = {name: why for why, names in _NOT_OPERATIONS.items() for name in names}

# the entries without an ONNX form, and why; check_op round-trips every other one through onnxruntime
_NOT_EXPORTED: dict[str, str] = {
    "argmax/0": "the exporter does not trace integer results (indices)",
    "argmin/0": "the exporter does not trace integer results (indices)",
    "argmax/0_keepdim": "the exporter does not trace integer results (indices)",
    "argmin/0_keepdim": "the exporter does not trace integer results (indices)",
    "argmax/last": "the exporter does not trace integer results (indices)",
    "argmin/last": "the exporter does not trace integer results (indices)",
    "argmax/last_keepdim": "the exporter does not trace integer results (indices)",
    "argmin/last_keepdim": "the exporter does not trace integer results (indices)",
    "max_pool2d/indices": "the exporter does not trace integer results (indices)",
    "var/all": "no ONNX form written for Variance yet",
    "var/0": "no ONNX form written for Variance yet",
    "var/0_keepdim": "no ONNX form written for Variance yet",
    "var/last": "no ONNX form written for Variance yet",
    "var/last_keepdim": "no ONNX form written for Variance yet",
    "var/first_and_last": "no ONNX form written for Variance yet",
    "var/first_and_last_keepdim": "no ONNX form written for Variance yet",
    "var/correction0": "no ONNX form written for Variance yet",
    "std/all": "no ONNX form written for StandardDeviation yet",
    "std/0": "no ONNX form written for StandardDeviation yet",
    "std/0_keepdim": "no ONNX form written for StandardDeviation yet",
    "std/last": "no ONNX form written for StandardDeviation yet",
    "std/last_keepdim": "no ONNX form written for StandardDeviation yet",
    "std/first_and_last": "no ONNX form written for StandardDeviation yet",
    "std/first_and_last_keepdim": "no ONNX form written for StandardDeviation yet",
    "std/unbiased_false": "no ONNX form written for StandardDeviation yet",
    "zero_": "writes into a tensor export only as constant padding",
    "fill_": "writes into a tensor export only as constant padding",
    "copy_": "writes into a tensor export only as constant padding",
    "setitem/row": "writes into a tensor export only as constant padding",
    "setitem/tensor": "writes into a tensor export only as constant padding",
    "into_buffer/copy_": "writes into a tensor export only as constant padding",
    "into_buffer/setitem": "writes into a tensor export only as constant padding",
    "norm": "no ONNX form written for VectorNorm yet",
    "vector_norm/ord3_dim": "no ONNX form written for VectorNorm yet",
    "vector_norm/ord1_keepdim": "no ONNX form written for VectorNorm yet",
    "vector_norm/inf": "no ONNX form written for VectorNorm yet",
    "normalize": "no ONNX form written for VectorNorm yet",
    "cosine_similarity": "no ONNX form written for VectorNorm yet",
    "getitem/none": "an index the exporter does not write (only ints, slices, one 1-D index array)",
    "getitem/bool_mask": "an index the exporter does not write (only ints, slices, one 1-D index array)",
    "adaptive_max_pool2d/2": "an index the exporter does not write (only ints, slices, one 1-D index array)",
    "masked_select": "an index the exporter does not write (only ints, slices, one 1-D index array)",
    "batch_norm/training": "training-mode batch norm (export in eval mode)",
    "batch_norm/training_affine": "training-mode batch norm (export in eval mode)",
    "batch_norm/running_stats": "training-mode batch norm (export in eval mode)",
    "binary_cross_entropy/mean": "no ONNX form written for BinaryCrossEntropy yet",
    "binary_cross_entropy/sum": "no ONNX form written for BinaryCrossEntropy yet",
    "binary_cross_entropy/none": "no ONNX form written for BinaryCrossEntropy yet",
    "einsum/matmul": "no ONNX form written for Einsum yet",
    "einsum/ellipsis_sum": "no ONNX form written for Einsum yet",
    "einsum/outer_trace": "no ONNX form written for Einsum yet",
    "cumprod/last": "no ONNX form written for CumProd yet",
    "cumprod/ties": "no ONNX form written for CumProd yet",
    "roll": "no ONNX form written for Roll yet",
    "roll/flat": "no ONNX form written for Roll yet",
    "diag/of_matrix": "no ONNX form written for Diagonal yet",
    "diagonal": "no ONNX form written for Diagonal yet",
    "atan2": "no ONNX form written for Atan2 yet",
    "diag/of_vector": "no ONNX form written for DiagonalBackward yet",
    "floor_divide": "no ONNX form written for FloorDivide yet",
    "floor_divide/named": "no ONNX form written for FloorDivide yet",
    "unique": "the exporter does not trace results that do not require grad",
    "nan_to_num": "no ONNX form written for NanToNum yet",
}


# the in-place variants PyTorch names: same signature as the entry's fn, x changed to its result
_IN_PLACE: dict[str, Callable[..., Any]] = {
    "relu": lambda t, F, x: x.relu_(), "relu/ties": lambda t, F, x: F.relu(x, inplace=True),
    "clamp/min": lambda t, F, x: x.clamp_(min=0.1), "clamp/max": lambda t, F, x: x.clamp_(max=0.2),
    "clamp/both": lambda t, F, x: x.clamp_(-0.5, 0.5), "clip/min_only_zero": lambda t, F, x: x.clamp_(min=0),
    "hardtanh": lambda t, F, x: F.hardtanh(x, inplace=True),
    "hardtanh/bounds": lambda t, F, x: F.hardtanh_(x, -0.25, 0.5),
    "relu6": lambda t, F, x: F.relu6(x.mul_(4), inplace=True),
    "leaky_relu": lambda t, F, x: F.leaky_relu(x, 0.1, inplace=True),
    "elu": lambda t, F, x: F.elu(x, inplace=True), "selu": lambda t, F, x: F.selu(x, inplace=True),
    "add/scalar": lambda t, F, x: x.add_(1), "mul/scalar": lambda t, F, x: x.mul_(2.5),
    "div/scalar": lambda t, F, x: x.div_(3),
    **{f"{name}/{partner}": variant for name, variant in (
        ("add", lambda t, F, x, y: x.add_(y)), ("sub", lambda t, F, x, y: x.sub_(y)),
        ("mul", lambda t, F, x, y: x.mul_(y)), ("div", lambda t, F, x, y: x.div_(y)))
       for partner in ("same", "scalar_tensor", "trailing", "ones")},
}

# calls each operation must refuse, with PyTorch's error type (ours derive from it) and our message
_REFUSALS: dict[str, tuple[Refusal, ...]] = {
    "conv2d/k3": (
        Refusal("a 3-D weight", lambda t, F: F.conv2d(t.ones(1, 2, 5, 5), t.ones(3, 2, 3)), RuntimeError,
                r"conv2d: expected a 4-D weight, got shape \(3, 2, 3\)"),
        Refusal("channels that do not match", lambda t, F: F.conv2d(t.ones(1, 2, 5, 5), t.ones(3, 4, 3, 3)),
                RuntimeError, "conv2d: input has 2 channels"),
        Refusal("a kernel larger than the input", lambda t, F: F.conv2d(t.ones(1, 2, 2, 2), t.ones(3, 2, 3, 3)),
                RuntimeError, "conv2d: kernel height 3"),
    ),
    "max_pool2d/k2": (Refusal("padding over half the kernel", lambda t, F: F.max_pool2d(t.ones(1, 1, 4, 4), 2,
                                                                                         padding=2),
                              RuntimeError, "max_pool2d: padding"),),
    "avg_pool2d/k2": (Refusal("a kernel of 0", lambda t, F: F.avg_pool2d(t.ones(1, 1, 4, 4), 0), RuntimeError,
                              "avg_pool2d: kernel_size must be at least 1"),),
    "matmul/matrix": (Refusal("shapes that do not align", lambda t, F: t.ones(2, 3) @ t.ones(4, 5), RuntimeError,
                              r"matmul: shapes \(2, 3\) and \(4, 5\)"),),
    "linear": (Refusal("features that do not match", lambda t, F: F.linear(t.ones(2, 3), t.ones(4, 5)),
                       RuntimeError, "linear: input of shape"),),
    "reshape/flat": (Refusal("another number of elements", lambda t, F: t.ones(2, 3).reshape(4, 2), RuntimeError,
                             r"reshape: cannot reshape a tensor of shape \(2, 3\)"),),
    "view/flat": (Refusal("strides no view can have", lambda t, F: t.ones(2, 3).t().view(-1), RuntimeError,
                          "view: view size is not compatible"),),
    "cat/other_last": (Refusal("shapes that differ off the dimension", lambda t, F: t.cat([t.ones(2, 3),
                                                                                         t.ones(3, 4)]),
                               RuntimeError, "cat: sizes of tensors must match"),),
    "permute/reversed": (Refusal("repeated dimensions", lambda t, F: t.ones(2, 3).permute(0, 0), RuntimeError,
                                 "permute: dims"),),
    "expand/new_dim": (Refusal("a size that is not 1", lambda t, F: t.ones(2, 3).expand(4, 3), RuntimeError,
                               "expand: the expanded size 4"),),
    "getitem/int": (Refusal("an index past the end", lambda t, F: t.ones(2, 3)[5], IndexError,
                            "getitem: index"),),
    "gather/last": (Refusal("an index past the dimension", lambda t, F: t.ones(2, 3).gather(1, t.tensor([[5], [0]])),
                            RuntimeError, "gather: index values must be in"),),
    "index_select/last": (Refusal("a float index", lambda t, F: t.ones(2, 3).index_select(1, t.tensor([0.0])),
                                  RuntimeError, "index_select: index must hold integers"),),
    "embedding": (Refusal("an index past the table", lambda t, F: F.embedding(t.tensor([5]), t.ones(3, 2)),
                          IndexError, "embedding: index out of range"),),
    "sum/0": (Refusal("a dimension out of range", lambda t, F: t.ones(2, 3).sum(3), IndexError,
                      "sum: dim 3 is out of range"),),
    "softmax/last": (Refusal("a dimension out of range", lambda t, F: F.softmax(t.ones(2, 3), dim=2), IndexError,
                             "softmax: dim 2 is out of range"),),
    "cross_entropy/mean": (
        Refusal("a class out of range", lambda t, F: F.cross_entropy(t.ones(2, 3), t.tensor([0, 3])), IndexError,
                "cross_entropy: target class 3 is out of bounds"),
        Refusal("float class indices", lambda t, F: F.cross_entropy(t.ones(2, 3), t.tensor([0.5, 1.0])),
                RuntimeError, "cross_entropy: target must hold integer class indices"),
    ),
    "binary_cross_entropy/mean": (Refusal("probabilities outside [0, 1]", lambda t, F: F.binary_cross_entropy(
        t.full((2,), 1.5), t.ones(2)), RuntimeError, "binary_cross_entropy: all elements of input should be"),),
    "mse_loss/mean": (Refusal("shapes that do not broadcast", lambda t, F: F.mse_loss(t.ones(2, 3), t.ones(3, 3)),
                              RuntimeError, "mse_loss: input of shape"),),
    "batch_norm/running_stats": (Refusal("statistics of another size", lambda t, F: F.batch_norm(
        t.ones(2, 3), t.zeros(4), t.ones(4)), RuntimeError, "batch_norm: running_mean must have shape"),),
    "layer_norm/last": (Refusal("a normalized_shape that is not the input's", lambda t, F: F.layer_norm(
        t.ones(2, 3), (4,)), RuntimeError, "layer_norm: normalized_shape"),),
    "group_norm/2_groups": (Refusal("groups that do not divide the channels", lambda t, F: F.group_norm(
        t.ones(2, 3, 4), 2), RuntimeError, "group_norm: num_groups 2 must divide"),),
    "pad/reflect": (Refusal("reflect padding as wide as the dimension", lambda t, F: F.pad(
        t.ones(1, 2, 3), (3, 3), mode="reflect"), RuntimeError, "pad: mode 'reflect' needs padding less"),),
    "interpolate/nearest_2x": (Refusal("neither size nor scale_factor", lambda t, F: F.interpolate(
        t.ones(1, 1, 2, 2)), ValueError, "interpolate: give exactly one of size and scale_factor"),),
    "dropout/p0": (Refusal("a probability above 1", lambda t, F: F.dropout(t.ones(2), 1.5), ValueError,
                           r"dropout: probability p must be in \[0, 1\]"),),
}

_check_names(_NOT_EXPORTED, _IN_PLACE, _REFUSALS)
op_db[:] = [dataclasses.replace(info, onnx=info.name not in _NOT_EXPORTED, inplace_variant=_IN_PLACE.get(info.name),
                                refusals=_REFUSALS.get(info.name, ())) for info in op_db]
FAMILIES = sorted({info.family for info in op_db})
__all__ = ["Input", "OpInfo", "Refusal", "op_db", "FAMILIES", "NOT_OPERATIONS"]
