"""Normalisation (batch, group, layer, instance, local response): the seed document's formulas,
running statistics, gradcheck and gradgradcheck, both memory layouts, drawn shapes, clear errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import references as ref

from checks import PROPERTY, channels_last, check_gradients, outcome, rand


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5), (3, 2, 4), (2, 3, 1, 3)])
def test_batch_norm_training_matches_seed_formula_and_updates_running_stats(shape):
    x, gamma, beta = rand(shape, 0) * 3 + 1, rand(shape[1], 1), rand(shape[1], 2)
    running_mean, running_var = Tensor(np.full(shape[1], 0.5)), Tensor(np.full(shape[1], 2.0))
    y = F.batch_norm(Tensor(x), running_mean, running_var, Tensor(gamma), Tensor(beta),
                     training=True, momentum=0.2, eps=1e-5)
    want, mean, var = ref.batch_norm_train(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(y.numpy(), want, atol=1e-12)
    count = x.size // shape[1]
    np.testing.assert_allclose(running_mean.numpy(), 0.8 * 0.5 + 0.2 * mean)
    np.testing.assert_allclose(running_var.numpy(), 0.8 * 2.0 + 0.2 * var * count / (count - 1))


def test_batch_norm_evaluation_uses_running_stats():
    x = rand((4, 3, 2, 2), 0)
    mean, var, gamma, beta = rand(3, 1), np.abs(rand(3, 2)) + 0.5, rand(3, 3), rand(3, 4)
    y = F.batch_norm(Tensor(x), Tensor(mean), Tensor(var), Tensor(gamma), Tensor(beta), training=False)
    shape = (1, 3, 1, 1)
    want = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-5) * gamma.reshape(shape) + beta.reshape(shape)
    np.testing.assert_allclose(y.numpy(), want, atol=1e-12)
    check_gradients(lambda t, g, b: F.batch_norm(t, Tensor(mean), Tensor(var), g, b), x, gamma, beta)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 3), (2, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradients(shape, affine):
    x = rand(shape, 0)
    if affine:
        check_gradients(lambda t, g, b: F.batch_norm(t, None, None, g, b, training=True), x,
                        rand(shape[1], 1), rand(shape[1], 2))
    else:
        check_gradients(lambda t: F.batch_norm(t, None, None, training=True), x)


@pytest.mark.parametrize("call,message", [
    (lambda: F.batch_norm(Tensor(np.ones((1, 3))), None, None, training=True),
     r"batch_norm: expected more than 1 value per channel when training, got input of shape \(1, 3\)"),
    (lambda: F.batch_norm(Tensor(np.ones((4, 3))), Tensor(np.zeros(2)), Tensor(np.ones(3))),
     r"batch_norm: running_mean must have shape \(3,\) for input of shape \(4, 3\), got \(2,\)"),
    (lambda: F.batch_norm(Tensor(np.ones(4)), None, None, training=True), r"batch_norm: expected input of shape"),
    (lambda: F.batch_norm(Tensor(np.ones((4, 3))), None, None), "evaluation .* needs running_mean"),
])
def test_batch_norm_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_batch_norm_on_channels_last_input():
    x, gamma, beta = rand((6, 3, 5, 4), 0) * 2 + 1, rand(3, 1), rand(3, 2)
    y = F.batch_norm(Tensor(channels_last(x)), None, None, Tensor(gamma), Tensor(beta), training=True)
    np.testing.assert_allclose(y.numpy(), ref.batch_norm_train(x, gamma, beta, 1e-5)[0], atol=1e-12)
    check_gradients(lambda t, g_, b_: F.batch_norm(t, None, None, g_, b_, training=True),
                    channels_last(x), gamma, beta)


def test_group_layer_instance_norm():
    x = rand((2, 6, 3, 4)) * 2 + 1
    w, b = rand(6, 1), rand(6, 2)
    grouped = x.reshape(2, 3, -1)
    want = ((grouped - grouped.mean(-1, keepdims=True)) / np.sqrt(grouped.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(F.group_norm(Tensor(x), 3, Tensor(w), Tensor(b)).numpy(),
                               want * w[:, None, None] + b[:, None, None], atol=1e-12)
    check_gradients(lambda t, g, s: F.group_norm(t, 3, g, s), x, w, b)
    lw = rand((3, 4), 3)
    flat = x.reshape(2, 6, 12)
    want = ((flat - flat.mean(-1, keepdims=True)) / np.sqrt(flat.var(-1, keepdims=True) + 1e-5)).reshape(x.shape) * lw
    np.testing.assert_allclose(F.layer_norm(Tensor(x), (3, 4), Tensor(lw)).numpy(), want, atol=1e-12)
    check_gradients(lambda t, g: F.layer_norm(t, (3, 4), g), x, lw)
    per = x.reshape(2, 6, -1)
    want = ((per - per.mean(-1, keepdims=True)) / np.sqrt(per.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(F.instance_norm(Tensor(x)).numpy(), want, atol=1e-12)
    check_gradients(lambda t: F.instance_norm(t), x)
    with pytest.raises(ValueError, match="group_norm: num_groups 4 must divide the number of channels 6"):
        F.group_norm(Tensor(x), 4)


def test_local_response_norm():
    x = rand((2, 5, 3, 2))
    size, alpha, beta, k = 3, 0.2, 0.75, 1.5
    want = np.empty_like(x)
    for c in range(5):
        window = [x[:, j] ** 2 for j in range(c - size // 2, c + (size - 1) // 2 + 1) if 0 <= j < 5]
        want[:, c] = x[:, c] / (k + alpha * sum(window) / size) ** beta
    np.testing.assert_allclose(F.local_response_norm(Tensor(x), size, alpha, beta, k).numpy(), want, atol=1e-12)
    check_gradients(lambda t: F.local_response_norm(t, size, alpha, beta, k), x)


def test_normalisation_modules_and_batch_norm_options():
    x = Tensor(rand((4, 6, 3, 3)).astype(np.float32))
    assert tc.nn.GroupNorm(2, 6)(x).shape == x.shape and tc.nn.LayerNorm([3, 3])(x).shape == x.shape
    norm = tc.nn.InstanceNorm2d(6, affine=True, track_running_stats=True)
    norm(x)
    assert norm.running_mean.numpy().any() and norm.weight.shape == (6,)
    assert tc.nn.LocalResponseNorm(2)(x).shape == x.shape
    cumulative = tc.nn.BatchNorm2d(6, momentum=None)
    batches = [rand((4, 6, 2, 2), s).astype(np.float32) for s in range(3)]
    for batch in batches:
        cumulative(Tensor(batch))
    np.testing.assert_allclose(cumulative.running_mean.numpy(),
                               np.mean([b.mean(axis=(0, 2, 3)) for b in batches], axis=0), rtol=1e-5, atol=1e-6)
    plain = tc.nn.BatchNorm2d(6, affine=False, track_running_stats=False)
    assert plain.weight is None and plain.running_mean is None and plain.eval()(x).shape == x.shape
    assert tc.nn.BatchNorm2d(6, bias=False).bias is None


@PROPERTY
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), channels_given=st.integers(1, 4),
       seed=st.integers(0, 99))
def test_batch_norm_on_drawn_shapes_refuses_or_equals_the_seed_formula(shape, channels_given, seed):
    x = rand(shape, seed) * 2 + 1
    channels = shape[1] if len(shape) > 1 else 1
    gamma, beta = rand(channels_given, seed + 1), rand(channels_given, seed + 2)
    valid = len(shape) >= 2 and channels_given == channels and x.size // channels > 1
    got = outcome("batch_norm", lambda: F.batch_norm(Tensor(x), None, None, Tensor(gamma), Tensor(beta),
                                                     training=True))
    assert (got is not None) == valid
    if valid:
        np.testing.assert_allclose(got.numpy(), ref.batch_norm_train(x, gamma, beta, 1e-5)[0], atol=1e-10)
