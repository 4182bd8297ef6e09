"""Adagrad (Duchi et al. 2011): per-element learning rates from the sum of squared gradients."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_non_negative, implementation


class Adagrad(Optimizer):
    """g = grad + weight_decay * p;  s += g²;  p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps).
    As in PyTorch, the state (``step`` and ``sum``) exists from construction on."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        check_non_negative("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize,
                                      **implementation("Adagrad", foreach=foreach, differentiable=differentiable,
                                                       fused=fused)))
        for p in self._params():
            self.state[p] = {"step": 0, "sum": np.full_like(p._data, initial_accumulator_value)}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        if "step" not in state:  # a parameter group added after construction
            state.update(step=0, sum=np.full_like(param, group["initial_accumulator_value"]))
        state["step"] += 1
        step_size = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= step_size * grad / (np.sqrt(state["sum"]) + group["eps"])
