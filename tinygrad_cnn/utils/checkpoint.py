"""Activation checkpointing: trade compute for memory (``torch.utils.checkpoint``).

``checkpoint(fn, *args)`` runs ``fn`` without recording a graph, so none of its intermediate
activations are kept; backward runs ``fn`` again, this time recording, with the random state
of the first run restored (so dropout drops the same units), and backpropagates through the
recomputed graph. Gradients equal those of calling ``fn`` directly.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..autograd import Primitive, enable_grad, no_grad, run_backward
from ..jit import is_tracing
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor


class Checkpoint(Primitive):
    """``fn(*inputs)`` whose backward recomputes it (see the module docstring)."""

    @staticmethod
    def forward(ctx, *arrays, fn, preserve_rng_state, kwargs):
        if preserve_rng_state:
            ctx.save_for_backward(get_rng_state())
        with no_grad():
            out = fn(*[Tensor(a) if hasattr(a, "dtype") else a for a in arrays], **kwargs)
        if isinstance(out, Tensor):
            return out._data
        if isinstance(out, tuple) and all(isinstance(o, Tensor) for o in out):
            return tuple(o._data for o in out)
        raise TypeError(f"checkpoint: the function must return a Tensor or a tuple of Tensors, got "
                        f"{type(out).__name__}")

    @staticmethod
    def backward(ctx, *grads):
        s = ctx.settings
        inputs = [Tensor._from_op(a._data, None, 0, need) if isinstance(a, Tensor) else a
                  for a, need in zip(ctx.inputs, ctx.needs_input_grad)]
        current = get_rng_state()
        if s["preserve_rng_state"]:
            (state,) = ctx.saved_tensors
            set_rng_state(state)
        try:
            with enable_grad():
                out = s["fn"](*inputs, **s["kwargs"])
        finally:
            set_rng_state(current)
        outputs = [out] if isinstance(out, Tensor) else list(out)
        pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad]
        if pairs:  # parameters used inside fn get their gradients here, as in a direct call
            run_backward([o for o, _ in pairs], [g for _, g in pairs], False, False)
        return tuple(t.grad if need else None for t, need in zip(inputs, ctx.needs_input_grad))


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, keeping no intermediate activation for backward.

    ``use_reentrant`` is accepted for PyTorch's scripts (both of PyTorch's variants give the
    same gradients here); the result must be a Tensor or a tuple of Tensors. While a model is
    traced for export the call is made directly, so its operations are recorded one by one.
    """
    if not callable(function):
        raise TypeError(f"checkpoint: expected a callable, got {type(function).__name__}")
    if is_tracing():
        return function(*args, **kwargs)
    return Checkpoint.apply(*args, fn=function, preserve_rng_state=preserve_rng_state, kwargs=kwargs)
