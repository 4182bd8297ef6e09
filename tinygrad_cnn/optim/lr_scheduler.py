"""Learning-rate schedules, stepped once per epoch (PyTorch's StepLR and CosineAnnealingLR)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..serialization import to_python
from .optimizer import Optimizer


class LRScheduler:
    """Sets each group's lr from its initial lr and the epoch count ``last_epoch``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, after checking it fits this scheduler."""
        name = f"{type(self).__name__}.load_state_dict"
        values = {k: to_python(v) for k, v in state_dict.items() if k != "optimizer"}
        unknown, missing = set(values) - set(self.__dict__), set(self.state_dict()) - set(values)
        if unknown or missing:
            raise ValueError(f"{name}: the state does not fit a {type(self).__name__}: "
                             f"unexpected {sorted(unknown)}, missing {sorted(missing)}")
        base_lrs = values["base_lrs"]
        base_lrs = list(base_lrs.values()) if isinstance(base_lrs, dict) else list(np.atleast_1d(base_lrs))
        if len(base_lrs) != len(self.optimizer.param_groups) or not isinstance(values["last_epoch"], int):
            raise ValueError(f"{name}: expected an int last_epoch and {len(self.optimizer.param_groups)} base "
                             f"learning rates, got {values['last_epoch']!r} and {base_lrs!r}")
        self.__dict__.update(values)
        self.base_lrs = [float(lr) for lr in base_lrs]
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be at least 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be at least 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
