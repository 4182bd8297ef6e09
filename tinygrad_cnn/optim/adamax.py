"""Adamax (PyTorch's update): Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_betas, check_non_negative, implementation


class Adamax(Optimizer):
    """m = b1 m + (1-b1) g;  u = max(b2 u, |g| + eps);  p -= lr / (1 - b1^t) * m / u."""

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        check_non_negative("Adamax", lr=lr, eps=eps, weight_decay=weight_decay)
        check_betas("Adamax", betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, **implementation(
                                          "Adamax", foreach=foreach, differentiable=differentiable,
                                          capturable=capturable)))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay:
            grad = grad + weight_decay * param
        if "step" not in state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_inf=np.zeros_like(param))
        state["step"] += 1
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg += (grad - exp_avg) * (1 - beta1)  # PyTorch's lerp
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + eps, out=exp_inf)
        param -= lr / (1 - beta1 ** state["step"]) * exp_avg / exp_inf
