"""``tc.jit``: ``torch.jit`` as eager PyTorch code sees it.

Model code written for TorchScript marks methods (``@torch.jit.unused``, ``_overload_method``)
and asks ``torch.jit.is_scripting()``; here nothing is ever compiled, so those marks are
identity decorators and ``is_scripting()`` is False. ``script`` and ``trace`` return what they
were given, running the same Python code, with a warning that nothing was compiled; saving
a TorchScript archive is refused with the ways that exist here to keep a model.
"""
from __future__ import annotations

import typing
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from . import debug
from .errors import NotImplementedArgumentsError

T = TypeVar("T")
Final = typing.Final

NO_ARCHIVE = ("there is no TorchScript here: export a static graph with tc.onnx.export(model, example_input, path), "
              "or keep the weights with tc.save(model.state_dict(), path)")


class Error(RuntimeError):
    """``torch.jit.Error``: raised by TorchScript code that fails (never, here)."""


class TracerWarning(Warning):
    """``torch.jit.TracerWarning``."""


class ScriptModule:
    """What ``script``/``trace`` make a module into: the same module, whose TorchScript-only
    methods say why they cannot work."""

    def save(self, f: Any, _extra_files: Any = None) -> None:
        raise NotImplementedArgumentsError(f"{type(self).__name__}.save: {NO_ARCHIVE}")

    @property
    def code(self) -> str:
        raise NotImplementedArgumentsError(f"{type(self).__name__}.code: nothing was compiled; the module runs as "
                                           "eager Python")


def is_scripting() -> bool:
    """False: code never runs under the TorchScript compiler here."""
    return False


def is_tracing() -> bool:
    """True while ``tc.onnx.export`` records a graph (PyTorch's export traces too)."""
    return bool(debug.flags.tracing)


def unused(fn: T) -> T:
    return fn


def export(fn: T) -> T:
    return fn


def _overload(fn: T) -> T:
    return fn


def _overload_method(fn: T) -> T:
    return fn


def interface(obj: T) -> T:
    return obj


def script_if_tracing(fn: T) -> T:
    return fn


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@ignore`` and ``@ignore(drop=True)``: the function itself."""
    if callable(drop):
        return drop
    return lambda fn: fn


def annotate(the_type: Any, the_value: T) -> T:
    return the_value


def Attribute(value: T, type: Any) -> T:  # noqa: N802, A002  (PyTorch's names)
    return value


def _scripted(obj: T, how: str) -> T:
    from .nn import Module
    warnings.warn(f"tc.jit.{how}: nothing is compiled; {type(obj).__name__} runs as eager Python. For a static "
                  "graph, use tc.onnx.export", stacklevel=3)
    if isinstance(obj, Module) and not isinstance(obj, ScriptModule):
        cls = type(obj)
        obj.__class__ = type(cls.__name__, (cls, ScriptModule), {"__module__": cls.__module__})
    return obj


def script(obj: T, optimize: None = None, _frames_up: int = 0, _rcb: Callable[[str], Any] | None = None,
           example_inputs: Any = None) -> T:
    """``obj`` itself (a module becomes a ``ScriptModule`` too), running the same code."""
    return _scripted(obj, "script")


def trace(func: T, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True, **kwargs: Any) -> T:
    """``func`` itself (a module becomes a ``ScriptModule`` too): no graph is recorded."""
    return _scripted(func, "trace")


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    raise NotImplementedArgumentsError(f"tc.jit.save: {NO_ARCHIVE}")


def load(f: Any, map_location: Any = None, _extra_files: Any = None, _restore_shapes: bool = False) -> Any:
    raise NotImplementedArgumentsError(f"tc.jit.load: {NO_ARCHIVE}; tc.load reads what tc.save wrote")


def compile(model: Callable[..., Any] | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: Any = "inductor", mode: str | None = None, options: dict[str, Any] | None = None,
            disable: bool = False) -> Any:
    """``torch.compile``: this engine runs eagerly, so the model or function comes back as it
    is, which computes what it computed (the contract of a compiled callable). As a decorator
    with options (``@tc.compile(mode="max-autotune")``) it returns the same decorator."""
    del fullgraph, dynamic, backend, mode, options, disable
    if model is None:
        return lambda function: function
    return model
