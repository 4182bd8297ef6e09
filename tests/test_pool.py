"""Pooling (max, average, adaptive): forward against loop references, the first maximum's
gradient, gradcheck and gradgradcheck, both memory layouts, drawn settings, clear errors."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import references as ref

from checks import PROPERTY, as_pair, channels_last, check_gradients, leaf, outcome, rand, sizes

POOL_GRID = [
    # (N, C, H, W), kernel, stride, padding
    ((2, 3, 6, 6), 2, None, 0),
    ((2, 2, 7, 5), 2, None, 0),          # odd sizes: the last row/column is dropped
    ((1, 2, 7, 7), 3, 1, 1),             # overlapping windows with padding
    ((1, 2, 8, 7), (3, 2), (2, 1), (1, 0)),
    ((2, 1, 5, 6), 3, 2, 1),
]


@pytest.mark.parametrize("shape,k,s,p", POOL_GRID)
def test_max_pool2d_forward_and_first_max_gradient(shape, k, s, p):
    x = np.round(rand(shape, 0), 1)  # rounding creates ties
    k2, s2, p2 = as_pair(k), as_pair(s if s is not None else k), as_pair(p)
    t = leaf(x)
    y = F.max_pool2d(t, k, s, p)
    np.testing.assert_array_equal(y.numpy(), ref.max_pool2d(x, k2, s2, p2))
    grad = rand(y.shape, 1)
    y.backward(grad)
    np.testing.assert_allclose(t.grad.numpy(), ref.max_pool2d_grad(x, grad, k2, s2, p2), atol=1e-12)


@pytest.mark.parametrize("shape,k,s,p", POOL_GRID)
def test_max_pool2d_gradients(shape, k, s, p):
    size = int(np.prod(shape))
    x = np.random.default_rng(2).permutation(size).reshape(shape) / size  # distinct values: no kinks
    check_gradients(lambda t: F.max_pool2d(t, k, s, p), x)


def test_max_pool2d_window_of_equal_values_does_not_multiply_the_gradient():
    x = leaf(np.zeros((1, 1, 4, 4)))  # as after ReLU
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.numpy().sum() == 4
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool2d_stride_defaults_to_kernel_size():
    assert F.max_pool2d(Tensor(np.ones((1, 1, 8, 8))), 2).shape == (1, 1, 4, 4)
    assert F.avg_pool2d(Tensor(np.ones((1, 1, 9, 9))), 3).shape == (1, 1, 3, 3)


@pytest.mark.parametrize("shape,k,s,p", POOL_GRID)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_equals_the_reference_with_gradients(shape, k, s, p, count_include_pad):
    x = rand(shape, 0)
    k2, s2, p2 = as_pair(k), as_pair(s if s is not None else k), as_pair(p)
    got = F.avg_pool2d(Tensor(x), k, s, p, count_include_pad=count_include_pad).numpy()
    np.testing.assert_allclose(got, ref.avg_pool2d(x, k2, s2, p2, count_include_pad), atol=1e-12)
    check_gradients(lambda t: F.avg_pool2d(t, k, s, p, count_include_pad=count_include_pad), x)


@pytest.mark.parametrize("call,message", [
    (lambda: F.max_pool2d(Tensor(np.ones((1, 1, 4, 4))), 2, stride=0), "max_pool2d: stride must be at least 1"),
    (lambda: F.max_pool2d(Tensor(np.ones((1, 1, 4, 4))), 2, padding=2),
     r"max_pool2d: padding \(2, 2\) must be at most half of kernel_size \(2, 2\)"),
    (lambda: F.max_pool2d(Tensor(np.ones((1, 1, 2, 2))), 3),
     "max_pool2d: kernel height 3 is larger than the padded input height 2"),
    (lambda: F.avg_pool2d(Tensor(np.ones((4, 4))), 2), r"avg_pool2d: expected a 3-D .* or 4-D .* \(4, 4\)"),
])
def test_pool_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize("shape,k,s,p", POOL_GRID)
def test_pooling_on_channels_last_input(shape, k, s, p):
    x = np.round(rand(shape, 0), 1)
    k2, s2, p2 = as_pair(k), as_pair(s if s is not None else k), as_pair(p)
    t = leaf(channels_last(x))
    y = F.max_pool2d(t, k, s, p)
    np.testing.assert_array_equal(y.numpy(), ref.max_pool2d(x, k2, s2, p2))
    grad = rand(y.shape, 1)  # NCHW-contiguous gradient into channels-last memory
    y.backward(grad)
    np.testing.assert_allclose(t.grad.numpy(), ref.max_pool2d_grad(x, grad, k2, s2, p2), atol=1e-12)
    np.testing.assert_allclose(F.avg_pool2d(Tensor(channels_last(x)), k, s, p).numpy(),
                               ref.avg_pool2d(x, k2, s2, p2), atol=1e-12)


def slow_pool(x, kernel, stride, padding, dilation, ceil_mode, kind, count_include_pad=True, divisor=None):
    """Loops over windows from the definition, with PyTorch's ceil_mode rule."""
    n, c, h, w = x.shape
    sizes = []
    for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:
            out -= 1
        sizes.append(out)
    out = np.empty((n, c, *sizes))
    index = np.empty((n, c, *sizes), dtype=np.int64)
    for i, j in itertools.product(range(sizes[0]), range(sizes[1])):
        rows = [i * stride[0] - padding[0] + a * dilation[0] for a in range(kernel[0])]
        cols = [j * stride[1] - padding[1] + b * dilation[1] for b in range(kernel[1])]
        if kind == "max":
            best = np.full((n, c), -np.inf)
            where = np.zeros((n, c), dtype=np.int64)
            for r, q in itertools.product(rows, cols):
                if 0 <= r < h and 0 <= q < w:
                    better = x[:, :, r, q] > best
                    best = np.where(better, x[:, :, r, q], best)
                    where = np.where(better, r * w + q, where)
            out[:, :, i, j], index[:, :, i, j] = best, where
            continue
        total, real = np.zeros((n, c)), 0
        for r, q in itertools.product(rows, cols):
            if 0 <= r < h and 0 <= q < w:
                total += x[:, :, r, q]
                real += 1
        clipped = (min(rows[-1], h + padding[0] - 1) - rows[0] + 1) * (min(cols[-1], w + padding[1] - 1) - cols[0] + 1)
        out[:, :, i, j] = total / (divisor or (clipped if count_include_pad else real))
    return out, index


MAX_POOL_CASES = [  # kernel, stride, padding, dilation, ceil_mode
    ((2, 2), (2, 2), (0, 0), (1, 1), True),
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((3, 2), (2, 3), (1, 0), (2, 1), True),
    ((2, 3), (1, 2), (0, 1), (2, 2), False),
]


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", MAX_POOL_CASES)
def test_max_pool2d_dilation_ceil_mode_and_indices(kernel, stride, padding, dilation, ceil_mode):
    x = np.round(rand((2, 3, 7, 8)), 1)  # ties: the first maximum wins
    out, index = F.max_pool2d(Tensor(x), kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    want, want_index = slow_pool(x, kernel, stride, padding, dilation, ceil_mode, "max")
    np.testing.assert_array_equal(out.numpy(), want)
    np.testing.assert_array_equal(index.numpy(), want_index)
    distinct = np.random.default_rng(3).permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8) / 100
    check_gradients(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode), distinct)


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad,divisor", [
    ((2, 2), (2, 2), (0, 0), True, True, None),
    ((3, 3), (2, 2), (1, 1), True, False, None),
    ((3, 2), (2, 3), (1, 1), True, True, None),
    ((2, 3), (1, 2), (1, 0), False, True, 5),
])
def test_avg_pool2d_ceil_mode_and_divisors(kernel, stride, padding, ceil_mode, count_include_pad, divisor):
    x = rand((2, 3, 7, 8))
    got = F.avg_pool2d(Tensor(x), kernel, stride, padding, ceil_mode, count_include_pad, divisor).numpy()
    want, _ = slow_pool(x, kernel, stride, padding, (1, 1), ceil_mode, "avg", count_include_pad, divisor)
    np.testing.assert_allclose(got, want, atol=1e-12)
    check_gradients(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad, divisor),
                    rand((1, 2, 7, 8)))


def slow_adaptive(x, out_hw, kind):
    n, c, h, w = x.shape
    out = np.empty((n, c) + out_hw)
    for i, j in itertools.product(range(out_hw[0]), range(out_hw[1])):
        r0, r1 = (i * h) // out_hw[0], -((-(i + 1) * h) // out_hw[0])
        c0, c1 = (j * w) // out_hw[1], -((-(j + 1) * w) // out_hw[1])
        window = x[:, :, r0:r1, c0:c1]
        out[:, :, i, j] = window.max(axis=(2, 3)) if kind == "max" else window.mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("out_hw", [(1, 1), (3, 3), (4, 7), (7, 4), (2, 5)])  # most do not divide 7x9
def test_adaptive_pools(out_hw):
    x = rand((2, 3, 7, 9))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(Tensor(x), out_hw).numpy(), slow_adaptive(x, out_hw, "avg"))
    np.testing.assert_array_equal(F.adaptive_max_pool2d(Tensor(x), out_hw).numpy(), slow_adaptive(x, out_hw, "max"))
    small = rand((1, 2, 5, 6))
    check_gradients(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), small)
    check_gradients(lambda t: F.adaptive_max_pool2d(t, (3, 4)), small)
    assert tc.nn.AdaptiveAvgPool2d(out_hw)(Tensor(x[0])).shape == (3,) + out_hw  # unbatched input
    assert tc.nn.AdaptiveMaxPool2d((None, 2))(Tensor(x)).shape == (2, 3, 7, 2)


@pytest.mark.parametrize("call,message", [
    (lambda: F.adaptive_avg_pool2d(Tensor(np.ones((1, 1, 4, 4))), 0), "adaptive_avg_pool2d: output_size must be at least 1"),
    (lambda: F.adaptive_max_pool2d(Tensor(np.ones((4, 4))), 2), "adaptive_max_pool2d: expected a 3-D"),
    (lambda: F.max_pool2d(Tensor(np.ones((1, 1, 4, 4))), 2, dilation=0), "max_pool2d: dilation must be at least 1"),
    (lambda: F.avg_pool2d(Tensor(np.ones((1, 1, 4, 4))), 2, divisor_override=0), "avg_pool2d: divisor_override must not be zero"),
])
def test_pooling_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@PROPERTY
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), sizes, sizes), kernel=st.integers(0, 4),
       stride=st.one_of(st.none(), st.integers(0, 3)), padding=st.integers(-1, 2), ties=st.booleans(),
       count_include_pad=st.booleans(), seed=st.integers(0, 99))
def test_pools_on_drawn_settings_refuse_or_equal_the_loop_references(shape, kernel, stride, padding, ties, count_include_pad, seed):
    x = rand(shape, seed)
    if ties:
        x = np.round(x)
    s = kernel if stride is None else stride
    valid = kernel >= 1 and s >= 1 and padding >= 0 and 2 * padding <= kernel and all(
        kernel <= size + 2 * padding for size in shape[2:])
    pooled = outcome("max_pool2d", lambda: F.max_pool2d(Tensor(x), kernel, stride, padding))
    averaged = outcome("avg_pool2d", lambda: F.avg_pool2d(Tensor(x), kernel, stride, padding,
                                                          count_include_pad=count_include_pad))
    assert (pooled is not None) == valid and (averaged is not None) == valid
    if valid:
        args = ((kernel,) * 2, (s,) * 2, (padding,) * 2)
        np.testing.assert_array_equal(pooled.numpy(), ref.max_pool2d(x, *args))
        np.testing.assert_allclose(averaged.numpy(), ref.avg_pool2d(x, *args, count_include_pad), atol=1e-12)
