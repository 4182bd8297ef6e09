"""Property tests over random shapes and settings: every draw either raises the documented
ValueError/TypeError (exactly when the settings are invalid by the definition) or equals
the slow reference."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import references as ref

PROPERTY = settings(max_examples=25, deadline=None)


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def outcome(op, call):
    """The result of ``call()``, or None when it raised an error that names ``op`` (of a type
    PyTorch raises for bad arguments)."""
    try:
        return call()
    except (ValueError, TypeError, IndexError) as error:
        assert str(error).startswith(f"{op}:"), f"an error that does not name {op}: {error}"
        return None


sizes = st.integers(1, 7)
small = st.integers(1, 3)


@PROPERTY
@given(n=st.integers(1, 2), groups=small, per_group=small, out_per_group=small, h=sizes, w=sizes,
       kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=st.integers(0, 3),
       padding=st.integers(-1, 2), dilation=st.integers(0, 2), bias=st.booleans(), seed=st.integers(0, 99))
def test_conv2d(n, groups, per_group, out_per_group, h, w, kernel, stride, padding, dilation, bias, seed):
    c, o = groups * per_group, groups * out_per_group
    x, weight = rand((n, c, h, w), seed), rand((o, per_group) + kernel, seed + 1)
    b = rand(o, seed + 2) if bias else None
    valid = stride >= 1 and padding >= 0 and dilation >= 1 and all(
        dilation * (k - 1) + 1 <= size + 2 * padding for k, size in zip(kernel, (h, w)))
    got = outcome("conv2d", lambda: F.conv2d(Tensor(x), Tensor(weight), None if b is None else Tensor(b),
                                             stride, padding, dilation, groups))
    assert (got is not None) == valid
    if valid:
        expected = ref.conv2d(x, weight, b, (stride,) * 2, (padding,) * 2, (dilation,) * 2, groups)
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


@PROPERTY
@given(n=st.integers(1, 2), groups=small, per_group=small, out_per_group=small, h=st.integers(1, 5),
       w=st.integers(1, 5), kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
       output_padding=st.integers(0, 2), dilation=st.integers(1, 2), seed=st.integers(0, 99))
def test_conv_transpose2d(n, groups, per_group, out_per_group, h, w, kernel, stride, padding, output_padding,
                          dilation, seed):
    c_in = groups * per_group
    x, weight = rand((n, c_in, h, w), seed), rand((c_in, out_per_group, kernel, kernel), seed + 1)
    b = rand(groups * out_per_group, seed + 2)
    sizes_out = [(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1 for size in (h, w)]
    valid = output_padding < max(stride, dilation) and min(sizes_out) > 0
    got = outcome("conv_transpose2d", lambda: F.conv_transpose2d(
        Tensor(x), Tensor(weight), Tensor(b), stride, padding, output_padding, groups, dilation))
    assert (got is not None) == valid
    if valid:
        expected = ref.conv_transpose2d(x, weight, b, (stride,) * 2, (padding,) * 2, (output_padding,) * 2,
                                        groups, (dilation,) * 2)
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


@PROPERTY
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), sizes, sizes), kernel=st.integers(0, 4),
       stride=st.one_of(st.none(), st.integers(0, 3)), padding=st.integers(-1, 2), ties=st.booleans(),
       count_include_pad=st.booleans(), seed=st.integers(0, 99))
def test_pools(shape, kernel, stride, padding, ties, count_include_pad, seed):
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


@PROPERTY
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), channels_given=st.integers(1, 4),
       seed=st.integers(0, 99))
def test_batch_norm(shape, channels_given, seed):
    x = rand(shape, seed) * 2 + 1
    channels = shape[1] if len(shape) > 1 else 1
    gamma, beta = rand(channels_given, seed + 1), rand(channels_given, seed + 2)
    valid = len(shape) >= 2 and channels_given == channels and x.size // channels > 1
    got = outcome("batch_norm", lambda: F.batch_norm(Tensor(x), None, None, Tensor(gamma), Tensor(beta),
                                                     training=True))
    assert (got is not None) == valid
    if valid:
        np.testing.assert_allclose(got.numpy(), ref.batch_norm_train(x, gamma, beta, 1e-5)[0], atol=1e-10)


@PROPERTY
@given(n=st.integers(1, 5), classes=st.integers(1, 5), reduction=st.sampled_from(["mean", "sum", "none", "max"]),
       smoothing=st.sampled_from([0.0, 0.1, 1.0, 1.5]), targets=st.lists(st.integers(-100, 6), min_size=5,
                                                                        max_size=5), seed=st.integers(0, 99))
def test_cross_entropy(n, classes, reduction, smoothing, targets, seed):
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


@pytest.mark.parametrize("op", [F.conv2d, F.conv_transpose2d])
def test_non_tensor_input_is_a_type_error(op):
    with pytest.raises(TypeError, match=f"{op.__name__}: input must be a Tensor"):
        op(np.ones((1, 1, 3, 3)), Tensor(np.ones((1, 1, 1, 1))))
