"""Gradient checking: analytic Jacobians from backward against central finite differences."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """The analytic and numerical derivatives disagree."""


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _differentiable(inputs: Sequence[Any], caller: str) -> list[int]:
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        raise ValueError(f"{caller}: no input requires grad, so there is nothing to check")
    for i in positions:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"{caller}: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 inputs (use tensor.double() or Tensor(data, dtype=np.float64))"
            )
    return positions


def _float_outputs(fn: Callable, inputs: Sequence[Any]) -> list[Tensor]:
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _numerical_jacobians(fn: Callable, inputs: Sequence[Any], positions: list[int],
                         sizes: list[int], eps: float) -> dict[tuple[int, int], np.ndarray]:
    """jacobian[(output, input)][k, j] = d output.flat[k] / d input.flat[j], by central differences."""
    jacobians = {}
    for i in positions:  # fn runs with grad mode on: it may differentiate internally
        data = inputs[i]._data
        for j in range(data.size):
            index = np.unravel_index(j, data.shape)
            original = data[index]
            data[index] = original + eps
            plus = [o._data.astype(np.float64).ravel() for o in _float_outputs(fn, inputs)]
            data[index] = original - eps
            minus = [o._data.astype(np.float64).ravel() for o in _float_outputs(fn, inputs)]
            data[index] = original
            for o, (p, m) in enumerate(zip(plus, minus)):
                column = jacobians.setdefault((o, i), np.zeros((sizes[o], data.size)))
                column[:, j] = (p - m) / (2 * eps)
    return jacobians


def _analytical_jacobian(output: Tensor, inputs: Sequence[Any], positions: list[int]) -> list[np.ndarray]:
    """One backward pass per output element, each with a one-hot ``grad_outputs``."""
    rows = [np.zeros((output._data.size, inputs[i]._data.size)) for i in positions]
    if not output.requires_grad:
        return rows  # the graph is cut: backward sees no dependence at all
    for k in range(output._data.size):
        onehot = np.zeros(output.shape, dtype=output.dtype)
        onehot.flat[k] = 1
        grads = grad(output, [inputs[i] for i in positions], Tensor(onehot),
                     retain_graph=True, allow_unused=True)
        for row, g in zip(rows, grads):
            if g is not None:
                row[k] = g._data.ravel()
    return rows


def _pytorch_options(op: str, options: dict[str, Any]) -> None:
    """PyTorch's other gradcheck keywords: the ones that change nothing here are taken (our
    backward is deterministic, checks are always full and reverse mode), the rest refused."""
    unknown = set(options) - set(_NO_EFFECT) - set(_NOT_SUPPORTED)
    if unknown:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(unknown)}")
    asked = [k for k in _NOT_SUPPORTED if options.get(k)]
    if asked:
        raise NotImplementedError(f"{op}: {', '.join(asked)} need batching or forward-mode AD, which "
                                  "tinygrad_cnn does not have")


_NO_EFFECT = ("nondet_tol", "check_undefined_grad", "check_grad_dtypes", "check_backward_ad", "fast_mode",
              "masked", "gen_non_contig_grad_outputs", "check_rev_over_rev")
_NOT_SUPPORTED = ("check_batched_grad", "check_batched_forward_grad", "check_forward_ad", "check_fwd_over_rev")


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **pytorch_options: Any,
) -> bool:
    """Check ``fn``'s backward against finite differences, for every output and every input
    that requires grad. Inputs must be float64. Returns True, or raises ``GradcheckError`` (a
    RuntimeError, as PyTorch's; False instead when ``raise_exception`` is off) naming the worst
    element. PyTorch's other keywords are taken where they change nothing here."""
    _pytorch_options("gradcheck", pytorch_options)
    inputs = _as_tuple(inputs)
    positions = _differentiable(inputs, "gradcheck")
    outputs = _float_outputs(fn, inputs)
    sizes = [o._data.size for o in outputs]
    numerical = _numerical_jacobians(fn, inputs, positions, sizes, eps)
    for o, output in enumerate(outputs):
        for i, analytical in zip(positions, _analytical_jacobian(output, inputs, positions)):
            expected = numerical[(o, i)]
            excess = np.abs(analytical - expected) - (atol + rtol * np.abs(expected))
            if excess.size and excess.max() > 0:
                if not raise_exception:
                    return False
                k, j = np.unravel_index(np.argmax(excess), excess.shape)
                raise GradcheckError(_mismatch_message(
                    output, o, inputs[i], i, k, j, expected[k, j], analytical[k, j], atol, rtol))
    return True


def _mismatch_message(output: Tensor, o: int, tensor: Tensor, i: int, k: int, j: int,
                      numerical: float, analytical: float, atol: float, rtol: float) -> str:
    output_index = np.unravel_index(k, output.shape) if output.ndim else ()
    input_index = np.unravel_index(j, tensor.shape) if tensor.ndim else ()
    hint = "" if output.requires_grad else (
        " The output does not require grad: the graph is cut (detached data, no_grad, or "
        "a result built outside the autograd operations).")
    return (
        f"Jacobian mismatch for output {o} (shape {output.shape}) with respect to input {i} "
        f"(shape {tensor.shape}): worst at input element {tuple(int(v) for v in input_index)}, "
        f"output element {tuple(int(v) for v in output_index)}: numerical {numerical:.8g}, "
        f"analytical {analytical:.8g}, difference {abs(numerical - analytical):.3g} > "
        f"atol + rtol*|numerical| = {atol + rtol * abs(numerical):.3g}.{hint}"
    )


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    **pytorch_options: Any,
) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, grad_outputs) -> input gradients,
    computed with ``create_graph=True``. ``grad_outputs`` default to seeded random float64."""
    _pytorch_options("gradgradcheck", pytorch_options)
    inputs = _as_tuple(inputs)
    positions = _differentiable(inputs, "gradgradcheck")
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in _float_outputs(fn, inputs)
        )
    grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def first_derivatives(*args: Any) -> tuple[Tensor, ...]:
        xs, gs = args[:count], args[count:]
        pairs = [(o, g) for o, g in zip(_float_outputs(fn, xs), gs) if o.requires_grad]
        wanted = [xs[i] for i in positions]
        grads = grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                     create_graph=True, allow_unused=True) if pairs else [None] * len(wanted)
        return tuple(g if g is not None else Tensor(np.zeros(x.shape)) for g, x in zip(grads, wanted))

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
