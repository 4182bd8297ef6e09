"""Reductions: sums over any axes in both layouts, amax/amin ties, var/std/logsumexp against
loops, with gradients."""
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

from checks import channels_last, check_gradients, leaf, rand


def test_amax_amin_share_ties_and_min_routes_to_its_index():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    t = leaf(x)
    tc.amax(t, 1).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    t = leaf(x)
    t.amin().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 0, 0], [0, 0, 1]])
    t = leaf(x)
    values, indices = t.min(dim=1)
    np.testing.assert_array_equal(values.numpy(), [1, 0]) and np.testing.assert_array_equal(indices.numpy(), [0, 2])
    values.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[1, 0, 0], [0, 0, 1]])
    t = leaf([[2.0, 2.0]])
    t.min(1).values.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[1, 0]])  # the returned (first) index only
    assert Tensor(x).argmin().item() == 5 and Tensor(x).argmin(1).numpy().tolist() == [0, 2]
    distinct = rand((3, 4))
    check_gradients(lambda a: tc.amax(a, (0, 1), keepdim=True) * a, distinct)


def slow_var(x, dims, correction):
    dims = tuple(d % x.ndim for d in dims)
    moved = np.moveaxis(x, dims, range(len(dims))).reshape(-1, *[n for d, n in enumerate(x.shape) if d not in dims])
    mean = sum(moved) / len(moved)
    return sum((row - mean) ** 2 for row in moved) / (len(moved) - correction)


@pytest.mark.parametrize("dims,correction", [((0,), 1), ((1, 2), 0), ((-1,), 2), ((0, 1, 2), 1)])
def test_var_std_logsumexp(dims, correction):
    x = rand((3, 4, 5))
    np.testing.assert_allclose(Tensor(x).var(dims, correction=correction).numpy(), slow_var(x, dims, correction))
    np.testing.assert_allclose(tc.std(Tensor(x), dims, unbiased=correction == 1).numpy(),
                               np.sqrt(slow_var(x, dims, 1 if correction == 1 else 0)))
    check_gradients(lambda a: a.var(dims, correction=correction), x)
    check_gradients(lambda a: a.std(dims), x)
    big = x * 400  # exp would overflow without taking the maximum out first
    expected = np.log(np.sum(np.exp(big - big.max(axis=dims, keepdims=True)), axis=dims)) + big.max(axis=dims)
    np.testing.assert_allclose(tc.logsumexp(Tensor(big), dims).numpy(), expected)
    check_gradients(lambda a: a.logsumexp(dims, keepdim=True), x)


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("dims", [(0, 2, 3), (1,), (2, 3), (0,), (0, 1, 2)])
def test_sum_over_any_axes_and_layout(layout, dims):
    x = rand((16, 32, 9, 11), 0)
    x = channels_last(x) if layout == "channels_last" else x
    np.testing.assert_allclose(Tensor(x).sum(dims).numpy(), x.sum(axis=dims), rtol=1e-10)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(Tensor(x32).sum(dims).numpy(), x.sum(axis=dims), rtol=1e-4, atol=1e-3)
