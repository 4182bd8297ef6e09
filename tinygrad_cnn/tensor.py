"""Tensor: a NumPy array plus the graph node that produced it.

The class holds data and bookkeeping only; every operator delegates to a primitive in
``tinygrad_cnn.ops`` so there is exactly one implementation of each operation.
"""
from __future__ import annotations

import sys
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import memory_format as formats
from .dtypes import get_default_dtype
from .errors import ArgumentError, DtypeError
from .hooks import RemovableHandle
from .versions import bump_version, same_memory, share_version, storage_of, version_of, with_own_version

_FLOAT_TYPES = (np.float32, np.float64)


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """Apply the dtype policy: float arrays keep float32/float64, Python floats get the default dtype."""
    if isinstance(data, Tensor):
        array = data._data
    elif isinstance(data, np.ndarray):
        array = data
    elif isinstance(data, (bool, int, float, list, tuple, np.generic)):
        try:
            array = np.asarray(data)
        except ValueError as error:
            raise ValueError(f"Tensor: cannot build an array from the given data ({error})") from None
        if array.dtype.kind == "f" and not isinstance(data, np.generic) and dtype is None:
            array = array.astype(get_default_dtype())
    else:
        raise TypeError(
            f"Tensor: unsupported data type {type(data).__name__}; expected a NumPy array, "
            "nested list, Python number or Tensor"
        )
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype.kind == "f" and array.dtype not in _FLOAT_TYPES:
        return array.astype(np.float32)
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"Tensor: unsupported dtype {array.dtype}; expected floating, integer or bool data"
        )
    return array


def sizes_argument(args: tuple) -> tuple[int, ...]:
    """PyTorch's two spellings, ``f(2, 3)`` and ``f((2, 3))``, as one tuple (NumPy integers too)."""
    return tuple(args[0]) if len(args) == 1 and not isinstance(args[0], (int, np.integer)) else tuple(args)


def dtype_of_to_arguments(args: tuple, kwargs: dict[str, Any]) -> Any:
    """The dtype that PyTorch's ``to(...)`` arguments ask for (None: keep it); a device other
    than the CPU is a clear error."""
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    if "device" in kwargs:
        device(kwargs.pop("device"))
    for key in ("non_blocking", "copy"):
        kwargs.pop(key, None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, device)):
            device(arg)
        elif arg is not None:
            dtype = arg
    return dtype


def _legacy_alpha_first(op: str, other: Any, alpha: Any) -> tuple[Any, Any]:
    """PyTorch still takes the deprecated ``add_(alpha, other)`` (``p.data.add_(-lr, grad)``)."""
    if isinstance(alpha, Tensor) and not isinstance(other, Tensor):
        warnings.warn(f"This overload of {op} is deprecated: {op}(Number alpha, Tensor other); use "
                      f"{op}(Tensor other, *, Number alpha = 1)", UserWarning, stacklevel=3)
        return alpha, other
    return other, alpha


class MaxResult(NamedTuple):
    """What ``Tensor.max(dim)`` returns, as in PyTorch: the values and their indices."""

    values: Tensor
    indices: Tensor


_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80)}
_PRINT_OPTIONS: dict[str, Any] = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as ``torch.set_printoptions``: digits, how many elements before the
    middle is elided, the line width; ``profile`` "default", "short" or "full"; ``sci_mode``
    True (always scientific), False (never) or None (NumPy's choice)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ArgumentError(f"set_printoptions: profile must be one of {', '.join(_PROFILES)}, got {profile!r}")
        _PRINT_OPTIONS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            _PRINT_OPTIONS[name] = value
    _PRINT_OPTIONS["sci_mode"] = sci_mode


class Tensor:
    """An n-dimensional array that records the operations applied to it for autodiff.

    ``Tensor(np_array)`` shares memory with the array (like ``torch.from_numpy``).
    """

    # _base: (the tensor whose memory this one views, its _rewrites then) or None (views.py);
    # _rewrites: how many times an in-place change gave this tensor a new history
    # _hooks (set on first use): a leaf's (gradient hooks, post-accumulate hooks)
    __slots__ = ("_data", "_grad", "_requires_grad", "_ctx", "_output_index", "_base", "_rewrites", "_hooks",
                 "_owed", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data: np.ndarray = _to_array(data, dtype)
        self._grad: Tensor | None = None
        self._ctx = None
        self._owed = False  # channels-last memory where PyTorch's is row-major (memory_format.py)
        self._output_index = 0
        self._requires_grad = False
        self._base = None
        self._rewrites = 0
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, array: Any, ctx: Any, index: int, requires_grad: bool) -> Tensor:
        """Wrap a primitive's output without re-applying the dtype policy."""
        t = object.__new__(cls)
        t._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t._grad = None
        t._ctx = ctx
        t._output_index = index
        t._requires_grad = requires_grad
        t._base = None
        t._rewrites = 0
        t._owed = False
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def data(self) -> Tensor:
        """This tensor's memory as a new leaf that does not require grad, as PyTorch's ``.data``:
        changes through it bump a version counter of its own, so autograd does not see them."""
        self._settle_layout()
        return Tensor._from_op(with_own_version(self._data), None, 0, False)

    @data.setter
    def data(self, value: Tensor) -> None:
        """``t.data = other`` makes ``t`` hold ``other``'s memory (and shape), keeping its history."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: expected a Tensor, got {type(value).__name__}")
        if not same_memory(value._data, self._data):  # (``t.data += 1`` assigns t's own memory back)
            self._data = value._data

    @property
    def requires_grad(self) -> bool:
        if self._base is not None and views.is_stale(self):
            views.regenerate(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._data.dtype.kind != "f":
            raise DtypeError(
                f"Tensor: only floating point tensors can require grad, got dtype {self._data.dtype}"
            )
        if not value and self._ctx is not None:
            raise RuntimeError("Tensor: cannot turn off requires_grad of a non-leaf; use detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return this tensor."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> Any:
        """The Function node that produced this tensor (None for leaves)."""
        if self._base is not None and views.is_stale(self):
            views.regenerate(self)
        return self._ctx

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (None until then). A non-leaf's stays None unless
        it called ``retain_grad()``: reading it warns, as PyTorch does."""
        if self._grad is None and self._ctx is not None and not self.retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                "Tensor by mistake, make sure you access the leaf Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise ArgumentError(f"assigned grad has data of a different size: {value.shape}, the tensor "
                                    f"{self.shape}")
            if value.dtype != self.dtype:
                raise ArgumentError(f"assigned grad has data of a different type: {value.dtype}, the tensor "
                                    f"{self.dtype}")
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def output_nr(self) -> int:
        """Which output of ``grad_fn`` this tensor is (0 for leaves), as in PyTorch."""
        return self._output_index

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def dim(self) -> int:
        return self._data.ndim

    def stride(self, dim: int | None = None) -> Any:
        """The strides in elements, as PyTorch's: ``view`` and ``is_contiguous`` follow them."""
        self._settle_layout()
        strides = formats.element_strides(self._data)
        if dim is None:
            return strides
        if not -self.ndim <= dim < max(self.ndim, 1):
            raise IndexError(f"stride: dim {dim} is out of range for a tensor of {self.ndim} dimensions")
        return strides[dim]

    def is_contiguous(self, memory_format: formats.memory_format = formats.contiguous_format) -> bool:
        return formats.is_contiguous(self._strides_array(), memory_format)

    def _strides_array(self) -> np.ndarray:
        """An array with the strides PyTorch's tensor would have (to read strides from)."""
        return formats.row_major_stand_in(self._data) if self._owed else self._data

    def _settle_layout(self) -> None:
        """Give an owed tensor the row-major memory its strides describe: convolution chains
        keep channels-last memory (their fast order) until something looks at the strides or
        the memory (memory_format.py). The copy shares the version counter of the memory it
        replaces, which the graph's nodes still hold."""
        if self._owed:
            array = formats.row_major(self._data)
            share_version(self._data, array)
            self._data, self._owed = array, False

    def storage_offset(self) -> int:
        """Where this tensor starts in its storage, in elements."""
        self._settle_layout()
        start = storage_of(self._data).__array_interface__["data"][0]
        return (self.data_ptr() - start) // max(self._data.itemsize, 1)

    def data_ptr(self) -> int:
        self._settle_layout()
        return self._data.__array_interface__["data"][0]

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        self._settle_layout()
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``, as PyTorch: refused while ``t`` requires grad (detach first)."""
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        self._settle_layout()
        array = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return array.copy() if copy else array

    def item(self) -> Any:
        if self._data.size != 1:
            raise ArgumentError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def __int__(self) -> int:
        return int(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __index__(self) -> int:
        """A one-element integer tensor as a list index or a size (``range(t)``, ``xs[t]``)."""
        if self._data.size != 1 or self._data.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def tolist(self) -> Any:
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing the data, cut from the graph."""
        self._settle_layout()
        return Tensor._from_op(self._data, None, 0, False)

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf it depends on
        (with ``inputs``: of those tensors only)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def _accumulate_grad(self, gradient: Tensor, create_graph: bool) -> None:
        hooks = getattr(self, "_hooks", None)
        if hooks is not None:
            gradient = autograd.run_hooks(hooks[0], gradient)
        if self._grad is None:
            if not create_graph:  # PyTorch's layout contract: the gradient strided as this tensor
                variable = self._strides_array()
                if not (gradient._owed and variable.flags.c_contiguous):  # (owed: row-major once settled)
                    gradient._settle_layout()
                    laid = formats.obeying_layout_contract(gradient._data, variable)
                    if laid is not gradient._data:
                        gradient = Tensor._from_op(laid, None, 0, False)
            self.grad = gradient
        elif create_graph:
            self.grad = self._grad + gradient
        else:  # into the same .grad tensor, as PyTorch's in-place accumulation: references to it see the sum
            current = self._grad
            current._settle_layout()
            gradient._settle_layout()
            total = formats.obeying_layout_contract(current._data + gradient._data, self._strides_array())
            if current._ctx is None and current._base is None:
                share_version(current._data, total)
                current._data = total
                bump_version(total)
            else:
                self.grad = Tensor._from_op(total, None, 0, False)
        if hooks is not None:
            for hook in list(hooks[1].values()):
                hook(self)

    # ------------------------------------------------------------------ hooks
    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` each time this tensor's gradient is computed, before it is used
        (a leaf's before it is accumulated into ``.grad``); a Tensor it returns replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            return RemovableHandle(self._leaf_hooks()[0], hook)
        return RemovableHandle(self._ctx.hooks_of_output(self._output_index), hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Call ``hook(tensor)`` after a gradient has been accumulated into this leaf's ``.grad``."""
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return RemovableHandle(self._leaf_hooks()[1], hook)

    def _leaf_hooks(self) -> tuple[OrderedDict, OrderedDict]:
        if getattr(self, "_hooks", None) is None:
            self._hooks = (OrderedDict(), OrderedDict())
        return self._hooks

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in ``.grad`` after backward (leaves always do)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None and not self.retains_grad:
            self._ctx.hooks_of_output(self._output_index)["retain_grad"] = autograd.RetainGrad(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf whose ``.grad`` is kept (``retain_grad()``)."""
        hooks = None if self._ctx is None or self._ctx.tensor_hooks is None else \
            self._ctx.tensor_hooks.get(self._output_index)
        return hooks is not None and "retain_grad" in hooks

    def __format__(self, format_spec: str) -> str:
        """A one-element (0-d) tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __repr__(self) -> str:
        options = _PRINT_OPTIONS
        formatter = None
        if options["sci_mode"] and self._data.dtype.kind == "f":
            formatter = {"float_kind": lambda v: f"{v:.{options['precision']}e}"}
        body = np.array2string(self._data, prefix="Tensor(", separator=", ", precision=options["precision"],
                               threshold=options["threshold"], edgeitems=options["edgeitems"],
                               max_line_width=options["linewidth"], suppress_small=options["sci_mode"] is False,
                               formatter=formatter)
        extra = ""
        if self._ctx is not None:
            extra = f", grad_fn=<{self._ctx.name}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self.dtype}"
        return f"Tensor({body}{extra})"

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ArgumentError(f"Tensor: the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() on .numpy() or compare an element")
        return bool(self._data)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        return elementwise.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return elementwise.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return elementwise.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return elementwise.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return elementwise.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return elementwise.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return elementwise.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        if isinstance(other, (int, float)):  # PyTorch's spelling, so rounding and saved values agree
            return unary.reciprocal(self) * other
        return elementwise.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return elementwise.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return elementwise.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul.matmul(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return elementwise.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return elementwise.floor_divide(other, self)

    def __neg__(self) -> Tensor:
        return elementwise.neg(self)

    def neg(self) -> Tensor:
        return elementwise.neg(self)

    negative = neg

    # comparisons: no gradient, a bool tensor
    def __lt__(self, other: Any) -> Tensor:
        return elementwise.compare("lt", self, other)

    def __le__(self, other: Any) -> Tensor:
        return elementwise.compare("le", self, other)

    def __gt__(self, other: Any) -> Tensor:
        return elementwise.compare("gt", self, other)

    def __ge__(self, other: Any) -> Tensor:
        return elementwise.compare("ge", self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:  # as PyTorch: a tensor is never None
            return False
        return elementwise.compare("eq", self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:
            return True
        return elementwise.compare("ne", self, other)

    # ------------------------------------------------------------------ elementwise functions
    def exp(self) -> Tensor:
        return elementwise.exp(self)

    def log(self) -> Tensor:
        return elementwise.log(self)

    def sqrt(self) -> Tensor:
        return elementwise.sqrt(self)

    def relu(self) -> Tensor:
        return elementwise.relu(self)

    def sigmoid(self) -> Tensor:
        return elementwise.sigmoid(self)

    def tanh(self) -> Tensor:
        return elementwise.tanh(self)

    def abs(self) -> Tensor:
        return elementwise.abs(self)

    def sign(self) -> Tensor:
        return elementwise.sign(self)

    def square(self) -> Tensor:
        return elementwise.square(self)

    def floor(self) -> Tensor:
        return elementwise.floor(self)

    def ceil(self) -> Tensor:
        return elementwise.ceil(self)

    def trunc(self) -> Tensor:
        return elementwise.trunc(self)

    def round(self, *, decimals: int = 0) -> Tensor:
        return elementwise.round(self, decimals=decimals)

    def rsqrt(self) -> Tensor:
        return elementwise.rsqrt(self)

    def log1p(self) -> Tensor:
        return elementwise.log1p(self)

    def pow(self, exponent: Any) -> Tensor:
        return elementwise.pow(self, exponent)

    def where(self, condition: Any, other: Any) -> Tensor:
        return elementwise.where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return select.masked_fill(self, mask, value)

    def gather(self, dim: int, index: Any) -> Tensor:
        return select.gather(self, dim, index)

    def index_select(self, dim: int, index: Any) -> Tensor:
        return select.index_select(self, dim, index)

    def softmax(self, dim: int) -> Tensor:
        return loss.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return loss.log_softmax(self, dim)

    def astype(self, dtype: Any) -> Tensor:
        """This tensor converted to ``dtype`` (differentiable between float types)."""
        return elementwise.cast(self, dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.astype(other.dtype)

    def type(self, dtype: Any = None) -> Any:
        """Without ``dtype``, PyTorch's type name ("torch.FloatTensor"); with one (a dtype, a name
        such as "torch.LongTensor" or a class such as ``tc.LongTensor``), a converted tensor."""
        if dtype is None:
            return tensor_types.type_name(self.dtype)
        return self.astype(tensor_types.dtype_of(dtype))

    def half(self) -> Tensor:
        raise TypeError("half: float16 tensors are not supported by tinygrad_cnn (float32 and float64 are)")

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(other_tensor)``, as in PyTorch:
        the same tensor when nothing changes, else a converted copy."""
        form = kwargs.pop("memory_format", formats.preserve_format)
        dtype = dtype_of_to_arguments(args, kwargs)
        converted = self if dtype is None else self.astype(dtype)
        if form is formats.preserve_format or converted.is_contiguous(form):
            return converted
        return shape_ops.clone(converted, memory_format=form)

    def cpu(self) -> Tensor:
        return self

    # ------------------------------------------------------------------ more math (PyTorch's names)
    def sin(self) -> Tensor:
        return unary.sin(self)

    def cos(self) -> Tensor:
        return unary.cos(self)

    def tan(self) -> Tensor:
        return unary.tan(self)

    def asin(self) -> Tensor:
        return unary.asin(self)

    def acos(self) -> Tensor:
        return unary.acos(self)

    def atan(self) -> Tensor:
        return unary.atan(self)

    def atan2(self, other: Any) -> Tensor:
        return unary.atan2(self, other)

    def sinh(self) -> Tensor:
        return unary.sinh(self)

    def cosh(self) -> Tensor:
        return unary.cosh(self)

    def exp2(self) -> Tensor:
        return unary.exp2(self)

    def log2(self) -> Tensor:
        return unary.log2(self)

    def log10(self) -> Tensor:
        return unary.log10(self)

    def expm1(self) -> Tensor:
        return unary.expm1(self)

    def reciprocal(self) -> Tensor:
        return unary.reciprocal(self)

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return elementwise.add(self, other, alpha=alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return elementwise.sub(self, other, alpha=alpha)

    def mul(self, other: Any) -> Tensor:
        return elementwise.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return elementwise.div(self, other)

    def eq(self, other: Any) -> Tensor:
        return elementwise.compare("eq", self, other)

    def ne(self, other: Any) -> Tensor:
        return elementwise.compare("ne", self, other)

    def lt(self, other: Any) -> Tensor:
        return elementwise.compare("lt", self, other)

    def le(self, other: Any) -> Tensor:
        return elementwise.compare("le", self, other)

    def gt(self, other: Any) -> Tensor:
        return elementwise.compare("gt", self, other)

    def ge(self, other: Any) -> Tensor:
        return elementwise.compare("ge", self, other)

    def mm(self, mat2: Tensor) -> Tensor:
        return matmul.mm(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        return matmul.mv(self, vec)

    def bmm(self, mat2: Tensor) -> Tensor:
        return matmul.bmm(self, mat2)

    def dot(self, other: Tensor) -> Tensor:
        return matmul.dot(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        return matmul.outer(self, vec2)

    def matmul(self, other: Tensor) -> Tensor:
        return matmul.matmul(self, other)

    def t(self) -> Tensor:
        return matmul.t(self)

    def norm(self, p: Any = "fro", dim: int | Sequence[int] | None = None, keepdim: bool = False,
             dtype: Any = None) -> Tensor:
        return linalg.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return cumulative.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        return cumulative.cumprod(self, dim, dtype=dtype)

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        return sort_ops.sort(self, dim, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        return sort_ops.argsort(self, dim, descending, stable=stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        return sort_ops.topk(self, k, dim, largest, sorted)

    def tril(self, diagonal: int = 0) -> Tensor:
        return matrix.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return matrix.triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        return matrix.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return matrix.diagonal(self, offset, dim1, dim2)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return matrix.roll(self, shifts, dims)

    def masked_select(self, mask: Any) -> Tensor:
        return select.masked_select(self, mask)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None) -> Tensor:
        return select.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        return select.scatter_add(self, dim, index, src)

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return Tensor(np.any(self._data, axis=dim, keepdims=keepdim))

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return Tensor(np.all(self._data, axis=dim, keepdims=keepdim))

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return reduce.sum(self, dim, keepdim)

    def sum_to_size(self, *size: int | Sequence[int]) -> Tensor:
        """Summed down to ``size``, which must be expandable to this tensor's shape."""
        return broadcast_ops.sum_to_size(self, *size)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return reduce.mean(self, dim, keepdim)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxResult:
        """The maximum; with ``dim``, ``(values, indices)`` as in PyTorch."""
        return reduce.max(self, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxResult:
        """The minimum; with ``dim``, ``(values, indices)`` as in PyTorch."""
        return reduce.min(self, dim, keepdim)

    def amax(self, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
        return reduce.amax(self, dim, keepdim)

    def amin(self, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
        return reduce.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return reduce.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return reduce.argmin(self, dim, keepdim)

    def var(self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: float | None = None) -> Tensor:
        return reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: float | None = None) -> Tensor:
        return reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        return reduce.logsumexp(self, dim, keepdim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        return shape_ops.reshape(self, sizes_argument(shape))

    def view(self, *shape: Any) -> Tensor:
        """``self`` in ``shape`` over the same memory; refused where its strides allow no view."""
        return shape_ops.view(self, sizes_argument(shape))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def contiguous(self, memory_format: formats.memory_format = formats.contiguous_format) -> Tensor:
        return shape_ops.contiguous(self, memory_format)

    def permute(self, *dims: Any) -> Tensor:
        return shape_ops.permute(self, sizes_argument(dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return shape_ops.transpose(self, dim0, dim1)

    @property
    def T(self) -> Tensor:
        return self.permute(tuple(reversed(range(self.ndim))))

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        return shape_ops.unflatten(self, dim, sizes)

    def narrow(self, dim: int, start: int | Tensor, length: int) -> Tensor:
        return shape_ops.narrow(self, dim, start, length)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape_ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return shape_ops.unsqueeze(self, dim)

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        return shape_ops.squeeze(self, dim)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return shape_ops.broadcast_to(self, tuple(shape))

    def expand(self, *sizes: int) -> Tensor:
        return shape_ops.expand(self, sizes_argument(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        return shape_ops.expand(self, other.shape)

    def repeat(self, *sizes: int) -> Tensor:
        return shape_ops.repeat(self, sizes_argument(sizes))

    def flip(self, *dims: int) -> Tensor:
        return shape_ops.flip(self, sizes_argument(dims))

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        return join.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return join.chunk(self, chunks, dim)

    def __getitem__(self, index: Any) -> Tensor:
        return shape_ops.getitem(self, index)

    def clone(self, *, memory_format: formats.memory_format = formats.preserve_format) -> Tensor:
        return shape_ops.clone(self, memory_format=memory_format)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return elementwise.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return elementwise.clamp(self, min=min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        return elementwise.clamp(self, max=max)

    def isnan(self) -> Tensor:
        return elementwise.isnan(self)

    def isinf(self) -> Tensor:
        return elementwise.isinf(self)

    def isfinite(self) -> Tensor:
        return elementwise.isfinite(self)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
        return elementwise.nan_to_num(self, nan, posinf, neginf)

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        return elementwise.lerp(self, end, weight)

    def nonzero(self, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
        return counting.nonzero(self, as_tuple=as_tuple)

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
               dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
        return counting.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        return counting.bincount(self, weights, minlength)

    def repeat_interleave(self, repeats: int | Tensor, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        return counting.repeat_interleave(self, repeats, dim, output_size=output_size)

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
        return counting.index_add(self, dim, index, source, alpha=alpha)

    # ------------------------------------------------------------------ in place (see inplace.py)
    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen (PyTorch's ``_version``)."""
        return version_of(self._data)

    def __setitem__(self, index: Any, value: Any) -> None:
        inplace.setitem_(self, index, value)

    def __iadd__(self, other: Any) -> Tensor:
        return inplace.add_(self, other)

    def __isub__(self, other: Any) -> Tensor:
        return inplace.sub_(self, other)

    def __imul__(self, other: Any) -> Tensor:
        return inplace.mul_(self, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return inplace.div_(self, other)

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return inplace.add_(self, *_legacy_alpha_first("add_", other, alpha))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return inplace.sub_(self, *_legacy_alpha_first("sub_", other, alpha))

    def mul_(self, other: Any) -> Tensor:
        return inplace.mul_(self, other)

    def div_(self, other: Any) -> Tensor:
        return inplace.div_(self, other)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return inplace.clamp_(self, min, max)

    def relu_(self) -> Tensor:
        return inplace.relu_(self)

    def zero_(self) -> Tensor:
        return inplace.zero_(self)

    def fill_(self, value: Any) -> Tensor:
        return inplace.fill_(self, value)

    def copy_(self, src: Any) -> Tensor:
        return inplace.copy_(self, src)

    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        return inplace.change(self, "scatter_", lambda old, s: select.scatter(old, dim, index, s, reduce=reduce),
                              src if src is not None else value)

    def scatter_add_(self, dim: int, index: Any, src: Tensor) -> Tensor:
        return inplace.change(self, "scatter_add_", lambda old, s: select.scatter_add(old, dim, index, s), src)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        return inplace.normal_(self, mean, std)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        return inplace.uniform_(self, a, b)


from . import (  # noqa: E402  (the graph engine needs Tensor defined first)
    autograd,
    inplace,
    tensor_types,  # noqa: E402
    views,
)
from .device import CPU, device  # noqa: E402
from .ops import broadcast as broadcast_ops  # noqa: E402
from .ops import counting, cumulative, elementwise, join, linalg, loss, matmul, matrix, reduce, select, unary  # noqa: E402
from .ops import shape as shape_ops  # noqa: E402
from .ops import sort as sort_ops  # noqa: E402
