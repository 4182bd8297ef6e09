"""Convolutions (conv2d, conv_transpose2d): forward against the loop references of the seed
document, gradcheck and gradgradcheck in float64, both memory layouts, drawn settings, and clear
errors for bad input."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import references as ref

from checks import PROPERTY, as_pair, channels_last, check_gradients, leaf, outcome, rand, sizes, small
from test_shape import slow_pad

CONV_GRID = [
    # (N, C, H, W), O, kernel, stride, padding, dilation, groups
    ((2, 3, 7, 6), 4, 3, 1, 0, 1, 1),
    ((2, 3, 7, 6), 4, 3, 2, 1, 1, 1),
    ((1, 2, 9, 8), 3, 3, 3, 2, 1, 1),
    ((2, 4, 7, 7), 6, 3, 1, 2, 2, 2),
    ((1, 4, 8, 7), 4, 3, 2, 1, 2, 4),       # depthwise: groups = C
    ((2, 4, 6, 9), 2, (2, 3), (1, 2), (0, 1), (2, 1), 2),
    ((1, 3, 5, 5), 2, 1, 1, 0, 1, 1),       # 1x1
    ((1, 1, 5, 4), 2, (5, 4), 1, 0, 1, 1),  # kernel covers the input
]


@pytest.mark.parametrize("shape,o,k,s,p,d,g", CONV_GRID)
def test_conv2d_forward_matches_reference(shape, o, k, s, p, d, g):
    k = as_pair(k)
    x, w, b = rand(shape, 0), rand((o, shape[1] // g) + k, 1), rand(o, 2)
    got = F.conv2d(Tensor(x), Tensor(w), Tensor(b), s, p, d, g).numpy()
    np.testing.assert_allclose(got, ref.conv2d(x, w, b, as_pair(s), as_pair(p), as_pair(d), g), atol=1e-12)


@pytest.mark.parametrize("shape,o,k,s,p,d,g", CONV_GRID)
def test_conv2d_gradients(shape, o, k, s, p, d, g):
    k = as_pair(k)
    small = (1, shape[1], min(shape[2], 6), min(shape[3], 6)) if max(k) < 4 else (1,) + shape[1:]
    arrays = rand(small, 3), rand((o, shape[1] // g) + k, 4) * 0.5, rand(o, 5)
    check_gradients(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g), *arrays)


def test_conv2d_without_bias_and_float32():
    x, w = rand((2, 3, 6, 6), 0).astype(np.float32), rand((5, 3, 3, 3), 1).astype(np.float32)
    y = F.conv2d(Tensor(x), Tensor(w), padding=1)
    assert y.dtype == np.float32 and y.shape == (2, 5, 6, 6)
    np.testing.assert_allclose(y.numpy(), ref.conv2d(x, w, None, (1, 1), (1, 1), (1, 1), 1), rtol=1e-4, atol=1e-5)


TRANSPOSE_GRID = [
    # (N, C_in, H, W), C_out/groups, kernel, stride, padding, output_padding, groups, dilation
    ((2, 3, 4, 5), 2, 3, 1, 0, 0, 1, 1),
    ((1, 4, 3, 4), 3, 3, 2, 1, 1, 2, 1),
    ((2, 2, 3, 3), 2, (2, 3), (3, 2), (1, 0), (2, 1), 1, 1),
    ((1, 4, 4, 3), 1, 3, 1, 2, 1, 4, 2),
]


@pytest.mark.parametrize("shape,cg,k,s,p,op,g,d", TRANSPOSE_GRID)
def test_conv_transpose2d_forward_matches_reference(shape, cg, k, s, p, op, g, d):
    k = as_pair(k)
    x, w, b = rand(shape, 0), rand((shape[1], cg) + k, 1), rand(cg * g, 2)
    got = F.conv_transpose2d(Tensor(x), Tensor(w), Tensor(b), s, p, op, g, d).numpy()
    want = ref.conv_transpose2d(x, w, b, as_pair(s), as_pair(p), as_pair(op), g, as_pair(d))
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("shape,cg,k,s,p,op,g,d", TRANSPOSE_GRID)
def test_conv_transpose2d_gradients(shape, cg, k, s, p, op, g, d):
    arrays = rand((1,) + shape[1:], 3), rand((shape[1], cg) + as_pair(k), 4), rand(cg * g, 5)
    check_gradients(lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, g, d), *arrays)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for every setting."""
    x, w = rand((2, 4, 9, 8), 0), rand((6, 2, 3, 2), 1)
    y = F.conv2d(Tensor(x), Tensor(w), stride=2, padding=1, dilation=(1, 2), groups=2)
    other = rand(y.shape, 2)
    back = F.conv_transpose2d(Tensor(other), Tensor(w), stride=2, padding=1, output_padding=(0, 1),
                              groups=2, dilation=(1, 2))
    assert back.shape == x.shape
    np.testing.assert_allclose((y.numpy() * other).sum(), (x * back.numpy()).sum(), rtol=1e-12)


def test_conv2d_third_derivative():
    x, w = leaf(rand((1, 2, 5, 5), 0)), leaf(rand((2, 2, 3, 3), 1))
    (gx,) = tc.grad((F.conv2d(x, w, stride=2) ** 2).sum(), x, create_graph=True)
    (gw,) = tc.grad((gx ** 2).sum(), w, create_graph=True)
    (gx2,) = tc.grad(gw.sum(), x)
    assert gx2.shape == x.shape and np.isfinite(gx2.numpy()).all()


@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(Tensor(np.ones((1, 3, 5, 5))), Tensor(np.ones((4, 2, 3, 3)))),
     r"conv2d: input has 3 channels but weight of shape \(4, 2, 3, 3\) with groups=1 expects 2"),
    (lambda: F.conv2d(Tensor(np.ones((1, 4, 5, 5))), Tensor(np.ones((3, 2, 3, 3))), groups=2),
     r"conv2d: groups=2 must divide both in_channels \(4\) and out_channels \(3\)"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 2, 2))), Tensor(np.ones((1, 1, 3, 3))), padding=0),
     r"conv2d: kernel height 3 \(dilated to 3\) is larger than the padded input height 2"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((1, 1, 3, 3))), stride=0),
     r"conv2d: stride must be at least 1, got 0"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((1, 1, 3, 3))), stride=-1),
     r"conv2d: stride must be at least 1, got -1"),
    (lambda: F.conv2d(Tensor(np.ones((5, 5))), Tensor(np.ones((1, 3, 3, 3)))),  # (3-D: one unbatched image)
     r"conv2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(5, 5\)"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((2, 1, 3, 3))), Tensor(np.ones(3))),
     r"conv2d: bias must have shape \(2,\), got \(3,\)"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((1, 1, 3, 3))), padding=-1),
     r"conv2d: padding must be at least 0"),
    (lambda: F.conv_transpose2d(Tensor(np.ones((1, 2, 3, 3))), Tensor(np.ones((2, 1, 3, 3))), stride=2,
                                output_padding=2),
     r"conv_transpose2d: output_padding \(2, 2\) must be smaller than stride \(2, 2\) or dilation"),
    (lambda: F.conv_transpose2d(Tensor(np.ones((1, 3, 3, 3))), Tensor(np.ones((2, 1, 3, 3)))),
     r"conv_transpose2d: input has 3 channels but weight of shape \(2, 1, 3, 3\) expects 2"),
])
def test_conv_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize("shape,o,k,s,p,d,g", CONV_GRID[:6])
def test_conv2d_on_channels_last_input(shape, o, k, s, p, d, g):
    k = as_pair(k)
    x, w, b = rand(shape, 0), rand((o, shape[1] // g) + k, 1), rand(o, 2)
    got = F.conv2d(Tensor(channels_last(x)), Tensor(w), Tensor(b), s, p, d, g).numpy()
    np.testing.assert_allclose(got, ref.conv2d(x, w, b, as_pair(s), as_pair(p), as_pair(d), g), atol=1e-12)
    small = channels_last(rand((1, shape[1], min(shape[2], 6), min(shape[3], 6)), 3))
    check_gradients(lambda t, v: F.conv2d(t, v, None, s, p, d, g), small, rand((o, shape[1] // g) + k, 4))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_padding_modes_and_same(mode, padding):
    tc.manual_seed(0)
    layer = tc.nn.Conv2d(2, 3, (3, 2) if padding == "same" else 3, padding=padding, padding_mode=mode).double()
    x = rand((2, 2, 5, 6))
    ph, pw = {1: (1, 1), (2, 1): (2, 1), "same": (1, 0)}[padding]
    extra = (0, 1) if padding == "same" else (0, 0)  # 'same' with an even kernel pads one more at the end
    amounts = (pw, pw + extra[1], ph, ph + extra[0])
    padded = slow_pad(x, amounts, "constant" if mode == "zeros" else mode)
    want = F.conv2d(Tensor(padded), layer.weight, layer.bias).numpy()
    np.testing.assert_allclose(layer(Tensor(x)).numpy(), want, atol=1e-12)
    if padding == "same":
        assert layer(Tensor(x)).shape[2:] == x.shape[2:]
    check_gradients(lambda t: layer(t), x)


def test_convolution_option_errors():
    with pytest.raises(ValueError, match="Conv2d: padding_mode must be one of 'zeros', 'reflect', 'replicate', "
                                         "'circular', got 'mirror'"):
        tc.nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        tc.nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="conv2d: padding must be an int, a pair, 'same' or 'valid', got 'full'"):
        F.conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 3, 3))), padding="full")
    layer = tc.nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert layer(tc.randn(1, 2, 5, 5)).shape == (1, 4, 10, 10)
    assert layer(tc.randn(1, 2, 5, 5), output_size=(9, 9)).shape == (1, 4, 9, 9)


@PROPERTY
@given(n=st.integers(1, 2), groups=small, per_group=small, out_per_group=small, h=sizes, w=sizes,
       kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=st.integers(0, 3),
       padding=st.integers(-1, 2), dilation=st.integers(0, 2), bias=st.booleans(), seed=st.integers(0, 99))
def test_conv2d_on_drawn_settings_refuses_or_equals_the_loop_reference(n, groups, per_group, out_per_group, h, w, kernel, stride, padding, dilation, bias, seed):
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
def test_conv_transpose2d_on_drawn_settings_refuses_or_equals_the_loop_reference(n, groups, per_group, out_per_group, h, w, kernel, stride, padding, output_padding,
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


@pytest.mark.parametrize("op", [F.conv2d, F.conv_transpose2d])
def test_convolutions_refuse_a_non_tensor_input_with_a_type_error(op):
    with pytest.raises(TypeError, match=f"{op.__name__}: input must be a Tensor"):
        op(np.ones((1, 1, 3, 3)), Tensor(np.ones((1, 1, 1, 1))))
