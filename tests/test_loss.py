"""Losses and softmax: cross-entropy against the reference (reductions, smoothing, ignored
classes, spatial logits, huge logits), the other losses against their formulas, gradcheck
and gradgradcheck, drawn settings, clear errors."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import references as ref

from checks import PROPERTY, check_gradients, leaf, outcome, rand


@pytest.mark.parametrize("reduction,smoothing", itertools.product(["mean", "sum", "none"], [0.0, 0.1]))
def test_cross_entropy_equals_the_reference_with_gradients(reduction, smoothing):
    logits, target = rand((6, 4), 0) * 2, np.array([0, 3, 1, 1, 2, 3])
    got = F.cross_entropy(Tensor(logits), Tensor(target), reduction=reduction, label_smoothing=smoothing).numpy()
    np.testing.assert_allclose(got, ref.cross_entropy(logits, target, reduction, smoothing), atol=1e-12)
    check_gradients(lambda t: F.cross_entropy(t, Tensor(target), reduction=reduction, label_smoothing=smoothing), logits)


def test_cross_entropy_ignore_index_and_spatial_logits():
    logits, target = rand((5, 3), 0), np.array([0, -100, 2, 1, -100])
    got = F.cross_entropy(Tensor(logits), Tensor(target)).numpy()
    np.testing.assert_allclose(got, ref.cross_entropy(logits, target, "mean", 0.0))
    check_gradients(lambda t: F.cross_entropy(t, Tensor(target), label_smoothing=0.2), logits)
    spatial, spatial_target = rand((2, 3, 2, 2), 1), np.random.default_rng(0).integers(0, 3, (2, 2, 2))
    flat = spatial.transpose(0, 2, 3, 1).reshape(-1, 3)
    got = F.cross_entropy(Tensor(spatial), Tensor(spatial_target), reduction="none").numpy()
    np.testing.assert_allclose(got.ravel(), ref.cross_entropy(flat, spatial_target.ravel(), "none", 0.0))
    check_gradients(lambda t: F.cross_entropy(t, Tensor(spatial_target)), spatial)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = leaf([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    loss = F.cross_entropy(logits, Tensor([1, 2]))
    np.testing.assert_allclose(loss.numpy(), (2e4 + np.log(2)) / 2)
    loss.backward()
    assert np.isfinite(logits.grad.numpy()).all()


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), Tensor([0, 3])), IndexError,  # (PyTorch's type)
     r"cross_entropy: target class 3 is out of bounds for 3 classes \(0..2\)"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), Tensor([0.0, 1.0])), TypeError,
     "cross_entropy: target must hold integer class indices, got dtype float32"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), Tensor([0, 1, 2])), ValueError,
     r"target of shape \(3,\) does not match logits of shape \(2, 3\)"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), Tensor([0, 1]), reduction="avg"), ValueError,
     "reduction must be"),
])
def test_cross_entropy_bad_input_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(dim):
    x = rand((3, 4), 0) * 3
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    want = e / e.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(F.softmax(Tensor(x), dim).numpy(), want, atol=1e-12)
    np.testing.assert_allclose(F.log_softmax(Tensor(x), dim).numpy(), np.log(want), atol=1e-12)
    check_gradients(lambda t: F.softmax(t, dim), x)
    check_gradients(lambda t: F.log_softmax(t, dim), x)
    assert np.isfinite(F.log_softmax(Tensor([[1e4, -1e4]]), 1).numpy()).all()


def test_losses_against_their_formulas():
    x, y = rand((4, 3)), rand((4, 3), 1)
    d = x - y
    np.testing.assert_allclose(F.mse_loss(Tensor(x), Tensor(y)).numpy(), np.mean(d * d))
    np.testing.assert_allclose(F.l1_loss(Tensor(x), Tensor(y), reduction="sum").numpy(), np.abs(d).sum())
    np.testing.assert_allclose(F.smooth_l1_loss(Tensor(x), Tensor(y), beta=0.5, reduction="none").numpy(),
                               np.where(np.abs(d) < 0.5, 0.5 * d * d / 0.5, np.abs(d) - 0.25))
    np.testing.assert_allclose(F.huber_loss(Tensor(x), Tensor(y), delta=0.5, reduction="none").numpy(),
                               np.where(np.abs(d) <= 0.5, 0.5 * d * d, 0.5 * (np.abs(d) - 0.25)))
    p, t = 1 / (1 + np.exp(-x)), np.random.default_rng(2).random((4, 3))
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(Tensor(p), Tensor(t)).numpy(), bce.mean())
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t)).numpy(), bce.mean())
    weight = np.array([1.0, 2.0, 0.5])
    weighted = -(weight * t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t), pos_weight=Tensor(weight), reduction="sum").numpy(),
        weighted.sum())
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    q = np.exp(rand((4, 3), 3))
    q /= q.sum(1, keepdims=True)
    np.testing.assert_allclose(F.kl_div(Tensor(logp), Tensor(q), reduction="batchmean").numpy(),
                               (q * (np.log(q) - logp)).sum() / 4)
    target = np.array([0, 2, 1, 2])
    np.testing.assert_allclose(F.nll_loss(Tensor(logp), Tensor(target), Tensor(weight)).numpy(),
                               -sum(weight[c] * logp[i, c] for i, c in enumerate(target)) / weight[target].sum())
    np.testing.assert_allclose(F.cross_entropy(Tensor(x), Tensor(q)).numpy(), -(q * logp).sum(1).mean())
    np.testing.assert_allclose(F.cross_entropy(Tensor(x), Tensor(target), Tensor(weight)).numpy(),
                               F.nll_loss(Tensor(logp), Tensor(target), Tensor(weight)).numpy())
    for fn in (lambda a, b: F.mse_loss(a, b), lambda a, b: F.smooth_l1_loss(a, b, beta=0.3),
               lambda a, b: F.huber_loss(a, b, delta=0.7), lambda a, b: F.l1_loss(a, b)):
        check_gradients(fn, x, y)
    check_gradients(lambda a: F.binary_cross_entropy_with_logits(a, Tensor(t), pos_weight=Tensor(weight)), x)
    check_gradients(lambda a: F.binary_cross_entropy(a.sigmoid(), Tensor(t)), x)
    check_gradients(lambda a: F.kl_div(a, Tensor(q), reduction="batchmean"), logp)
    check_gradients(lambda a: F.cross_entropy(a, Tensor(target), Tensor(weight), label_smoothing=0.1), x)
    check_gradients(lambda a: F.cross_entropy(a, Tensor(q), label_smoothing=0.2), x)


def test_loss_modules_and_errors():
    x, t = Tensor(rand((4, 3))), Tensor(np.array([0, 2, 1, 2]))
    weight = Tensor(np.array([1.0, 2.0, 0.5]))
    module = tc.nn.CrossEntropyLoss(weight=weight)
    assert "weight" in module.state_dict()
    np.testing.assert_allclose(module(x, t).numpy(), F.cross_entropy(x, t, weight).numpy())
    assert tc.nn.MSELoss(reduction="sum")(x, x * 2).item() == pytest.approx(float((x.numpy() ** 2).sum()))
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(x, Tensor(np.ones((4, 3))))
    with pytest.raises(ValueError, match="mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: weight must be a Tensor of shape \(3,\)"):
        F.cross_entropy(x, t, Tensor(np.ones(2)))


@PROPERTY
@given(n=st.integers(1, 5), classes=st.integers(1, 5), reduction=st.sampled_from(["mean", "sum", "none", "max"]),
       smoothing=st.sampled_from([0.0, 0.1, 1.0, 1.5]), targets=st.lists(st.integers(-100, 6), min_size=5,
                                                                        max_size=5), seed=st.integers(0, 99))
def test_cross_entropy_on_drawn_settings_refuses_or_equals_the_reference(n, classes, reduction, smoothing, targets, seed):
    logits = rand((n, classes), seed) * 5
    target = np.array([t if t == -100 else t % (classes + 1) for t in targets[:n]], dtype=np.int64)
    in_range = all(t == -100 or 0 <= t < classes for t in target)
    valid = in_range and reduction != "max" and smoothing <= 1.0
    if reduction == "mean" and valid and all(t == -100 for t in target):
        target[0] = 0  # the mean over no rows is 0/0
    got = outcome("cross_entropy", lambda: F.cross_entropy(Tensor(logits), Tensor(target), reduction=reduction,
                                                           label_smoothing=smoothing))
    assert (got is not None) == valid
    if valid:
        expected = ref.cross_entropy(logits, target, reduction, smoothing)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-10)
