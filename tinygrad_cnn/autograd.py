"""Reverse-mode automatic differentiation: grad mode, the node classes and the engine.

The graph is made of Primitive instances ("nodes"): the library's NumPy-level primitives and
users' ``Function`` subclasses (PyTorch's contract, built on the same node API). A Tensor
produced by a node holds it strongly; the node holds its input Tensors strongly and its
outputs only weakly, so the graph has no reference cycle and is freed by reference counting as
soon as the user drops the output. Backward walks the nodes with an explicit stack (no recursion limit).
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np

from . import memory_format, views
from .debug import (
    AnomalyError,
    check_backward,
    check_forward,
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_recording_creation_sites,
    record_creation_sites,
    set_detect_anomaly,
    user_site,
)
from .debug import flags as _debug
from .errors import ArgumentError
from .tensor import Tensor
from .versions import any_changed, version_of

__all__ = [  # tc.autograd: the engine, plus the debugging aids of debug.py under PyTorch's names
    "Function", "Primitive", "once_differentiable", "TensorSpec", "backward", "grad", "no_grad", "enable_grad",
    "inference_mode", "is_inference_mode_enabled", "Variable", "gradcheck", "gradgradcheck",
    "set_grad_enabled", "is_grad_enabled", "topological_order", "detect_anomaly", "set_detect_anomaly",
    "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "AnomalyError", "record_creation_sites",
    "is_recording_creation_sites",
]

# --------------------------------------------------------------------------- grad mode

class _ThreadState(threading.local):
    """Per-thread grad mode and module scope; class-level defaults make each read one lookup."""

    grad_enabled = True
    scope: tuple = ()


_state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad record a graph."""
    return _state.grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off, as a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(is_grad_enabled())
        _state.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self._previous.pop()

    def __call__(self, func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self.mode):
                return func(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """Record no graph and save no arrays for backward (evaluation, optimiser updates)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record a graph again inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


# --------------------------------------------------------------------------- scopes

def current_scope() -> tuple:
    """The stack of objects (usually nn.Modules) whose forward is running right now."""
    return _state.scope


class Scope(tuple):
    """The objects whose forward is running, outermost first: a node's ``scope``.

    ``outer`` is the scope this one extended, so each call of a module is a scope object of
    its own, and ``call(depth)`` tells apart two calls of one module (the ReLU module a ResNet
    block runs twice), which the modules alone cannot.
    """

    outer: tuple

    def call(self, depth: int) -> tuple:
        """The scope of the call ``depth`` levels down (0: the outermost call): the same object
        for every node created inside that one call."""
        scope: tuple = self
        while len(scope) > depth + 1:
            scope = scope.outer
        return scope


@contextmanager
def scope(owner: object) -> Iterator[None]:
    """Tag every node created inside the block with ``owner`` (graph pictures group by it)."""
    previous = current_scope()
    _state.scope = inner = Scope(previous + (owner,))
    inner.outer = previous
    try:
        yield
    finally:
        _state.scope = previous


# --------------------------------------------------------------------------- Function

class TensorSpec(NamedTuple):
    """The shape and dtype of a node's output (known even after the output is freed)."""

    shape: tuple[int, ...]
    dtype: np.dtype


def _spec(shape: tuple[int, ...], dtype: np.dtype) -> TensorSpec:
    """``TensorSpec(shape, dtype)`` without NamedTuple's keyword handling (once per output)."""
    return tuple.__new__(TensorSpec, (shape, dtype))


# input position -> the inputs whose gradients read it, or needs_input_grad -> the positions read
ReadsForGradients = dict[int, tuple[int, ...]] | Callable[[tuple[bool, ...]], list[int]]


def _all_row_major(values: list) -> bool:
    """True when every array among ``values`` is C-contiguous: then every layout rule gives a
    C-contiguous result (as it does for any result of fewer than 2 dimensions)."""
    for v in values:
        if v.__class__ is np.ndarray and not v.flags.c_contiguous:
            return False
    return True


def _laid_out(ctx: Primitive, raw: Any, rule: str | None, values: list, args: tuple, owed: bool,
              defer: bool) -> tuple[Any, tuple[bool, ...] | list[bool]]:
    """Forward's result with PyTorch's strides (a saved output follows its copy), and for each
    output whether its layout is owed: a channels-last result where PyTorch's is row-major stays as it is when
    an input's layout is owed too (convolution chains keep their fast memory order until
    something looks at the strides, ``Tensor._settle_layout``)."""
    results = raw if raw.__class__ is tuple else (raw,)
    if rule is None:  # forward kept its input's memory order: an owed layout stays owed
        return raw, tuple([owed and r.__class__ is np.ndarray and r.ndim == 4 and not r.flags.c_contiguous and
                           memory_format.is_contiguous(r, memory_format.channels_last) for r in results])
    if owed:
        if memory_format.stays_owed(raw, [v for a, v in zip(args, values) if not (isinstance(a, Tensor) and a._owed)]):
            return raw, (True,)
        # the rules read the strides PyTorch's inputs would have
        values = [memory_format.row_major_stand_in(v) if isinstance(a, Tensor) and a._owed else v
                  for a, v in zip(args, values)]
    inputs = [v for v in values if isinstance(v, np.ndarray)]
    laid, owes = [], []
    for r in results:
        if isinstance(r, np.ndarray):
            r, r_owes = memory_format.conform(r, rule, inputs, defer=defer)
        else:
            r_owes = False
        laid.append(r)
        owes.append(r_owes)
    for old, new in zip(results, laid):
        if new is not old and ctx._saved:
            ctx._saved = tuple([new if v is old else v for v in ctx._saved])
    return (tuple(laid) if isinstance(raw, tuple) else laid[0]), owes


class Primitive:
    """Base class of the library's differentiable primitives, working on NumPy arrays.

    Subclasses implement two static-style methods taking ``ctx`` (the node itself):

    * ``forward(ctx, *inputs, **settings)`` receives NumPy arrays in place of the Tensor
      inputs (Python numbers pass through) and returns an array or a tuple of arrays. It keeps
      what backward needs with ``ctx.save_for_backward(...)`` and plain attributes.
    * ``backward(ctx, *grad_outputs)`` receives one gradient Tensor per output and returns one
      gradient per positional input (``None`` where there is none). Building the result from
      Tensor operations makes it differentiable again (``create_graph=True``).

    Call a primitive with ``MyFunction.apply(*inputs, **settings)``: inputs positional,
    settings (stride, shape, ...) by keyword; ``ctx.settings`` keeps them for backward and for
    graph pictures.

    A recorded node is what every reader of the graph sees (backward, ``visualize``, export):

    * ``name``, ``inputs`` (Tensors and Python numbers), ``parents()`` (the nodes behind them);
    * ``output_specs``: the shape and dtype of each output; ``tensor.output_nr`` says which
      output of its ``grad_fn`` a tensor is;
    * ``settings`` and ``settings_without(*keys)``;
    * ``scope`` (the modules whose forward was running, outermost first), ``module`` and
      ``module_path`` (its dotted name, as in ``named_modules``);
    * ``creation_site``: the user's ``file:line``, recorded inside ``record_creation_sites()``
      and ``detect_anomaly()``;
    * ``saved_tensors``: what forward kept with ``save_for_backward``, the one place for
      backward state (None once backward has freed it); ``saved_arrays``: those arrays and the
      inputs backward reads, everything the node keeps alive for backward;
    * ``next_functions``: for each input, ``(node, output_nr)`` of the node that produced it,
      as it was when this node was created (None for leaves and numbers). Backward follows
      these edges, so an in-place operation that later gives an input a new history does not
      reroute this node's gradient.

    Four class attributes tell the engine what a primitive does with its inputs and outputs:
    ``backward_reads`` lists the positions of the inputs whose values backward reads (None:
    all of them), or maps a position to the inputs whose gradients read it (``Mul``: ``{0:
    (1,), 1: (0,)}``, each factor read for the other's gradient only), or is a function of
    ``needs_input_grad`` giving the positions (``Einsum``'s operands). Their versions are
    checked before backward runs, as are those of the arrays forward saved: together they are
    what PyTorch's node saves (its ``derivatives.yaml``), so the same in-place changes are
    refused. A backward that reads the output saves it in forward and unpacks it with
    ``ctx.result``. ``returns_view`` marks
    primitives whose output shares its input's memory (reshape, permute, basic indexing).
    ``output_layout`` names PyTorch's rule for the output's strides (``memory_format.conform``;
    None keeps what forward returns); an ``output_layout=`` keyword of ``apply`` overrides it
    for PyTorch operations built on another's primitive (``masked_fill`` on ``Where``).
    ``defers_layout`` lets a channels-last result stand where PyTorch's is row-major, the copy
    deferred until something looks at the strides (convolution, whose kernels work
    channels-last; ``Tensor._settle_layout``).
    """

    backward_reads: tuple[int, ...] | ReadsForGradients | None = None
    returns_view: bool = False
    output_layout: str | None = None
    defers_layout: bool = False
    materialize_grads: bool = True  # outputs that received no gradient get zeros in backward
    tensor_hooks: dict[int, OrderedDict] | None = None  # output index -> hooks on that output's gradient

    # Slots for what every node carries (faster to set, once per operation); a subclass
    # without __slots__ still gets a __dict__ for anything else.
    __slots__ = ("needs_input_grad", "inputs", "next_functions", "settings", "scope", "output_specs",
                 "_outputs", "_saved", "_versions", "_version_numbers", "__dict__", "__weakref__")
    needs_input_grad: tuple[bool, ...]
    inputs: tuple[Any, ...]
    next_functions: tuple[tuple[Primitive, int] | None, ...]
    settings: dict[str, Any]
    scope: tuple
    output_specs: tuple[TensorSpec, ...]
    creation_site: str | None = None
    _outputs: tuple[weakref.ref, ...]
    _saved: tuple[Any, ...] | None
    _versions: tuple[np.ndarray, ...]  # the arrays backward reads, whose versions it checks
    _version_numbers: tuple[int, ...] | None  # their versions at creation; None: all 0

    @staticmethod
    def forward(ctx: Primitive, *args: Any, **settings: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Primitive, *grad_outputs: Tensor) -> Any:
        raise NotImplementedError

    # -- used inside forward
    @property
    def requires_grad(self) -> bool:
        """True when this call records a graph: forward may skip work only backward needs."""
        return any(self.needs_input_grad)

    def save_for_backward(self, *values: Any) -> None:
        """Keep what backward needs (arrays, usually); nothing is kept when no graph is recorded."""
        if self.requires_grad:
            self._saved = values

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What forward passed to ``save_for_backward``."""
        return self._saved

    @property
    def saved_arrays(self) -> tuple[np.ndarray, ...] | None:
        """Every array backward will read, as PyTorch's node saves them: the inputs it reads and
        what forward saved (their versions are checked before backward). None once freed."""
        return None if self._saved is None else self._versions

    # -- used inside backward
    def result(self, array: np.ndarray, index: int = 0) -> Tensor:
        """Output ``index``, from the array forward saved, as a Tensor whose history is this node
        (PyTorch's saved ``result``): a backward written with it is differentiable again."""
        return Tensor._from_op(array, self, index, True)

    # -- graph construction
    @classmethod
    def apply(cls, *args: Any, **settings: Any) -> Any:
        ctx = cls()
        grad_on = _state.grad_enabled
        tracing = _debug.tracing  # export records every operation, gradients or not
        if cls.returns_view and isinstance(args[0], Tensor) and args[0]._owed:
            args[0]._settle_layout()  # a view shares the memory PyTorch's strides describe
        owed = False
        if grad_on or tracing:  # one pass: this runs for every operation, so it is kept lean
            needs, values, edges, arrays = [], [], [], []
            for a in args:
                if isinstance(a, Tensor):
                    if a._owed:
                        owed = True
                    if a._base is not None and a._base[0]._rewrites != a._base[1]:
                        views.regenerate(a)  # a view whose base was changed in place since
                    needs.append(grad_on and a._requires_grad)
                    values.append(a._data)
                    arrays.append(a._data)
                    edges.append(None if a._ctx is None else (a._ctx, a._output_index))
                else:
                    needs.append(False)
                    values.append(a)
                    edges.append(None)
            needs = tuple(needs)
        else:  # no_grad, or a backward without create_graph: nothing to record
            values = [a._data if isinstance(a, Tensor) else a for a in args]
            needs = (False,) * len(args)
            for a in args:
                if isinstance(a, Tensor) and a._owed:
                    owed = True
        ctx.needs_input_grad = needs
        requires = True in needs
        record = requires or tracing
        ctx._saved = ()
        layout = settings.pop("output_layout", cls.output_layout) if settings else cls.output_layout
        raw = cls.forward(ctx, *values, **settings)
        owes = ()
        if owed or layout is not None and not (raw.__class__ is np.ndarray and raw.flags.c_contiguous and
                                               (raw.ndim < 2 or _all_row_major(values))):  # (the common cases)
            raw, owes = _laid_out(ctx, raw, layout, values, args, owed, owed or cls.defers_layout)
        if not isinstance(raw, tuple):
            keep = tracing or (requires and (raw.dtype.kind == "f" if isinstance(raw, np.ndarray) else _is_float(raw)))
            out = Tensor._from_op(raw, ctx, 0, requires) if keep else Tensor._from_op(raw, None, 0, False)
            outputs = (out,)
        else:
            outputs = tuple([
                Tensor._from_op(array, ctx, i, requires and _is_float(array))
                if tracing or (requires and _is_float(array)) else Tensor._from_op(array, None, 0, False)
                for i, array in enumerate(raw)])
            out = outputs
        if True in owes:
            for t, owing in zip(outputs, owes):
                t._owed = owing
        if record:
            ctx.inputs = args
            ctx.next_functions = tuple(edges)
            ctx.settings = settings
            ctx.scope = _state.scope
            # map and zip rather than comprehensions: no extra Python frame per operation
            ctx._outputs = tuple(map(weakref.ref, outputs))
            ctx.output_specs = tuple([_spec(t._data.shape, t._data.dtype) for t in outputs]) \
                if out is outputs else (_spec(out._data.shape, out._data.dtype),)
            reads = cls.backward_reads  # versions to check: the inputs backward reads, saved arrays
            if reads is not None:
                if reads.__class__ is not tuple:  # read only for some inputs' gradients
                    known = _READ_FOR.get((cls, needs))
                    reads = known if known is not None else _read_for(cls, needs)
                arrays = [values[i] for i in reads if isinstance(args[i], Tensor)]
            if ctx._saved:
                for r, t in zip(raw if isinstance(raw, tuple) else (raw,), outputs):
                    if r.__class__ is not np.ndarray:  # a 0-d result NumPy gave as a scalar: save its array
                        ctx._saved = tuple([t._data if v is r else v for v in ctx._saved])
                arrays += [v for v in ctx._saved if isinstance(v, np.ndarray)]
            ctx._versions = tuple(arrays)
            ctx._version_numbers = tuple(map(version_of, arrays)) if any_changed() else None
        else:
            ctx._saved = None
        if cls.returns_view and (grad_on or tracing):  # also unrecorded: a buffer written through a view gets a history
            views.mark(args[0], outputs)
        if _debug.sites or _debug.anomaly:
            ctx.creation_site = user_site()
            if _debug.observer is not None and record:
                _debug.observer(ctx, outputs)
            if _debug.anomaly:
                if not record:  # the error message describes the node all the same
                    ctx.inputs, ctx.settings, ctx.scope = args, settings, current_scope()
                check_forward(ctx, raw if isinstance(raw, tuple) else (raw,))
        return out

    def check_versions(self) -> None:
        """Refuse to run backward on values that an in-place operation changed since forward."""
        for array, version in zip(self._versions, self._version_numbers or repeat(0)):
            now = version_of(array)
            if now != version:
                raise RuntimeError(
                    f"backward: one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: {self.name}{self.module_description} needs a tensor of shape "
                    f"{array.shape} at version {version}, but it is now at version {now}. Change it after backward, "
                    f"or give {self.name} a copy (.clone()) instead")

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def settings_without(self, *keys: str) -> dict[str, Any]:
        """The settings minus ``keys``: what a related primitive (a backward) is called with."""
        return {k: v for k, v in self.settings.items() if k not in keys}

    @property
    def module(self) -> Any:
        """The innermost module whose forward created this node (None outside any module)."""
        return self.scope[-1] if self.scope else None

    @property
    def module_path(self) -> str | None:
        """The dotted name of ``module`` within the outermost one ("features.3"; "" for the
        outermost itself; None outside any module)."""
        if not self.scope:
            return None
        parts = []
        for parent, child in zip(self.scope, self.scope[1:]):
            name = next((n for n, m in parent.named_modules() if m is child), f"<{type(child).__name__}>")
            if name:
                parts.append(name)
        return ".".join(parts)

    @property
    def module_description(self) -> str:
        """" in module 'features.3' (Conv2d)" for messages; "" outside any module."""
        if self.module is None:
            return ""
        kind = type(self.module).__name__
        return f" in module '{self.module_path}' ({kind})" if self.module_path else f" in module {kind}"

    def outputs(self) -> list[Tensor | None]:
        """The output Tensors still alive (None for those the user dropped)."""
        return [ref() for ref in self._outputs]

    def parents(self) -> Iterator[Primitive]:
        """The nodes that produced this node's inputs."""
        for edge in self.next_functions:
            if edge is not None:
                yield edge[0]

    def hooks_of_output(self, index: int) -> OrderedDict:
        """The hooks called with the gradient of output ``index`` before backward uses it."""
        if self.tensor_hooks is None:
            self.tensor_hooks = {}
        return self.tensor_hooks.setdefault(index, OrderedDict())

    def release(self) -> None:
        """Free the arrays saved for backward."""
        self._saved = None
        self._versions, self._version_numbers = (), None


_READ_FOR: dict[tuple[type, tuple[bool, ...]], tuple[int, ...]] = {}  # (primitive, needs) -> positions


def _read_for(cls: type[Primitive], needs: tuple[bool, ...]) -> tuple[int, ...]:
    """The inputs ``cls``'s backward reads, given which inputs need a gradient (its
    ``backward_reads`` as a mapping, or as a function of ``needs_input_grad``), remembered."""
    reads = cls.backward_reads
    positions = reads(needs) if callable(reads) else [i for i, readers in reads.items() if
                                                      True in [needs[j] for j in readers]]
    _READ_FOR[cls, needs] = tuple(positions)
    return _READ_FOR[cls, needs]


def _is_float(array: Any) -> bool:
    return (array.dtype if isinstance(array, np.ndarray) else np.result_type(array)).kind == "f"


class _SavedOutput(NamedTuple):
    """An output saved for backward: kept as its array, so the node does not hold its own
    output (no reference cycle), and unpacked as a Tensor whose ``grad_fn`` is the node."""

    index: int
    array: np.ndarray
    differentiable: bool


def _no_tensor() -> None:
    """The "weak reference" of an output that is not a Tensor (a number a Function returned)."""
    return None


class Function(Primitive):
    """PyTorch's ``torch.autograd.Function``: a differentiable operation written with Tensors.

    * ``forward(ctx, *args, **kwargs)`` receives the Tensors themselves, with grad mode off,
      and other arguments as given; it returns a Tensor or a tuple (numbers allowed). PyTorch
      2's split form works too: ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``.
    * ``ctx.save_for_backward(*tensors)`` keeps inputs, outputs or intermediates, and
      ``ctx.saved_tensors`` gives them back with their graph: a backward written with Tensor
      operations is differentiable again, so double backward through a Function is right.
      Saved tensors are version-checked: changing one in place before backward is an error.
    * ``backward(ctx, *grad_outputs)`` returns one gradient per ``forward`` argument (None for
      non-Tensors and where none is needed; ``ctx.needs_input_grad`` says which).
    * ``ctx.mark_dirty(*inputs)`` for inputs that forward changed in place and returns;
      ``ctx.mark_non_differentiable(*outputs)``; ``ctx.set_materialize_grads(False)`` passes
      None instead of zeros for outputs that received no gradient.

    A Function's node has the node API of ``Primitive`` (inputs, settings, next_functions, ...).
    """

    @staticmethod
    def setup_context(ctx: Function, inputs: tuple[Any, ...], output: Any) -> None:
        """Override (with a ``forward`` that takes no ctx) to keep what backward needs."""
        raise NotImplementedError

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save Tensors or None, but argument {i} is of "
                                f"type {type(t).__name__}; keep other values as attributes of ctx")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to ``save_for_backward``, with their graph."""
        if self._saved is None:
            raise RuntimeError(
                f"{self.name}: trying to backward through the graph a second time (or to read saved tensors "
                "after they were freed); pass retain_graph=True to the first backward if you need to")
        return tuple([self._unpack(entry) for entry in self._saved])

    def _unpack(self, entry: Any) -> Tensor | None:
        if isinstance(entry, _SavedOutput):
            ctx = self if entry.differentiable else None
            return Tensor._from_op(entry.array, ctx, entry.index, entry.differentiable)
        return entry

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Inputs that forward changed in place (and returns): they take this node as history."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs that get no gradient (indices, masks): they do not require grad."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward gets None (not zeros) for outputs that received no gradient."""
        self.materialize_grads = bool(value)

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = cls()
        grad_on = _state.grad_enabled
        ctx.needs_input_grad = tuple([grad_on and isinstance(a, Tensor) and a.requires_grad for a in args])
        edges = [(a.grad_fn, a._output_index) if isinstance(a, Tensor) and a.grad_fn is not None else None
                 for a in args]
        ctx._to_save, ctx._dirty, ctx._non_differentiable, ctx._saved = (), (), (), ()
        with set_grad_enabled(False):
            if cls.setup_context is Function.setup_context:
                raw = cls.forward(ctx, *args, **kwargs)
            else:
                raw = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, raw)
        if not any(ctx.needs_input_grad) or _debug.tracing:  # (an export records what forward ran)
            ctx._saved = None
            return raw
        inputs = list(args)
        outputs = [ctx._output(i, out, inputs) for i, out in enumerate(raw if isinstance(raw, tuple) else (raw,))]
        ctx.inputs, ctx.next_functions, ctx.settings, ctx.scope = tuple(inputs), tuple(edges), kwargs, _state.scope
        ctx._outputs = tuple([weakref.ref(o) if isinstance(o, Tensor) else _no_tensor for o in outputs])
        ctx.output_specs = tuple([_spec(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                                  for o in outputs])
        ctx._saved = tuple([ctx._pack(t, outputs) for t in ctx._to_save])
        del ctx._to_save, ctx._dirty, ctx._non_differentiable
        ctx._versions = tuple([t.array if isinstance(t, _SavedOutput) else t._data
                               for t in ctx._saved if t is not None])
        ctx._version_numbers = tuple(map(version_of, ctx._versions)) if any_changed() else None
        if _debug.sites or _debug.anomaly:
            ctx.creation_site = user_site()
            if _debug.observer is not None:
                _debug.observer(ctx, [o for o in outputs if isinstance(o, Tensor)])
        return tuple(outputs) if isinstance(raw, tuple) else outputs[0]

    def _output(self, index: int, out: Any, inputs: list[Any]) -> Any:
        """Make forward's ``index``-th result an output of this node."""
        if not isinstance(out, Tensor):
            return out
        position = next((i for i, a in enumerate(inputs) if a is out), None)
        if any(out is t for t in self._dirty):  # an input changed in place takes this node as history
            if position is None:
                raise RuntimeError(f"{self.name}: mark_dirty was given a tensor that is not an input of forward")
            if out.is_leaf and out._requires_grad:
                raise RuntimeError(f"{self.name}: a leaf Tensor that requires grad (shape {out.shape}) has been "
                                   "used in an in-place operation (marked dirty)")
            old = Tensor._from_op(out._data, out._ctx, out._output_index, out._requires_grad)
            inputs[position] = old
            if out._ctx is not None:
                rebase_history(out, old, out)  # (moves the old node's output reference to ``old``)
            out._rewrites += 1
        elif position is not None or out._ctx is not None:  # an input returned as is: a new alias
            out = Tensor._from_op(out._data, None, 0, False)
        differentiable = out._data.dtype.kind == "f" and not any(out is t for t in self._non_differentiable)
        out._ctx, out._output_index, out._requires_grad = (self if differentiable else None), index, differentiable
        return out

    def _pack(self, t: Tensor | None, outputs: list[Any]) -> Any:
        index = next((i for i, o in enumerate(outputs) if o is t), None)
        if index is None:  # an input or an intermediate: kept as it is
            return t
        return _SavedOutput(index, t._data, t._ctx is self)


class _DelayedError(Primitive):
    """Stands behind the gradients of a ``once_differentiable`` backward: differentiating them
    again raises, as in PyTorch."""

    @staticmethod
    def forward(ctx: Primitive, gradient: np.ndarray) -> np.ndarray:
        return gradient

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> Any:
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a Function's backward written without differentiable operations (NumPy, say):
    it runs under no_grad, and a second derivative through it raises instead of being 0."""

    @wraps(backward)
    def wrapper(ctx: Function, *grad_outputs: Any) -> Any:
        with set_grad_enabled(False):
            grads = backward(ctx, *grad_outputs)
        if not is_grad_enabled() or not any(isinstance(g, Tensor) and g.requires_grad for g in grad_outputs):
            return grads
        guarded = tuple([_DelayedError.apply(Tensor._from_op(g._data, None, 0, True)) if isinstance(g, Tensor) else g
                         for g in (grads if isinstance(grads, tuple) else (grads,))])
        return guarded if isinstance(grads, tuple) else guarded[0]

    return wrapper


def zero_grads(tensors: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Forget accumulated gradients: ``.grad = None``, or zeros where there was one."""
    for t in tensors:
        if set_to_none or t.grad is None:
            t.grad = None
        else:
            t.grad = Tensor(np.zeros_like(t._data))


def saved_result_moved(result: Tensor, memory: np.ndarray) -> None:
    """An in-place operation copied ``result`` into ``memory`` (the changed tensor's): the node
    that saved ``result`` for backward saves ``memory`` instead, at its version now, so later
    in-place changes of the tensor are refused as PyTorch refuses them (``relu_``'s saved result)."""
    node, array = result._ctx, result._data
    if node is None or not node._saved or not any(v is array for v in node._saved):
        return
    node._saved = tuple([memory if v is array else v for v in node._saved])
    numbers = node._version_numbers or (0,) * len(node._versions)
    pairs = [(memory, version_of(memory)) if v is array else (v, n) for v, n in zip(node._versions, numbers)]
    node._versions, node._version_numbers = tuple([v for v, _ in pairs]), tuple([n for _, n in pairs])


def records(*operands: Any) -> bool:
    """Whether an operation on ``operands`` is recorded in the graph: gradients are on and one
    of them requires grad, or an export is tracing every operation."""
    return (_state.grad_enabled and any(isinstance(o, Tensor) and o._requires_grad for o in operands)) \
        or bool(_debug.tracing)


def value_before_change(target: Tensor, copy: bool) -> Tensor:
    """``target``'s value before an in-place change, in target's former place in the graph (its
    memory copied with ``copy``, for a backward that reads the old value). While an export
    traces, a changed leaf is cloned instead, so that the graph keeps it as its input."""
    if target.is_leaf and _debug.tracing:
        return target.clone()
    old = Tensor._from_op(np.copy(target._data, order="K") if copy else target._data,
                          target._ctx, target._output_index, target._requires_grad)
    old._owed = target._owed  # the same memory order, and the same strides to PyTorch
    return old


def rebase_history(target: Tensor, old: Tensor, result: Tensor) -> None:
    """Record an in-place change: ``target`` (whose memory now holds ``result``'s value) takes
    ``result``'s place in the graph, and ``old`` takes target's former place."""
    for t, node, index in ((old, old._ctx, old._output_index), (target, result._ctx, result._output_index)):
        if node is not None:
            node._outputs = tuple([weakref.ref(t) if i == index else r for i, r in enumerate(node._outputs)])
    target._ctx, target._output_index, target._requires_grad = result._ctx, result._output_index, True
    target._rewrites += 1  # its views' histories are stale now (views.py)


# --------------------------------------------------------------------------- graph walk

def topological_order(roots: Sequence[Primitive]) -> list[Primitive]:
    """Every node reachable from ``roots``, each after all nodes that consume its outputs.

    Iterative depth-first search, so graphs of any depth work.
    """
    visited: set[Primitive] = set()
    postorder: list[Primitive] = []
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                if edge is not None and edge[0] not in visited:
                    parent = edge[0]
                    visited.add(parent)
                    stack.append((parent, iter(parent.next_functions)))
                    break
            else:
                stack.pop()
                postorder.append(node)
    postorder.reverse()
    return postorder


# --------------------------------------------------------------------------- backward

def _checked_gradient(kind: str, gradient: Tensor, target: Tensor, reducible: bool = False) -> Tensor:
    """``gradient`` for ``target``; with ``reducible``, one of a shape that target's broadcasts
    to is summed down to it (PyTorch does this for what a backward returns)."""
    if gradient.shape != target.shape:
        if reducible:
            try:
                return gradient.sum_to_size(target.shape)
            except ArgumentError:  # target's shape does not broadcast to the gradient's
                pass
        raise ArgumentError(
            f"{kind}: gradient has shape {gradient.shape} but the tensor has shape {target.shape}"
        )
    return gradient


def _as_gradient(value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value, dtype=like.dtype))


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    With ``inputs`` given, return their gradients and leave every ``.grad`` alone (this is
    ``grad``); otherwise accumulate into the ``.grad`` of every leaf that requires grad.
    """
    for out in outputs:
        if not out.requires_grad:  # (also brings a stale view's history up to date)
            raise RuntimeError(
                f"backward: a tensor of shape {out.shape} does not require grad and has no "
                "grad_fn (was it computed under no_grad, from detached data, or from inputs "
                "that do not require grad?)"
            )
    grad_of_node: dict[Primitive, list[Tensor | None]] = {}
    grad_of_leaf: dict[int, Tensor] = {}
    leaf_gradients: dict[int, tuple[Tensor, Tensor]] = {}  # leaves' .grad to come, as PyTorch's InputBuffer
    wanted = {id(t): t for t in inputs} if inputs is not None else None

    def deliver(target: Tensor, edge: tuple[Primitive, int] | None, gradient: Tensor) -> None:
        """Add ``gradient`` to what ``target`` (produced along ``edge``) has received."""
        if gradient._data.dtype != target._data.dtype:
            gradient = gradient.astype(target.dtype)
        if wanted is not None and id(target) in wanted:
            previous = grad_of_leaf.get(id(target))
            grad_of_leaf[id(target)] = gradient if previous is None else previous + gradient
        if edge is not None:
            node, i = edge
            slots = grad_of_node.get(node)
            if slots is None:
                slots = grad_of_node[node] = [None] * len(node._outputs)
            slots[i] = gradient if slots[i] is None else slots[i] + gradient
        elif wanted is None and target._requires_grad:  # summed first: a leaf's hooks see its whole gradient
            pending = leaf_gradients.get(id(target))
            leaf_gradients[id(target)] = (target, gradient if pending is None else pending[1] + gradient)

    with set_grad_enabled(create_graph):
        for out, g in zip(outputs, grad_outputs):
            edge = (out._ctx, out._output_index) if out._ctx is not None else None
            deliver(out, edge, _checked_gradient("backward", _as_gradient(g, out), out))
        roots = [out.grad_fn for out in outputs if out.grad_fn is not None]
        order = topological_order(roots)
        if wanted is not None:  # as PyTorch: run only the nodes through which a wanted input is reached
            order = _leading_to(order, wanted)
        for node in order:  # the per-node work is kept lean: it runs for every operation
            slots = grad_of_node.pop(node, None)
            if slots is None:
                continue
            if node._saved is None:
                raise RuntimeError(
                    f"backward: trying to backward through {node.name} a second time (the "
                    "graph's saved arrays were freed after the first backward); pass "
                    "retain_graph=True to the first backward if you need to do this"
                )
            if node.tensor_hooks is not None:
                for k, hooks in node.tensor_hooks.items():
                    if slots[k] is not None:
                        slots[k] = run_hooks(hooks, slots[k])
            if node._versions and any_changed():  # with no in-place change anywhere, all are 0
                node.check_versions()
            if len(slots) > 1 and node.materialize_grads:  # outputs that received no gradient get zeros
                for k, g in enumerate(slots):
                    if g is None and node.output_specs[k] is not None:
                        spec = node.output_specs[k]
                        slots[k] = Tensor(np.zeros(spec.shape, dtype=spec.dtype))
            grads = _checked_backward(node, slots) if _debug.anomaly else node.backward(node, *slots)
            if not isinstance(grads, tuple):
                grads = (grads,)
            if len(grads) != len(node.inputs):
                grads = _trimmed(node, grads)
            if not retain_graph:
                node.release()
            for needed, arg, edge, g in zip(node.needs_input_grad, node.inputs, node.next_functions, grads):
                if needed and g is not None:
                    if not isinstance(g, Tensor) or g._data.shape != arg._data.shape:
                        g = _checked_gradient(f"{node.name}.backward", _as_gradient(g, arg), arg, reducible=True)
                    deliver(arg, edge, g)
        for target, gradient in leaf_gradients.values():  # (each leaf's hooks run once, with the sum)
            target._accumulate_grad(gradient, create_graph)
    if wanted is None:
        return None
    return [grad_of_leaf.get(id(t)) for t in inputs]


def run_hooks(hooks: OrderedDict, gradient: Tensor) -> Tensor:
    """Pass ``gradient`` through tensor hooks; each may return a replacement of the same shape.
    ``retain_grad`` sees the final gradient: it runs last, as in PyTorch."""
    for hook in [h for h in hooks.values() if not isinstance(h, RetainGrad)] + \
            [h for h in hooks.values() if isinstance(h, RetainGrad)]:
        result = hook(gradient)
        if result is not None:
            gradient = _checked_gradient("hook", _as_gradient(result, gradient), gradient)
    return gradient


class RetainGrad:
    """The hook behind ``Tensor.retain_grad()``: accumulates the gradient into the tensor's ``.grad``
    (held weakly, so the hook does not keep the tensor alive)."""

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = weakref.ref(tensor)

    def __call__(self, gradient: Tensor) -> None:
        t = self.tensor()
        if t is not None:
            t.grad = gradient if t.grad is None else t.grad + gradient


def _trimmed(node: Primitive, grads: tuple) -> tuple:
    """A backward's gradients, one per input: extra trailing Nones are allowed, as in PyTorch."""
    n = len(node.inputs)
    if len(grads) < n or any(g is not None for g in grads[n:]):
        raise RuntimeError(f"{node.name}.backward returned an incorrect number of gradients (expected {n}, "
                           f"got {len(grads)}): one per input of forward, None where there is none")
    return grads[:n]


def _leading_to(order: list[Primitive], wanted: dict[int, Tensor]) -> list[Primitive]:
    """The nodes of ``order`` (consumers first) from which some tensor in ``wanted`` is reached:
    the walk stops at a wanted non-leaf instead of running its history for nothing."""
    useful: set[Primitive] = set()
    for node in reversed(order):  # producers first
        if any(id(arg) in wanted for arg in node.inputs) or any(
                edge is not None and edge[0] in useful for edge in node.next_functions):
            useful.add(node)
    return [node for node in order if node in useful]


def _checked_backward(node: Primitive, grads_in: list[Tensor]) -> tuple:
    """``node``'s backward under anomaly detection: the gradients it returns are checked, the
    operations it runs on the way are not (a NaN there is the backward's, not theirs)."""
    _debug.in_backward += 1
    try:
        grads = node.backward(node, *grads_in)
    finally:
        _debug.in_backward -= 1
    check_backward(node, grads if isinstance(grads, tuple) else (grads,))
    return grads


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (as ``torch.autograd.backward``);
    with ``inputs``, into those tensors' ``.grad`` only (leaves or not)."""
    if isinstance(tensors, Tensor):  # one tensor: grad_tensors is its one gradient (an array too)
        tensors, grad_tensors = [tensors], [grad_tensors]
    else:
        tensors = list(tensors)
        grad_tensors = [None] * len(tensors) if grad_tensors is None else \
            [grad_tensors] if isinstance(grad_tensors, Tensor) else list(grad_tensors)
    filled = [_implicit_gradient("backward", t) if g is None else g for t, g in zip(tensors, grad_tensors)]
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is None:
        run_backward(tensors, filled, retain, create_graph)
        return
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not inputs:
        raise RuntimeError("backward: inputs argument was passed an empty list; pass None to reach every leaf")
    for t, g in zip(inputs, run_backward(tensors, filled, retain, create_graph, inputs)):
        if g is not None:
            t._accumulate_grad(g, create_graph)


def _implicit_gradient(op: str, output: Tensor) -> Tensor:
    if output._data.size != 1:
        raise RuntimeError(
            f"{op}: grad can be implicitly created only for scalar outputs, but the output has shape "
            f"{output.shape}; pass the gradient of that shape")
    return Tensor(np.ones(output.shape, dtype=output.dtype))


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    As ``torch.autograd.grad``: the tool for gradient penalties and higher derivatives. An
    input the outputs do not depend on is an error, or None with ``allow_unused``, or zeros
    with ``materialize_grads``.
    """
    del only_inputs  # (deprecated in PyTorch, and without effect there too)
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched needs vmap, which tinygrad_cnn does not have")
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    filled = [_implicit_gradient("grad", o) if g is None else g for o, g in zip(outputs, grad_outputs)]
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: an input of shape {t.shape} does not require grad")
    retain = create_graph if retain_graph is None else retain_graph
    result = run_backward(outputs, filled, retain, create_graph, inputs)
    for i, g in enumerate(result):
        if g is None:
            if materialize_grads:
                result[i] = Tensor(np.zeros(inputs[i].shape, dtype=inputs[i].dtype))
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                    "outputs; pass allow_unused=True to get None for it"
                )
    return tuple(result)


class inference_mode(set_grad_enabled):  # noqa: N801  (PyTorch's name)
    """As ``no_grad`` (PyTorch's faster variant of it; here they are the same thing)."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` or ``no_grad()`` (they are one mode here)."""
    return not is_grad_enabled()


class _VariableMeta(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's deprecated ``Variable``: ``Variable(t, requires_grad=...)`` is the tensor itself
    (every Tensor is a Variable), kept so old tutorials run."""

    def __new__(cls, data: Any, requires_grad: bool = False) -> Tensor:  # type: ignore[misc]
        tensor = data if isinstance(data, Tensor) else Tensor(data)
        if requires_grad:
            tensor.requires_grad = True
        return tensor


from .gradcheck import gradcheck, gradgradcheck  # noqa: E402
