"""CNN primitives: forward against the slow references, gradients by gradcheck/gradgradcheck,
PyTorch semantics at the edges, and clear errors for bad input."""
import itertools

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing import references as ref


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def check_gradients(fn, *arrays):
    inputs = tuple(leaf(a) for a in arrays)
    assert tc.gradcheck(fn, inputs)
    assert tc.gradgradcheck(fn, inputs)


def as_pair(v):
    return (v, v) if isinstance(v, int) else v


# --------------------------------------------------------------------------- conv2d

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


# --------------------------------------------------------------------------- pooling

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
def test_avg_pool2d(shape, k, s, p, count_include_pad):
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


# --------------------------------------------------------------------------- batch norm

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


# --------------------------------------------------------------------------- cross-entropy and softmax

@pytest.mark.parametrize("reduction,smoothing", itertools.product(["mean", "sum", "none"], [0.0, 0.1]))
def test_cross_entropy(reduction, smoothing):
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


# --------------------------------------------------------------------------- linear, relu, dropout

def test_linear():
    x, w, b = rand((4, 3), 0), rand((5, 3), 1), rand(5, 2)
    np.testing.assert_allclose(F.linear(Tensor(x), Tensor(w), Tensor(b)).numpy(), x @ w.T + b)
    check_gradients(F.linear, x, w, b)
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) has 3 features but weight of shape \(5, 4\) expects 4"):
        F.linear(Tensor(x), Tensor(np.ones((5, 4))))
    with pytest.raises(TypeError, match="linear: input must be a Tensor, got ndarray"):
        F.linear(x, Tensor(w))


def test_dropout_scales_kept_units_and_follows_the_seed():
    x = Tensor(np.ones((200, 50)))
    tc.manual_seed(0)
    y = F.dropout(x, 0.3).numpy()
    assert set(np.unique(y)) == {0.0, 1 / 0.7}
    assert abs((y == 0).mean() - 0.3) < 0.02
    tc.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), y)
    assert F.dropout(x, 0.3, training=False) is x
    with pytest.raises(ValueError, match="dropout: probability p must be in"):
        F.dropout(x, 1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = leaf(np.ones((10, 10)))
    tc.manual_seed(1)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())


# --------------------------------------------------------------------------- the seed network

def test_seed_network_forward_and_backward_on_a_batch():
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = Tensor(rng.standard_normal((128, 1, 28, 28)).astype(f32))
    params = [Tensor((rng.standard_normal(s) * 0.1).astype(f32), requires_grad=True)
              for s in [(32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (128, 1600), (128,), (10, 128), (10,)]]
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2)), 2)
    h = F.relu(F.linear(h.flatten(1), w3, b3))
    loss = F.cross_entropy(F.linear(h, w4, b4), Tensor(rng.integers(0, 10, 128)))
    loss.backward()
    assert loss.dtype == np.float32
    for p in params:
        assert p.grad.shape == p.shape and p.grad.dtype == np.float32 and np.isfinite(p.grad.numpy()).all()


# --------------------------------------------------------------------------- memory layouts

def channels_last(array):
    """The same NCHW values held in channels-last memory, as convolutions produce them."""
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("shape,o,k,s,p,d,g", CONV_GRID[:6])
def test_conv2d_on_channels_last_input(shape, o, k, s, p, d, g):
    k = as_pair(k)
    x, w, b = rand(shape, 0), rand((o, shape[1] // g) + k, 1), rand(o, 2)
    got = F.conv2d(Tensor(channels_last(x)), Tensor(w), Tensor(b), s, p, d, g).numpy()
    np.testing.assert_allclose(got, ref.conv2d(x, w, b, as_pair(s), as_pair(p), as_pair(d), g), atol=1e-12)
    small = channels_last(rand((1, shape[1], min(shape[2], 6), min(shape[3], 6)), 3))
    check_gradients(lambda t, v: F.conv2d(t, v, None, s, p, d, g), small, rand((o, shape[1] // g) + k, 4))


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


def test_batch_norm_on_channels_last_input():
    x, gamma, beta = rand((6, 3, 5, 4), 0) * 2 + 1, rand(3, 1), rand(3, 2)
    y = F.batch_norm(Tensor(channels_last(x)), None, None, Tensor(gamma), Tensor(beta), training=True)
    np.testing.assert_allclose(y.numpy(), ref.batch_norm_train(x, gamma, beta, 1e-5)[0], atol=1e-12)
    check_gradients(lambda t, g_, b_: F.batch_norm(t, None, None, g_, b_, training=True),
                    channels_last(x), gamma, beta)


def test_cat_backward_cuts_a_channels_last_gradient_along_its_rows():
    """A DenseNet's cat of convolutions receives the channels-last gradient of batch norm: each
    input's piece is cut from it in that memory order (a DenseNet step was 20% slower when the
    gradient was first transposed to row-major for views of it), with the plain slices' values."""
    x = Tensor(rand((2, 3, 6, 7), 0), requires_grad=True)
    w1, w2 = Tensor(rand((3, 3, 3, 3), 1), requires_grad=True), Tensor(rand((2, 3, 3, 3), 2), requires_grad=True)
    pieces = []
    first, second = F.conv2d(x, w1), F.conv2d(x, w2)
    for t in (first, second):
        t.register_hook(lambda g: pieces.append(g._data))  # (the engine's memory, not PyTorch's strides)
    joined = tc.cat([first, second], 1)
    joined.retain_grad()
    F.batch_norm(joined, None, None, training=True).backward(Tensor(rand((2, 5, 4, 5), 3)))
    assert [p.shape[1] for p in pieces] == [2, 3]  # backward reaches the second input first
    assert all(p.transpose(0, 2, 3, 1).flags.c_contiguous for p in pieces)
    np.testing.assert_array_equal(pieces[1], joined.grad.numpy()[:, :3])
    np.testing.assert_array_equal(pieces[0], joined.grad.numpy()[:, 3:])
    assert tc.gradgradcheck(lambda *t: F.batch_norm(tc.cat([F.conv2d(t[0], t[1]), F.conv2d(t[0], t[2])], 1),
                                                    None, None, training=True), (x, w1, w2))


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("dims", [(0, 2, 3), (1,), (2, 3), (0,), (0, 1, 2)])
def test_sum_over_any_axes_and_layout(layout, dims):
    x = rand((16, 32, 9, 11), 0)
    x = channels_last(x) if layout == "channels_last" else x
    np.testing.assert_allclose(Tensor(x).sum(dims).numpy(), x.sum(axis=dims), rtol=1e-10)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(Tensor(x32).sum(dims).numpy(), x.sum(axis=dims), rtol=1e-4, atol=1e-3)
