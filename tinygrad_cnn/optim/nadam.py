"""NAdam (PyTorch's update): Adam with Nesterov momentum and a momentum-decay schedule."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_betas, check_non_negative, decayed, implementation, update_moments


class NAdam(Optimizer):
    """mu_t = b1 (1 - 0.5 * 0.96^(t * momentum_decay)); m and v as Adam's;
    p -= lr (1 - mu_t) / (1 - prod mu) * g / d + lr mu_{t+1} / (1 - prod mu * mu_{t+1}) * m / d,
    d = sqrt(v / (1 - b2^t)) + eps. ``decoupled_weight_decay`` multiplies p by (1 - lr wd)."""

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_non_negative("NAdam", lr=lr, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        check_betas("NAdam", betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, **implementation(
                                          "NAdam", foreach=foreach, capturable=capturable,
                                          differentiable=differentiable)))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if "step" not in state:
            state.update(step=0, mu_product=1.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        step = state["step"]
        grad = decayed(param, grad, lr, weight_decay, group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        # PyTorch keeps the product of the momentum factors as a float32 scalar: its rounding too
        state["mu_product"] = float(np.float32(state["mu_product"]) * np.float32(mu))
        update_moments(state, grad, beta1, beta2)
        exp_avg = state["exp_avg"]
        denom = np.sqrt(state["exp_avg_sq"] / (1 - beta2 ** step)) + eps
        param -= lr * (1.0 - mu) / (1.0 - state["mu_product"]) * grad / denom
        param -= lr * mu_next / (1.0 - state["mu_product"] * mu_next) * exp_avg / denom
