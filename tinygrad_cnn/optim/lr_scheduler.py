"""Learning-rate schedules with PyTorch's names, formulas and state dicts.

Most schedules are a closed form: each group's lr is a function of its initial lr and the
number of ``step()`` calls so far (``last_epoch``), which is also what makes a checkpoint's
schedule exact to resume. ``OneCycleLR`` and ``CyclicLR`` also cycle the momentum;
``CosineAnnealingWarmRestarts`` restarts its cosine; ``SequentialLR`` hands over from one
schedule to the next at milestones, ``ChainedScheduler`` multiplies schedules together;
``ReduceLROnPlateau`` reacts to a metric.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import NotImplementedArgumentsError
from ..serialization import to_python
from .optimizer import Optimizer


class LRScheduler:
    """Sets each group's lr to ``lr_at(initial lr, last_epoch)`` at every ``step()``.

    ``multiplicative`` schedules give the initial lr times a factor of the epoch alone, which
    is what lets ``ChainedScheduler`` multiply them together as PyTorch's chaining does."""

    _not_saved: tuple[str, ...] = ("optimizer",)
    multiplicative = True

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``) and set every group's lr."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, after checking it fits this scheduler."""
        name = f"{type(self).__name__}.load_state_dict"
        values = {k: to_python(v) for k, v in state_dict.items() if k not in self._not_saved}
        unknown, missing = set(values) - set(self.state_dict()), set(self.state_dict()) - set(values)
        if unknown or missing:
            raise ValueError(f"{name}: the state does not fit a {type(self).__name__}: "
                             f"unexpected {sorted(unknown)}, missing {sorted(missing)}")
        base_lrs = _as_list(values["base_lrs"]) if "base_lrs" in values else None
        if (base_lrs is not None and len(base_lrs) != len(self.optimizer.param_groups)) or \
                not isinstance(values["last_epoch"], int):
            raise ValueError(f"{name}: expected an int last_epoch and {len(self.optimizer.param_groups)} base "
                             f"learning rates, got {values['last_epoch']!r} and {base_lrs!r}")
        self.__dict__.update(values)
        if base_lrs is not None:
            self.base_lrs = [float(lr) for lr in base_lrs]
        self._after_load()

    def _after_load(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)


def _as_list(value: Any) -> list:
    """A list saved by ``tc.save`` comes back as an array, or as a dict keyed "0", "1", ..."""
    if isinstance(value, Mapping):
        return [value[k] for k in sorted(value, key=int)]
    return list(np.atleast_1d(value)) if not isinstance(value, list) else value


def _per_group(name: str, value: Any, groups: int, what: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(f"{name}: expected {groups} values of {what}, one per parameter group, got {len(values)}")
    return values


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be at least 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = initial_lr * gamma ** (number of milestones reached)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect_right(self.milestones, epoch)

    def _after_load(self) -> None:
        self.milestones = [int(m) for m in _as_list(self.milestones)]
        super()._after_load()


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be at least 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2

    @property
    def multiplicative(self) -> bool:  # type: ignore[override]
        return self.eta_min == 0


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor for the first ``total_iters`` epochs, then initial_lr."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * (self.factor if epoch < self.total_iters else 1.0)


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * (1.0 - min(self.total_iters, epoch) / self.total_iters) ** self.power


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from initial_lr to eta_min over T_i epochs, then a restart, with
    T_0, T_0 * T_mult, T_0 * T_mult^2, ... epochs per cycle (SGDR). ``step(epoch)`` takes a
    fractional epoch, as PyTorch's."""

    multiplicative = False

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0, self.T_i, self.T_mult, self.eta_min, self.T_cur = T_0, T_0, T_mult, eta_min, last_epoch
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2

    def step(self, epoch: float | None = None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)


class LinearLR(LRScheduler):
    """lr = initial_lr * factor, the factor going linearly from start_factor to end_factor over
    total_iters epochs, then staying."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], got "
                             f"{start_factor} and {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        done = min(self.total_iters, epoch) / self.total_iters if self.total_iters else 1.0
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch), with one function for all groups or one per group.
    The functions are not saved in the state dict (as in PyTorch)."""

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = _per_group("LambdaLR", lr_lambda, len(optimizer.param_groups), "lr_lambda")
        super().__init__(optimizer, last_epoch)

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        for group, base, factor in zip(self.optimizer.param_groups, self.base_lrs, self.lr_lambdas):
            group["lr"] = base * factor(self.last_epoch)

    def _after_load(self) -> None:
        self.step(self.last_epoch)


def _set_momentum(group: dict[str, Any], momentum: float, use_beta1: bool) -> None:
    """The momentum a cycling schedule sets: SGD's ``momentum``, or Adam's beta1."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


class OneCycleLR(LRScheduler):
    """Smith's one-cycle policy, stepped once per batch: the lr rises from max_lr / div_factor
    to max_lr over ``pct_start`` of the steps, then anneals to max_lr / div_factor / final_div_factor;
    the momentum (or Adam's beta1) moves the opposite way between max_momentum and base_momentum."""

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True, base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        name = "OneCycleLR"
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if total_steps < 1 or not 0 <= pct_start <= 1 or anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: total_steps must be positive, pct_start in [0, 1] and anneal_strategy "
                             f"'cos' or 'linear', got {total_steps}, {pct_start} and {anneal_strategy!r}")
        self.total_steps, self.cycle_momentum, self.anneal_strategy = total_steps, cycle_momentum, anneal_strategy
        warm = float(pct_start * total_steps) - 1
        ends = [warm, 2 * warm, total_steps - 1] if three_phase else [warm, total_steps - 1]
        self.phase_ends = ends
        groups = optimizer.param_groups
        self.use_beta1 = "betas" in groups[0]
        for group, top, low, high in zip(groups, _per_group(name, max_lr, len(groups), "max_lr"),
                                         _per_group(name, base_momentum, len(groups), "base_momentum"),
                                         _per_group(name, max_momentum, len(groups), "max_momentum")):
            group.update(initial_lr=top / div_factor, max_lr=top, min_lr=top / div_factor / final_div_factor)
            if cycle_momentum:
                if "betas" not in group and "momentum" not in group:
                    raise ValueError(f"{name}: the optimiser has no momentum to cycle; pass cycle_momentum=False")
                group.update(base_momentum=low, max_momentum=high)
                _set_momentum(group, high, self.use_beta1)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def _phases(self, group: dict[str, Any]) -> list[tuple[float, str, str, str, str]]:
        """(end step, start lr key, end lr key, start momentum key, end momentum key) per phase."""
        if len(self.phase_ends) == 3:
            keys = [("initial_lr", "max_lr", "max_momentum", "base_momentum"),
                    ("max_lr", "initial_lr", "base_momentum", "max_momentum"),
                    ("initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            keys = [("initial_lr", "max_lr", "max_momentum", "base_momentum"),
                    ("max_lr", "min_lr", "base_momentum", "max_momentum")]
        return [(end, *k) for end, k in zip(self.phase_ends, keys)]

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.last_epoch > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {self.last_epoch} times; the schedule has "
                             f"{self.total_steps} steps")
        for group in self.optimizer.param_groups:
            start = 0.0
            phases = self._phases(group)
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(phases):
                if self.last_epoch <= end or i == len(phases) - 1:
                    fraction = (self.last_epoch - start) / (end - start)
                    group["lr"] = self._anneal(group[lr_from], group[lr_to], fraction)
                    if self.cycle_momentum:
                        _set_momentum(group, self._anneal(group[m_from], group[m_to], fraction), self.use_beta1)
                    break
                start = end

    def _after_load(self) -> None:
        self.phase_ends = [float(e) for e in _as_list(self.phase_ends)]
        self.step(self.last_epoch)


class CyclicLR(LRScheduler):
    """The lr cycles between base_lr and max_lr (up over ``step_size_up`` steps, down over
    ``step_size_down``), the amplitude scaled per cycle ("triangular", "triangular2") or per
    step ("exp_range", by gamma ** step) or by ``scale_fn``; the momentum cycles the other way
    between max_momentum and base_momentum. Stepped once per batch."""

    _not_saved = ("optimizer", "_scale_fn_custom")
    multiplicative = False

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float | list[float] = 0.8,
                 max_momentum: float | list[float] = 0.9, last_epoch: int = -1) -> None:
        name, groups = "CyclicLR", optimizer.param_groups
        base_lrs = _per_group(name, base_lr, len(groups), "base_lr")
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = group["initial_lr"] = lr
        self.max_lrs = _per_group(name, max_lr, len(groups), "max_lr")
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode, self.gamma, self._scale_fn_custom = mode, gamma, scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group(name, base_momentum, len(groups), "base_momentum")
            self.max_momentums = _per_group(name, max_momentum, len(groups), "max_momentum")
            if last_epoch == -1:
                for top, low, group in zip(self.max_momentums, self.base_momentums, groups):
                    _set_momentum(group, top, self.use_beta1)
                    group.update(max_momentum=top, base_momentum=low)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _scale(self, x: float) -> float:
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self._scale(cycle if self.scale_mode == "cycle" else self.last_epoch)
        for group, base, top in zip(self.optimizer.param_groups, self.base_lrs, self.max_lrs):
            group["lr"] = base + (top - base) * factor * scale
        if self.cycle_momentum:
            for group, low, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, top - (top - low) * factor * scale, self.use_beta1)

    def _after_load(self) -> None:
        for key in ("max_lrs", "base_momentums", "max_momentums"):
            if key in self.__dict__:
                setattr(self, key, [float(v) for v in _as_list(getattr(self, key))])
        self.step(self.last_epoch)


class ChainedScheduler(LRScheduler):
    """Several schedules at once, stepped together: each group's lr is its initial lr times
    every schedule's factor, as PyTorch's chaining gives for multiplicative schedules."""

    _not_saved = ("optimizer", "_schedulers")

    def __init__(self, schedulers: Iterable[LRScheduler], optimizer: Optimizer | None = None) -> None:
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"ChainedScheduler expects all schedulers to belong to the same optimizer, but got "
                                 f"scheduler {type(scheduler).__name__} at index {i} to be different")
            if not scheduler.multiplicative:
                raise NotImplementedArgumentsError(
                    f"ChainedScheduler: {type(scheduler).__name__} does not scale the lr by a factor of the epoch "
                    "alone (eta_min, restarts or cycles), and chaining it is not supported here")
        self.optimizer, self._schedulers = optimizer, schedulers
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = schedulers[0].last_epoch
        self._apply()

    def _apply(self) -> None:
        for i, (group, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            lr = base
            for scheduler in self._schedulers:
                lr *= scheduler.lr_at(scheduler.base_lrs[i], scheduler.last_epoch) / scheduler.base_lrs[i]
            group["lr"] = lr

    def step(self, epoch: int | None = None) -> None:
        for scheduler in self._schedulers:
            scheduler.last_epoch += 1
        self.last_epoch += 1
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        inner = _as_list(state_dict.get("_schedulers", []))
        if len(inner) != len(self._schedulers):
            raise ValueError(f"ChainedScheduler.load_state_dict: the state has {len(inner)} schedulers, this one "
                             f"{len(self._schedulers)}")
        for scheduler, state in zip(self._schedulers, inner):
            scheduler.load_state_dict(state)
        self.last_epoch = int(to_python(state_dict["last_epoch"]))
        self._apply()


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at ``milestones`` (each restarts at its
    epoch 0 there), as PyTorch's SequentialLR."""

    _not_saved = ("optimizer", "schedulers")

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1) -> None:
        if len(schedulers) < 1 or len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected one more scheduler than milestones, got {len(schedulers)} "
                             f"schedulers and {len(milestones)} milestones")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("SequentialLR: every scheduler must belong to the optimiser given")
        self.optimizer, self.schedulers, self.milestones = optimizer, list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:  # undo what constructing the schedulers did
            group["lr"] = group["initial_lr"]
        for scheduler in self.schedulers:
            scheduler.last_epoch -= 1
        self.schedulers[0].step()

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch += 1
        index = bisect_right(self.milestones, self.last_epoch)
        scheduler = self.schedulers[index]
        if index > 0 and self.milestones[index - 1] == self.last_epoch:
            scheduler.step(0)
        else:
            scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "_schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        inner = _as_list(state_dict.get("_schedulers", []))
        if len(inner) != len(self.schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: the state has {len(inner)} schedulers, this one "
                             f"{len(self.schedulers)}")
        self.last_epoch = int(to_python(state_dict["last_epoch"]))
        self.milestones = [int(m) for m in _as_list(to_python(state_dict["milestones"]))]
        for scheduler, state in zip(self.schedulers, inner):
            scheduler.load_state_dict(state)
        index = bisect_right(self.milestones, self.last_epoch)
        self.schedulers[index]._after_load()  # the active schedule sets the lr


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when ``step(metric)`` has not improved for ``patience``
    epochs (then wait ``cooldown`` epochs); never below ``min_lr``."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0, eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', "
                             f"got {mode!r} and {threshold_mode!r}")
        self.optimizer = optimizer
        self.min_lrs = [float(v) for v in _per_group("ReduceLROnPlateau", min_lr, len(optimizer.param_groups),
                                                     "min_lr")]
        self.factor, self.patience, self.threshold, self.threshold_mode = factor, patience, threshold, threshold_mode
        self.mode, self.cooldown, self.eps = mode, cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            return value < (self.best * (1 - self.threshold) if self.threshold_mode == "rel" else
                            self.best - self.threshold)
        return value > (self.best * (1 + self.threshold) if self.threshold_mode == "rel" else
                        self.best + self.threshold)

    def step(self, metrics: Any) -> None:
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                lowered = max(group["lr"] * self.factor, floor)
                if group["lr"] - lowered > self.eps:
                    group["lr"] = lowered
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        values = {k: to_python(v) for k, v in state_dict.items() if k != "optimizer"}
        if set(values) != set(self.state_dict()):
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: expected the keys {sorted(self.state_dict())}, "
                             f"got {sorted(values)}")
        self.__dict__.update(values)
        self.min_lrs = [float(v) for v in _as_list(self.min_lrs)]
