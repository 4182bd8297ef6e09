"""In-place operations with PyTorch's semantics: ``t += u``, ``t.add_(u)``, ``t[i] = v``, ...

Each one changes ``t``'s memory, returns ``t`` and bumps the version counter of t's storage
(``versions.py``), so a node that saved t's old values refuses to run backward on the new
ones instead of giving a silently wrong gradient.

- While gradients are recorded and the new value depends on something that requires grad,
  the change becomes part of the graph: the usual out-of-place primitive computes the new
  value from ``old`` (a tensor that keeps t's old value and history), the result is written
  into t's memory, and t takes the primitive's node as its history. Gradients then flow
  through that node to the old history: this is what makes ResNet's ``out += identity``
  and ``x[:, 0] = 0`` on an activation differentiable.
- A leaf that requires grad may only be changed inside ``no_grad`` (optimisers, manual SGD),
  as in PyTorch: outside it, the change would silently detach the parameter from its uses.
- Otherwise the change is plain NumPy on t's memory (``._data`` stays the escape hatch that
  changes memory without bumping the version).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd, kernels, views
from .ops import activation, elementwise, shape
from .random import generator
from .tensor import Tensor
from .versions import bump_version


def change(target: Tensor, op: str, new_value: Callable[..., Tensor], *others: Any,
           reads_old: bool = False, kernel: Callable[[np.ndarray], Any] | None = None) -> Tensor:
    """Give ``target`` the value ``new_value(target, *others)`` in place and return it.

    ``reads_old`` says whether the primitive's backward reads the old value, which then has
    to be copied before it is overwritten. ``kernel``, where given, makes the same change
    directly in target's memory (one pass instead of a new array and a copy); it is used when
    nothing is recorded, as in inference (``nn.ReLU(inplace=True)`` after every convolution),
    on floating-point tensors (others take the general path, and its errors).
    """
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(target).__name__}")
    grad_on = autograd.is_grad_enabled()
    base = None if target._base is None else target._base[0]  # target is a view of base's memory
    if grad_on and (target.is_leaf and target.requires_grad or base is not None and base.is_leaf
                    and base.requires_grad):
        what = "a leaf tensor" if base is None else f"a view of a leaf tensor (shape {base.shape})"
        raise RuntimeError(
            f"{op}: {what} that requires grad (shape {target.shape}) cannot be changed in place "
            "while gradients are recorded; do it inside `with tc.no_grad():` (as optimisers do), or on ._data")
    if not target._data.flags.writeable:
        raise RuntimeError(f"{op}: the tensor of shape {target.shape} is a read-only view (from expand or "
                           "broadcast_to); change a copy (.clone()) instead")
    record = autograd.records(target, *others)  # (an export records the change as the operation it is)
    if not record:
        if kernel is not None and target.dtype.kind == "f":
            kernel(target._data)
            bump_version(target._data)
        else:
            with autograd.no_grad():
                value = new_value(target, *others)
            if value is not target:  # (a new value that is the tensor itself changes nothing)
                _write(op, target, value._data)
        return target
    old = autograd.value_before_change(target, copy=reads_old)
    result = new_value(old, *[old if o is target else o for o in others])
    if result is old:  # nothing changes (dropout outside training): no version bump, no new history
        return target
    if views.is_one_of_many(target):  # (after new_value, whose argument errors come first, as in PyTorch)
        raise RuntimeError(
            f"{op}: the tensor of shape {target.shape} is one of several views made by one call (split, "
            "chunk) and cannot be changed in place while gradients are recorded, as in PyTorch; change a "
            ".clone(), or use the out-of-place form")
    _write(op, target, result._data)
    autograd.saved_result_moved(result, target._data)
    if base is None:
        autograd.rebase_history(target, old, result)
    else:  # the base takes the change, and the view becomes a view of the changed base
        views.replay(base, target, result)
    return target


def _write(op: str, target: Tensor, value: np.ndarray) -> None:
    """Copy ``value`` into target's memory (as PyTorch, no silent dtype or shape change)."""
    if value.shape != target.shape:
        raise RuntimeError(f"{op}: the result has shape {value.shape} but the tensor changed in place has shape "
                           f"{target.shape}; an in-place operation cannot change a tensor's shape")
    if not np.can_cast(value.dtype, target.dtype, casting="same_kind"):
        raise RuntimeError(f"{op}: the result type {value.dtype} can't be cast to the tensor's dtype "
                           f"{target.dtype}")
    np.copyto(target._data, value, casting="same_kind")
    bump_version(target._data)


def _scaled(other: Any, alpha: Any) -> Any:
    return other if alpha == 1 else other * alpha


# --------------------------------------------------------------------------- the methods

def add_(t: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    return change(t, "add_", lambda old, o: old + _scaled(o, alpha), other)


def sub_(t: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    return change(t, "sub_", lambda old, o: old - _scaled(o, alpha), other)


def mul_(t: Tensor, other: Any) -> Tensor:
    return change(t, "mul_", lambda old, o: old * o, other, reads_old=True)


def div_(t: Tensor, other: Any) -> Tensor:
    return change(t, "div_", lambda old, o: old / o, other, reads_old=True)


def clamp_(t: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    return change(t, "clamp_", lambda old: elementwise.clamp(old, min, max), reads_old=True)


def relu_(t: Tensor) -> Tensor:
    """ReLU in place; its backward reads the output, so the old values need no copy."""
    return change(t, "relu_", elementwise.relu, kernel=lambda data: kernels.relu(data, out=data))


def hardtanh_(t: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    activation.hardtanh_bounds("hardtanh", min_val, max_val)  # (before the kernel, which would not check)
    return change(t, "hardtanh_", lambda old: activation.hardtanh(old, min_val, max_val), reads_old=True,
                  kernel=lambda data: kernels.clip(data, min_val, max_val, out=data))


def leaky_relu_(t: Tensor, negative_slope: float = 0.01) -> Tensor:
    """Leaky ReLU in place; its backward reads the result (a positive slope keeps the sign)."""
    return change(t, "leaky_relu_", lambda old: activation.leaky_relu(old, negative_slope, of_result=True))


def elu_(t: Tensor, alpha: float = 1.0) -> Tensor:
    """ELU in place; its backward reads the result, as PyTorch's."""
    return change(t, "elu_", lambda old: activation.elu(old, alpha, of_result=True))


def selu_(t: Tensor) -> Tensor:
    """SELU in place; its backward reads the result, as PyTorch's."""
    return change(t, "selu_", lambda old: activation.selu(old, of_result=True))


def setitem_(t: Tensor, index: Any, value: Any) -> Tensor:
    """``t[index] = value``."""
    return change(t, "setitem", lambda old, v: shape.setitem(old, index, v), value)


def fill_(t: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_: the value must be a number or a 0-d tensor, got shape {value.shape}")
    return setitem_(t, Ellipsis, value)


def zero_(t: Tensor) -> Tensor:
    return setitem_(t, Ellipsis, 0.0)


def copy_(t: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast to t's shape, converted to t's dtype) into t."""
    src = src if isinstance(src, Tensor) else Tensor(np.asarray(src))
    if src.dtype != t.dtype:
        src = src.astype(t.dtype)
    return setitem_(t, Ellipsis, src)


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of N(mean, std²) from the shared generator (``tc.manual_seed``)."""
    _check_float("normal_", t)
    return setitem_(t, Ellipsis, Tensor(generator().normal(mean, std, t.shape).astype(t.dtype)))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of U(a, b) from the shared generator (``tc.manual_seed``)."""
    _check_float("uniform_", t)
    return setitem_(t, Ellipsis, Tensor(generator().uniform(a, b, t.shape).astype(t.dtype)))


def _check_float(op: str, t: Tensor) -> None:
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {t.dtype}")
