"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov (PyTorch's update)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import kernels
from .optimizer import Optimizer, check_non_negative, implementation


class SGD(Optimizer):
    """g = grad + weight_decay * p;  b = momentum * b + (1 - dampening) * g (b = g at first);
    p -= lr * (g + momentum * b if nesterov else b)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        check_non_negative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, **implementation(
                                          "SGD", foreach=foreach, differentiable=differentiable, fused=fused)))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay:
            grad = grad + weight_decay * param
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, dtype=param.dtype)
            else:
                kernels.scale_add_into(buffer, momentum, grad, 1 - group["dampening"])
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        kernels.scale_add_into(param, 1, grad, -lr)
