"""Optimisers and schedulers replayed against fixtures written once by PyTorch
(tests/fixtures/make_optim_fixtures.py): two parameter groups, 24 steps, and a state-dict round
trip through a file and a fresh optimiser in the middle. No torch is imported here."""
import json
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.optim import lr_scheduler

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "optim"
OPTIMIZER_CASES = sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.startswith(("scheduler_", "closure_")))
CLOSURE_CASES = sorted(p.stem for p in FIXTURES.glob("closure_*.json"))
SCHEDULER_CASES = sorted(p.stem.removeprefix("scheduler_") for p in FIXTURES.glob("scheduler_*.json"))

SCHEDULERS = {  # the same factories as the fixture script, with our classes
    "step": lambda o: lr_scheduler.StepLR(o, step_size=5, gamma=0.5),
    "multistep": lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 8, 15], gamma=0.3),
    "exponential": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "linear": lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=7),
    "lambda": lambda o: lr_scheduler.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (1 + e)]),
    "onecycle": lambda o: lr_scheduler.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=25),
    "onecycle_linear_3phase": lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.4, total_steps=25, pct_start=0.25,
                                                                anneal_strategy="linear", three_phase=True),
    "sequential": lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4),
                                                          lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[6]),
    "plateau": lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
    "constant": lambda o: lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
    "polynomial": lambda o: lr_scheduler.PolynomialLR(o, total_iters=10, power=2.0),
    "warm_restarts": lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "cyclic_triangular2": lambda o: lr_scheduler.CyclicLR(o, base_lr=[0.01, 0.005], max_lr=[0.1, 0.05], step_size_up=4,
                                                          step_size_down=2, mode="triangular2"),
    "cyclic_exp_range": lambda o: lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range",
                                                        gamma=0.9, base_momentum=0.7, max_momentum=0.95),
    "chained": lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3),
                                                        lr_scheduler.ExponentialLR(o, gamma=0.9)]),
}


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def groups(params, settings):
    settings = [{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()} for s in settings]
    return [{"params": params[:1], **settings[0]}, {"params": params[1:], **settings[1]}]


def round_trip(state, tmp_path, name):
    tc.save(state, tmp_path / f"{name}.npz")
    return tc.load(tmp_path / f"{name}.npz")


def test_there_are_fixtures():
    assert len(OPTIMIZER_CASES) >= 15 and set(SCHEDULER_CASES) == set(SCHEDULERS) and len(CLOSURE_CASES) == 2


@pytest.mark.parametrize("case", OPTIMIZER_CASES)
def test_optimizer_matches_pytorch(case, tmp_path):
    fixture = load(case)
    params = [Tensor(np.array(p), requires_grad=True) for p in fixture["initial"]]
    kind = getattr(optim, fixture["optimizer"])
    defaults = {k: tuple(v) if isinstance(v, list) else v for k, v in fixture["defaults"].items()}
    optimizer = kind(groups(params, fixture["groups"]), **defaults)
    for step, (grads, expected) in enumerate(zip(fixture["gradients"], fixture["parameters"])):
        if step == fixture["round_trip_at"]:
            state = round_trip(optimizer.state_dict(), tmp_path, "optimizer")
            optimizer = kind(groups(params, fixture["groups"]), **defaults)
            optimizer.load_state_dict(state)
        for p, g in zip(params, grads):
            p.grad = Tensor(np.array(g))
        optimizer.step()
        for i, (p, want) in enumerate(zip(params, expected)):
            np.testing.assert_allclose(p.numpy(), want, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{case}: parameter {i} after step {step + 1}")


@pytest.mark.parametrize("case", SCHEDULER_CASES)
def test_scheduler_matches_pytorch(case, tmp_path):
    fixture = load(f"scheduler_{case}")
    params = [Tensor(np.array(p), requires_grad=True) for p in fixture["initial"]]

    def build():
        optimizer = optim.SGD(groups(params, [{}, {"lr": 0.03}]), lr=0.1, momentum=0.9)
        return optimizer, SCHEDULERS[case](optimizer)

    def row(optimizer):
        return [[g["lr"], g["betas"][0] if "betas" in g else g["momentum"]] for g in optimizer.param_groups]

    optimizer, scheduler = build()
    rows = [row(optimizer)]
    for step in range(fixture["steps"]):
        if step == fixture["round_trip_at"]:
            states = (round_trip(optimizer.state_dict(), tmp_path, "optimizer"),
                      round_trip(scheduler.state_dict(), tmp_path, "scheduler"))
            optimizer, scheduler = build()
            optimizer.load_state_dict(states[0])
            scheduler.load_state_dict(states[1])
        for p in params:
            p.grad = Tensor(np.zeros(p.shape))
        optimizer.step()
        scheduler.step(fixture["metrics"][step]) if case == "plateau" else scheduler.step()
        rows.append(row(optimizer))
    np.testing.assert_allclose(np.array(rows), np.array(fixture["lr_and_momentum"]), rtol=1e-10, atol=1e-14,
                               err_msg=case)


@pytest.mark.parametrize("case", CLOSURE_CASES)
def test_lbfgs_matches_pytorch(case):
    """Five step(closure) calls on a smooth non-quadratic loss: the closure's losses, the
    parameters after each step and the evaluation counts are PyTorch's."""
    fixture = load(case)
    params = [Tensor(np.array(p), requires_grad=True) for p in fixture["initial"]]
    matrices = [Tensor(np.array(a)) for a in fixture["matrices"]]
    targets = [Tensor(np.array(b)) for b in fixture["targets"]]
    optimizer = optim.LBFGS(params, **fixture["settings"])

    def closure():
        optimizer.zero_grad()
        loss = sum(((a @ p.reshape(-1) - b) ** 2).sum() + 0.1 * (p ** 4).sum()
                   for p, a, b in zip(params, matrices, targets))
        loss.backward()
        return loss

    for step, (want_loss, expected) in enumerate(zip(fixture["losses"], fixture["parameters"])):
        assert optimizer.step(closure).item() == pytest.approx(want_loss, rel=1e-10)
        for i, (p, want) in enumerate(zip(params, expected)):
            np.testing.assert_allclose(p.numpy(), want, rtol=1e-9, atol=1e-11,
                                       err_msg=f"{case}: parameter {i} after step {step + 1}")
    state = optimizer.state[params[0]]  # LBFGS keeps its global state under the first parameter, as PyTorch
    assert (state["func_evals"], state["n_iter"]) == (fixture["func_evals"], fixture["n_iter"])
