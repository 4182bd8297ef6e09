"""Optimizer: parameter groups, per-parameter state, zero_grad and state dicts."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..autograd import enable_grad, zero_grads
from ..errors import ArgumentError, NotImplementedArgumentsError
from ..serialization import to_python
from ..tensor import Tensor
from ..versions import bump_version


def implementation(optimizer: str, **choices: Any) -> dict[str, Any]:
    """PyTorch's implementation keywords, kept in the defaults as PyTorch keeps them.

    ``foreach`` and ``fused`` choose among PyTorch's kernels for one and the same update, and
    ``capturable`` prepares it for CUDA graphs: here one NumPy update serves every choice, so
    they change nothing. ``differentiable=True`` (autograd through the update itself) is
    refused: the update runs on arrays outside the graph."""
    if choices.get("differentiable"):
        raise NotImplementedArgumentsError(f"{optimizer}: differentiable=True is not supported: the update runs on "
                                           "NumPy arrays, outside the autograd graph")
    if choices.get("fused") and choices.get("foreach"):
        raise ArgumentError("`fused` and `foreach` cannot be `True` together.")
    return choices


def decayed(param: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float, decoupled: bool) -> np.ndarray:
    """Weight decay, PyTorch's two ways: the gradient plus weight_decay * p (L2), or with
    ``decoupled`` p shrunk by (1 - lr * weight_decay) in place (AdamW's). Returns the gradient."""
    if not weight_decay:
        return grad
    if decoupled:
        param *= 1 - lr * weight_decay
        return grad
    return grad + weight_decay * param


def update_moments(state: dict[str, Any], grad: np.ndarray, beta1: float, beta2: float) -> None:
    """Adam's running averages of the gradient (PyTorch's lerp) and of its square, in place."""
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    exp_avg += (grad - exp_avg) * (1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad


def check_betas(optimizer: str, betas: Any) -> None:
    if len(tuple(betas)) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{optimizer}: betas must be in [0, 1), got {betas}")


def check_non_negative(optimizer: str, **values: Any) -> None:
    """Refuse negative, NaN and non-numeric hyper-parameters, naming them all."""
    names = list(values)
    listing = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]
    got = ", ".join(f"{k}={v!r}" for k, v in values.items())
    if any(isinstance(v, bool) or not isinstance(v, (int, float, np.number)) for v in values.values()):
        raise TypeError(f"{optimizer}: {listing} must be numbers, got {got}")
    if not all(value >= 0 for value in values.values()):  # False for NaN too
        raise ValueError(f"{optimizer}: {listing} must be non-negative, got {got}")


class Optimizer:
    """Base class. Subclasses implement ``_update(param, grad, state, group)`` on NumPy arrays."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups: list[dict[str, Any]] = []
        for group in groups:
            self.add_param_group(group)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)  # keyed by parameter, as PyTorch

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters (Tensors, or (name, Tensor) pairs as ``named_parameters()``
        gives them, whose names are kept in ``param_names``) with its own settings."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        group = {**self.defaults, **group, "params": params}
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):
            group["param_names"] = [str(name) for name, _ in params]
            group["params"] = [p for _, p in params]
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: can only optimise tensors that require grad, "
                                f"got {type(p).__name__}")
        self.param_groups.append(group)

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self._params(), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place; ``closure``, when given, is
        called first (with gradients recorded) and its loss returned, as in PyTorch."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p._data, p.grad._data, self.state[p], group)
                    bump_version(p._data)  # saved copies of p in a graph are stale now
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """As PyTorch: per-parameter state keyed by position, and the groups' settings."""
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": list(range(start, start + count))})
            start += count
        state = {i: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.state[p].items()}
                 for i, p in enumerate(self._params()) if self.state.get(p)}  # (no state yet: left out)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned; a malformed state is a ValueError that says
        what is wrong, and nothing is changed."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            found = sorted(state_dict) if isinstance(state_dict, Mapping) else type(state_dict).__name__
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups', got {found}")
        groups = state_dict["param_groups"]
        if isinstance(groups, Mapping):  # as it comes back from tc.load
            if not all(str(key).isdigit() for key in groups):
                raise ValueError(f"{name}: param_groups must be numbered 0, 1, ..., got keys {sorted(groups)}")
            groups = [groups[key] for key in sorted(groups, key=int)]
        if not all(isinstance(g, Mapping) and "params" in g for g in groups):
            raise ValueError(f"{name}: every parameter group must be a dict with 'params'")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state has {len(groups)} "
                             f"parameter groups, the optimiser {len(self.param_groups)}")
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{type(self).__name__}.load_state_dict: a group has "
                                 f"{len(saved['params'])} parameters in the state, "
                                 f"{len(group['params'])} in the optimiser")
            group.update({k: to_python(v) for k, v in saved.items() if k != "params"})
        params = self._params()
        self.state = defaultdict(dict, {params[i]: entry for i, entry in self._checked_state(
            state_dict["state"], name).items()})

    def _checked_state(self, saved: Any, name: str) -> dict[int, dict[str, Any]]:
        """The per-parameter state of a state dict, each array checked against its parameter."""
        params = self._params()
        if not isinstance(saved, Mapping):
            raise ValueError(f"{name}: 'state' must be a dict keyed by parameter index, got {type(saved).__name__}")
        state: dict[int, dict[str, Any]] = {}
        for key, entry in saved.items():
            if not str(key).isdigit() or int(key) >= len(params) or not isinstance(entry, Mapping):
                raise ValueError(f"{name}: state entry {key!r} does not belong to one of the {len(params)} "
                                 "parameters (keys are parameter indices, values dicts)")
            i = int(key)
            state[i] = {}
            for field, value in entry.items():
                value = np.asarray(value)
                if value.dtype.kind not in "biuf":
                    raise ValueError(f"{name}: state {field!r} of parameter {i} is not numeric ({value.dtype})")
                if value.ndim:
                    if value.shape != params[i].shape:
                        raise ValueError(f"{name}: state {field!r} of parameter {i} has shape {value.shape}, "
                                         f"the parameter {params[i].shape}")
                    value = value.astype(params[i].dtype)
                else:
                    value = value.item()
                state[i][field] = value
        return state
