"""Module: the base class of layers and models, holding parameters, buffers and submodules.

Attributes are registered by type when assigned (a Parameter, a Module, or a buffer declared
with ``register_buffer``), so names come out hierarchically ("features.0.weight") exactly as
in PyTorch, and a PyTorch state dict converted to NumPy loads as is.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..autograd import is_grad_enabled, scope, zero_grads
from ..errors import ArgumentError
from ..hooks import RemovableHandle
from ..tensor import Tensor, dtype_of_to_arguments
from ..tensor_types import type_name
from . import backward_hooks
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


def _typename(value: Any) -> str:
    """PyTorch's name for a value's type in its messages ("torch.FloatTensor" for a float32 tensor)."""
    if isinstance(value, Tensor):
        return type_name(value.dtype)
    return type(value).__qualname__


class Module:
    """Subclass it, create layers in ``__init__``, and compute in ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")
        if isinstance(value, Parameter):
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
        elif name in self._parameters:  # as PyTorch: a parameter stays one (or None), never silently dropped
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' (torch.nn.Parameter or "
                                "None expected)")
            self._parameters[name] = None
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' (torch.nn.Module or "
                                "None expected)")
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' (torch.Tensor or None "
                                "expected)")
            self._buffers[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        for registry in ("_parameters", "_buffers", "_modules"):
            table = self.__dict__.get(registry)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """State that is saved and loaded but not trained (running statistics, counters)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}: buffer {name!r} must be a Tensor or None")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (what attribute assignment does)."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{type(self).__name__}.add_module: the name must be a non-empty string without '.', "
                           f"got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be a Module or None, "
                            f"got {type(module).__name__}")
        if name in self.__dict__ and name not in self._modules:
            raise KeyError(f"{type(self).__name__}.add_module: attribute {name!r} already exists")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` ("" is this module), as ``named_modules`` names it."""
        module: Module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (looking for {target!r})")
            module = child
        return module

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        crossing = (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled()
        if crossing:
            args, state = backward_hooks.wrap_inputs(self, args)
        with scope(self):  # graph nodes remember which module made them
            output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        if crossing:
            output = backward_hooks.wrap_outputs(state, output)
        return output

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces args."""
        return RemovableHandle(self._forward_pre_hooks, hook, prepend)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces output."""
        return RemovableHandle(self._forward_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to this
        module's positional inputs are computed; a non-None result replaces grad_input."""
        return RemovableHandle(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of this module's outputs are known;
        a non-None result replaces grad_output."""
        return RemovableHandle(self._backward_pre_hooks, hook, prepend)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child}" if name else child, m)
                        for child, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules() if recurse else iter([("", self)])
        for prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse):
            yield b

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule, children first, then on this one (weight init)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert the floating parameters and buffers in place: ``to(dtype)``, ``to("cpu")``,
        ``to(device, dtype)`` (only the CPU exists). The Parameter objects stay the same, so an
        optimiser built before still holds them."""
        dtype = dtype_of_to_arguments(args, kwargs)
        if dtype is None:
            return self
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor(t.grad._data.astype(dtype))
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def cpu(self) -> Module:
        return self

    # ------------------------------------------------------------------ state
    def _state_entries(self) -> Iterator[tuple[str, Tensor]]:
        """Parameters and buffers of every module, in PyTorch's state-dict order."""
        for prefix, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, value in registry.items():
                    if value is not None:
                        yield (f"{prefix}.{name}" if prefix else name), value

    def state_dict(self, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and buffer keyed by hierarchical name, as PyTorch's: detached Tensors
        sharing their memory (``keep_vars=True``: the Parameters themselves)."""
        state = OrderedDict() if destination is None else destination
        for name, value in self._state_entries():
            state[prefix + name] = value if keep_vars else value.detach()
        return state

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers (in place, so optimisers keep
        working). With ``strict``, a missing or unexpected key is an error; a wrong shape
        always is."""
        own = OrderedDict(self._state_entries())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        values = {}
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = np.asarray(state_dict[name]._data if isinstance(state_dict[name], Tensor) else state_dict[name])
            if value.shape != target.shape:
                problems.append(f"size mismatch for {name}: the checkpoint has shape {value.shape}, "
                                f"the model has shape {target.shape}")
            values[name] = value
        if problems:
            raise ArgumentError(f"Error(s) in loading state_dict for {type(self).__name__}: " + "; ".join(problems))
        for name, value in values.items():
            np.copyto(own[name]._data, value, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ presentation
    def extra_repr(self) -> str:
        """The settings shown inside this module's parentheses in ``repr``."""
        return ""

    def __repr__(self) -> str:
        children = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        head = f"{type(self).__name__}(" + (self.extra_repr() + "\n" if self.extra_repr() else "\n")
        return head + "".join(f"  {c}\n" for c in children) + ")"

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p._data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def summary(self) -> str:
        """A table of every module with its own parameter count, and the total."""
        rows = [(name or type(self).__name__, type(m).__name__,
                 sum(p._data.size for p in m.parameters(recurse=False)))
                for name, m in self.named_modules()]
        width = max(len(r[0]) for r in rows)
        kinds = max(len(r[1]) for r in rows)
        lines = [f"{'module':<{width}}  {'type':<{kinds}}  {'parameters':>10}"]
        lines += [f"{n:<{width}}  {k:<{kinds}}  {c:>10,}" for n, k, c in rows]
        total = self.num_parameters()
        trainable = self.num_parameters(trainable_only=True)
        lines.append(f"total parameters: {total:,} (trainable: {trainable:,})")
        return "\n".join(lines)
