"""The backward of a fused primitive, by differentiating a composite of simpler operations."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..autograd import enable_grad, grad, is_grad_enabled
from ..tensor import Tensor


def vjp_by_composition(
    composite: Callable[..., Tensor | tuple[Tensor, ...]],
    inputs: Sequence[Any],
    needs_input_grad: Sequence[bool],
    grad_outputs: Sequence[Tensor],
) -> tuple[Tensor | None, ...]:
    """The backward of a fused primitive, obtained by differentiating a composite of simpler ones.

    A fused kernel (batch norm's backward, softmax cross-entropy's backward) is fast but has no
    hand-written derivative of its own. ``composite`` recomputes the same values from
    differentiable operations; differentiating it gives the fused kernel's backward, which is
    therefore itself differentiable when the caller records a graph. Only used for second and
    higher derivatives, so its speed does not matter.
    """
    # The composite runs on aliases of the inputs, and is differentiated with respect to them:
    # differentiating it with respect to the inputs themselves would also follow any path from
    # one input to another (an upstream gradient computed from x) and count that term twice.
    with enable_grad():
        aliases = [a.clone() if isinstance(a, Tensor) and need else a for a, need in zip(inputs, needs_input_grad)]
        outs = composite(*aliases)
    wanted = [a for a, need in zip(aliases, needs_input_grad) if need]
    outs = outs if isinstance(outs, tuple) else (outs,)
    used = [(o, g) for o, g in zip(outs, grad_outputs) if o is not None and o.requires_grad]
    grads = iter(grad(
        [o for o, _ in used], wanted, [g for _, g in used],
        retain_graph=True, create_graph=is_grad_enabled(), allow_unused=True,
    )) if used else iter([None] * len(wanted))
    return tuple(next(grads) if need else None for need in needs_input_grad)
