"""Optimisers and schedulers follow PyTorch's update formulas, written out by hand here."""
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn, optim

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.3, 0.2, 1.0]), np.array([1.5, 0.0, -0.5])]
START = np.array([1.0, -2.0, 0.5])


def run(make_optimizer, steps=3):
    p = Tensor(START.copy(), requires_grad=True)
    opt = make_optimizer([p])
    for g in GRADS[:steps]:
        p.grad = Tensor(g)
        opt.step()
    return p.numpy()


@pytest.mark.parametrize("momentum,dampening,weight_decay,nesterov", [
    (0.0, 0.0, 0.0, False), (0.9, 0.0, 0.0, False), (0.9, 0.3, 0.1, False), (0.8, 0.0, 0.01, True),
])
def test_sgd_matches_pytorch_formula(momentum, dampening, weight_decay, nesterov):
    lr, p, buf = 0.1, START.copy(), None
    for g in GRADS:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    got = run(lambda ps: optim.SGD(ps, lr, momentum, dampening, weight_decay, nesterov))
    np.testing.assert_allclose(got, p, rtol=1e-12)


@pytest.mark.parametrize("cls,weight_decay", [(optim.Adam, 0.0), (optim.Adam, 0.1), (optim.AdamW, 0.1)])
def test_adam_and_adamw_match_pytorch_formula(cls, weight_decay):
    lr, (b1, b2), eps = 0.01, (0.9, 0.99), 1e-8
    p, m, v = START.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        if cls is optim.AdamW:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr / (1 - b1 ** t) * m / (np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps)
    got = run(lambda ps: cls(ps, lr, (b1, b2), eps, weight_decay))
    np.testing.assert_allclose(got, p, rtol=1e-12)


def test_parameters_without_grad_are_skipped_and_zero_grad_clears():
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = Tensor(np.ones(2))
    opt.step()
    assert (a.numpy() == 0).all() and (b.numpy() == 1).all()
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, 0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, 0.01),
    lambda ps: optim.AdamW(ps, 0.01),
])
def test_state_dict_through_save_and_load_resumes_exactly(tmp_path, make):
    straight = run(make, steps=3)
    p = Tensor(START.copy(), requires_grad=True)
    opt = make([p])
    p.grad = Tensor(GRADS[0])
    opt.step()
    tc.save({"optimizer": opt.state_dict(), "param": p.data}, tmp_path / "ckpt.npz")
    saved = tc.load(tmp_path / "ckpt.npz")
    q = saved["param"].clone().requires_grad_()
    resumed = make([q])
    resumed.load_state_dict(saved["optimizer"])
    for g in GRADS[1:]:
        q.grad = Tensor(g)
        resumed.step()
    np.testing.assert_array_equal(q.numpy(), straight)


def test_param_groups_keep_their_own_settings():
    a, b = Tensor(np.ones(1), requires_grad=True), Tensor(np.ones(1), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = Tensor(np.ones(1)), Tensor(np.ones(1))
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5])


def test_bad_settings_are_clear_errors():
    p = [Tensor(np.ones(1), requires_grad=True)]
    with pytest.raises(ValueError, match="SGD: lr, momentum and weight_decay must be non-negative"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: betas must be in \[0, 1\)"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="can only optimise tensors that require grad"):
        optim.SGD([Tensor(np.ones(1))], lr=0.1)


def test_step_lr():
    opt = optim.SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_annealing_lr_and_its_state(tmp_path):
    opt = optim.SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        scheduler.step()
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    np.testing.assert_allclose(lrs, want)
    tc.save(scheduler.state_dict(), tmp_path / "s.npz")
    other_opt = optim.SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    other = optim.lr_scheduler.CosineAnnealingLR(other_opt, T_max=4, eta_min=0.01)
    other.load_state_dict(tc.load(tmp_path / "s.npz"))
    assert other.last_epoch == 5 and other_opt.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])


OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_signatures_are_pytorchs(torch, name):
    """Every keyword, its kind (positional or keyword-only) and its default, as torch 2.13's."""
    import inspect

    def described(cls):
        parameters = list(inspect.signature(cls.__init__).parameters.values())[2:]  # after self, params
        return [(p.name, p.kind, p.default) for p in parameters]

    assert described(getattr(tc.optim, name)) == described(getattr(torch.optim, name))


def test_implementation_keywords_are_kept_and_differentiable_is_refused():
    w = tc.zeros(2, requires_grad=True)
    adam = tc.optim.Adam([w], foreach=True, fused=None, capturable=True)
    assert adam.param_groups[0]["foreach"] is True and adam.param_groups[0]["capturable"] is True
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        tc.optim.SGD([w], lr=0.1, differentiable=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        tc.optim.Adam([w], foreach=True, fused=True)


def test_named_parameters_keep_their_names_in_the_groups():
    model = tc.nn.Linear(2, 1)
    optimizer = tc.optim.SGD(model.named_parameters(), lr=0.1)
    assert optimizer.param_groups[0]["param_names"] == ["weight", "bias"]
    assert optimizer.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    model(tc.ones(3, 2)).sum().backward()
    optimizer.step()


def test_lbfgs_needs_a_closure_and_one_group():
    w = tc.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="per-parameter options"):
        tc.optim.LBFGS([{"params": [w]}, {"params": [tc.zeros(1, requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        tc.optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="closure"):
        tc.optim.LBFGS([w]).step(None)


def test_lbfgs_minimises_the_rosenbrock_function():
    xy = tc.tensor([-1.5, 2.0], requires_grad=True)
    optimizer = tc.optim.LBFGS([xy], lr=1, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        x, y = xy[0], xy[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    optimizer.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-5)


SCHEDULERS = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "LambdaLR", "OneCycleLR",
              "SequentialLR", "ReduceLROnPlateau", "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts",
              "CyclicLR", "ChainedScheduler"]


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_signatures_are_pytorchs(torch, name):
    import inspect

    def described(cls):
        return [(p.name, p.kind, p.default) for p in list(inspect.signature(cls.__init__).parameters.values())[1:]]

    assert described(getattr(tc.optim.lr_scheduler, name)) == described(getattr(torch.optim.lr_scheduler, name))


def test_chaining_a_schedule_that_is_not_a_factor_is_refused():
    optimizer = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    cyclic = tc.optim.lr_scheduler.CyclicLR(optimizer, 0.01, 0.1)
    with pytest.raises(NotImplementedError, match="CyclicLR does not scale the lr by a factor"):
        tc.optim.lr_scheduler.ChainedScheduler([cyclic])


def test_optimizer_state_is_keyed_by_parameter_as_in_pytorch(tmp_path):
    """``optimizer.state[p]`` (PyTorch's contract, used by programs that inspect moments);
    the state dict still numbers the parameters, and loading it keys them again."""
    w, b = tc.zeros(3, requires_grad=True), tc.zeros(1, requires_grad=True)
    optimizer = tc.optim.Adam([w, b], lr=0.1)
    (w.sum() * 2).backward()
    optimizer.step()
    assert set(optimizer.state) == {w} and optimizer.state[w]["step"] == 1 and b not in optimizer.state
    np.testing.assert_allclose(optimizer.state[w]["exp_avg"], np.full(3, 0.2))
    saved = optimizer.state_dict()
    assert list(saved["state"]) == [0]
    fresh = tc.optim.Adam([w, b], lr=0.1)
    tc.save(saved, tmp_path / "o.npz")
    fresh.load_state_dict(tc.load(tmp_path / "o.npz"))
    assert fresh.state[w]["step"] == 1 and np.array_equal(fresh.state[w]["exp_avg"], optimizer.state[w]["exp_avg"])


def test_optimiser_settings_and_states_are_validated():
    p = [nn.Parameter(Tensor(np.ones(2, np.float32)))]
    with pytest.raises(ValueError, match="Adam: lr, eps and weight_decay must be non-negative, got lr=nan"):
        optim.Adam(p, lr=float("nan"))
    with pytest.raises(TypeError, match="SGD: lr, momentum and weight_decay must be numbers"):
        optim.SGD(p, lr="0.1")
    opt = optim.SGD(p, lr=0.1, momentum=0.9)
    for bad, message in [({"state": {}}, "expected a dict with 'state' and 'param_groups'"),
                         ({"state": {5: {"momentum_buffer": np.ones(2)}}, "param_groups": opt.state_dict()["param_groups"]},
                          "state entry 5 does not belong to one of the 1 parameters"),
                         ({"state": {0: {"momentum_buffer": np.ones(3)}}, "param_groups": opt.state_dict()["param_groups"]},
                          r"state 'momentum_buffer' of parameter 0 has shape \(3,\), the parameter \(2,\)"),
                         ({"state": {}, "param_groups": [{"lr": 0.1}]}, "every parameter group must be a dict with")]:
        with pytest.raises(ValueError, match=message):
            opt.load_state_dict(bad)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: the state does not fit a StepLR"):
        scheduler.load_state_dict({"T_max": 3})
