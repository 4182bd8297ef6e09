"""``Module.register_full_backward_hook``: the gradients that cross a module's boundary.

As PyTorch's ``BackwardHook``: an identity node is put on the module's positional Tensor
inputs before forward, another on its Tensor outputs after. Backward through the output node
sees ``grad_output`` (the backward pre-hooks may replace it); backward through the input node
sees ``grad_input`` and calls the hooks with both (a hook may return a replacement
``grad_input``). When no input requires grad, the hooks are called from the output node with
``grad_input`` all None, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Primitive
from ..tensor import Tensor


class BackwardHookState:
    """What the two identity nodes of one module call share: the module and its grad_output."""

    def __init__(self, module: Any, inputs: tuple[Any, ...]) -> None:
        self.module = module
        self.input_positions = [i for i, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]
        self.input_count = len(inputs)
        self.grad_output: tuple[Tensor | None, ...] = ()

    def __repr__(self) -> str:
        return f"BackwardHook({type(self.module).__name__})"

    def outputs_reached(self, grads: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = grads
        if not self.input_positions:  # nothing flows on to the inputs: the hooks are called now
            self.call_hooks((None,) * self.input_count)
        return grads

    def inputs_reached(self, grads: tuple[Tensor, ...]) -> tuple[Tensor | None, ...]:
        grad_input: list[Tensor | None] = [None] * self.input_count
        for position, g in zip(self.input_positions, grads):
            grad_input[position] = g
        replaced = self.call_hooks(tuple(grad_input))
        return tuple(replaced[p] for p in self.input_positions)

    def call_hooks(self, grad_input: tuple[Tensor | None, ...]) -> tuple[Tensor | None, ...]:
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(f"backward hook of {type(self.module).__name__} returned {len(result)} "
                                       f"gradients, expected {len(grad_input)} (one per positional input)")
                grad_input = result
        return grad_input


class BackwardHookCrossing(Primitive):
    """Identity on several tensors; backward hands their gradients to the hook state (``side``:
    "inputs" or "outputs") and passes on what it returns."""

    backward_reads = ()

    @staticmethod
    def forward(ctx: Primitive, *arrays: Any, state: BackwardHookState, side: str) -> tuple:
        return tuple(a.view() for a in arrays)

    @staticmethod
    def backward(ctx: Primitive, *grads: Tensor) -> tuple:
        state = ctx.settings["state"]
        if ctx.settings["side"] == "outputs":
            return state.outputs_reached(grads)
        return state.inputs_reached(grads)


def wrap_inputs(module: Any, args: tuple[Any, ...]) -> tuple[tuple[Any, ...], BackwardHookState]:
    """``args`` with the Tensors that require grad passed through the input crossing."""
    state = BackwardHookState(module, args)
    if not state.input_positions:
        return args, state
    crossed = BackwardHookCrossing.apply(*[args[i] for i in state.input_positions], state=state, side="inputs")
    args = list(args)
    for position, t in zip(state.input_positions, crossed):
        args[position] = t
    return tuple(args), state


def wrap_outputs(state: BackwardHookState, output: Any) -> Any:
    """``output`` (a Tensor or a tuple/list of them) passed through the output crossing."""
    single = isinstance(output, Tensor)
    items = [output] if single else list(output) if isinstance(output, (tuple, list)) else None
    if items is None:
        return output
    positions = [i for i, t in enumerate(items) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        return output
    crossed = BackwardHookCrossing.apply(*[items[i] for i in positions], state=state, side="outputs")
    for position, t in zip(positions, crossed):
        items[position] = t
    return items[0] if single else type(output)(items)
