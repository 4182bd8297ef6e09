"""Joining, reshaping, selection, padding and resizing: against NumPy or loops written from
the definitions, gradcheck and gradgradcheck, and clear errors."""
import itertools
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor

from checks import check_gradients, rand


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack_split_chunk(dim):
    a, b, c = rand((2, 3, 4), 0), rand((2, 3, 4), 1), rand((2, 3, 4), 2)
    np.testing.assert_array_equal(tc.cat([Tensor(a), Tensor(b), Tensor(c)], dim).numpy(), np.concatenate([a, b, c], dim))
    np.testing.assert_array_equal(tc.stack([Tensor(a), Tensor(b)], dim).numpy(), np.stack([a, b], dim))
    check_gradients(lambda x, y: tc.cat([x, y, x], dim), a, b)
    check_gradients(lambda x, y: tc.stack([x, y], dim), a, b)
    pieces = Tensor(a).split(2, dim)
    sizes = [p.shape[dim] for p in pieces]
    assert sum(sizes) == a.shape[dim] and all(s == 2 for s in sizes[:-1])
    np.testing.assert_array_equal(tc.cat(list(pieces), dim).numpy(), a)
    chunks = Tensor(a).chunk(3, dim)
    step = math.ceil(a.shape[dim] / 3)  # PyTorch's rule: pieces of ceil(size / chunks), maybe fewer of them
    assert [c.shape[dim] for c in chunks] == [min(step, a.shape[dim] - i) for i in range(0, a.shape[dim], step)]
    check_gradients(lambda x: tc.cat([p * (i + 1) for i, p in enumerate(x.split([1, a.shape[dim] - 1], dim))], dim), a)


@pytest.mark.parametrize("call,error,message", [
    (lambda: tc.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 3)))], 1), ValueError,
     r"cat: sizes of tensors must match except in dimension 1; tensor 0 has shape \(2, 3\), tensor 1 has shape \(3, 3\)"),
    (lambda: tc.cat([]), ValueError, "cat: expected a non-empty list"),
    (lambda: tc.cat(Tensor(np.ones(3))), TypeError, "cat: expected a list or tuple of Tensors"),
    (lambda: tc.stack([Tensor(np.ones(2)), Tensor(np.ones(3))]), ValueError, "stack: expects each tensor"),
    (lambda: Tensor(np.ones(5)).split([2, 2]), ValueError, r"split: section sizes \[2, 2\] add up to 4"),
    (lambda: Tensor(np.ones(5)).chunk(0), ValueError, "chunk: chunks must be at least 1"),
])
def test_joining_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_expand_repeat_flip_squeeze_view_match_numpy_with_gradients():
    x = rand((2, 1, 3))
    t = Tensor(x)
    assert t.expand(4, -1, 5, -1).shape == (4, 2, 5, 3)
    assert t.expand_as(Tensor(np.ones((2, 6, 3)))).shape == (2, 6, 3)
    np.testing.assert_array_equal(t.repeat(2, 3, 1, 2).numpy(), np.tile(x, (2, 3, 1, 2)))
    np.testing.assert_array_equal(t.flip(0, 2).numpy(), x[::-1, :, ::-1])
    assert t.squeeze((0, 1)).shape == (2, 3) and t.squeeze().shape == (2, 3)
    assert t.view(3, 2).shape == (3, 2) and t.view_as(Tensor(np.ones(6))).shape == (6,)
    transposed = t.permute(2, 1, 0)
    assert not transposed.numpy().flags.c_contiguous and transposed.contiguous().numpy().flags.c_contiguous
    assert t.contiguous() is t
    check_gradients(lambda a: a.repeat(2, 1, 3) * a.repeat(2, 1, 3), x)
    check_gradients(lambda a: a.flip(1, 2).expand(2, 4, 3) * 2, x)
    with pytest.raises(ValueError, match="expand: -1 is not allowed for the new leading dimension 0"):
        t.expand(-1, 2, 1, 3)


def slow_where(cond, a, b):
    out = np.empty(np.broadcast_shapes(cond.shape, a.shape, b.shape))
    cond, a, b = (np.broadcast_to(v, out.shape) for v in (cond, a, b))
    for i in np.ndindex(out.shape):
        out[i] = a[i] if cond[i] else b[i]
    return out


def test_where_masked_fill_clamp():
    a, b = rand((3, 4), 0), rand((1, 4), 1)
    cond = rand((3, 1), 2) > 0
    np.testing.assert_array_equal(tc.where(Tensor(cond), Tensor(a), Tensor(b)).numpy(), slow_where(cond, a, b))
    check_gradients(lambda x, y: tc.where(cond, x, y), a, b)
    mask = a > 0.3
    np.testing.assert_array_equal(Tensor(a).masked_fill(mask, -1.0).numpy(), slow_where(mask, np.float64(-1), a))
    check_gradients(lambda x: x.masked_fill(mask, 2.0) * x, a)
    low, high = rand((1, 4), 3) - 0.5, rand((3, 1), 4) + 1.5
    clamped = Tensor(a).clamp(Tensor(low), Tensor(high)).numpy()
    np.testing.assert_array_equal(clamped, np.minimum(np.maximum(a, low), high))
    check_gradients(lambda x, lo, hi: x.clamp(lo, hi), a, low, high)
    check_gradients(lambda x: tc.clip(x, -0.5, 0.7), a)
    with pytest.raises(TypeError, match="where: the condition must be a bool tensor"):
        tc.where(Tensor(np.ones(2)), Tensor(a[0, :2]), 0.0)


def slow_gather(x, dim, index):
    out = np.empty(index.shape)
    for i in np.ndindex(index.shape):
        source = list(i)
        source[dim] = index[i]
        out[i] = x[tuple(source)]
    return out


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_and_index_select(dim):
    x = rand((3, 4, 5))
    index = np.random.default_rng(1).integers(0, x.shape[dim], size=(2, 3, 4))
    np.testing.assert_array_equal(Tensor(x).gather(dim, Tensor(index)).numpy(), slow_gather(x, dim, index))
    check_gradients(lambda t: t.gather(dim, index), x)  # repeated indices add up
    picks = np.array([2, 0, 2])
    np.testing.assert_array_equal(Tensor(x).index_select(dim, picks).numpy(), np.take(x, picks, axis=dim))
    check_gradients(lambda t: tc.index_select(t, dim, picks), x)
    with pytest.raises(IndexError, match="gather: index values must be in"):
        Tensor(x).gather(dim, Tensor(index + 10))


def slow_pad_index(i, size, mode):
    if mode == "reflect":
        while i < 0 or i >= size:
            i = -i if i < 0 else 2 * (size - 1) - i
        return i
    if mode == "replicate":
        return min(max(i, 0), size - 1)
    return i % size


def slow_pad(x, amounts, mode, value=0.0):
    """Every output position reads its source position (or the constant) along the last dims."""
    sides = [(x.ndim - 1 - k, amounts[2 * k], amounts[2 * k + 1]) for k in range(len(amounts) // 2)]
    shape = list(x.shape)
    for dim, before, after in sides:
        shape[dim] += before + after
    out = np.empty(shape)
    for position in np.ndindex(*shape):
        source, inside = list(position), True
        for dim, before, _ in sides:
            i = position[dim] - before
            if mode == "constant":
                inside &= 0 <= i < x.shape[dim]
            else:
                i = slow_pad_index(i, x.shape[dim], mode)
            source[dim] = i
        out[position] = x[tuple(source)] if inside else value
    return out


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("amounts", [(1, 2), (2, 0, 1, 3), (0, 1, 2, 2)])
def test_pad_modes(mode, amounts):
    # non-constant modes pad the dimensions after batch and channels (PyTorch's rule)
    shape = (2, 3, 4, 5) if len(amounts) == 4 or mode == "constant" else (3, 4, 5)
    x = rand(shape)
    np.testing.assert_array_equal(F.pad(Tensor(x), amounts, mode).numpy(), slow_pad(x, amounts, mode))
    check_gradients(lambda t: F.pad(t, amounts, mode), rand(shape[:-2] + (4, 5), 1))


def test_pad_crops_and_refuses_clearly():
    x = rand((1, 2, 4, 5))
    np.testing.assert_array_equal(F.pad(Tensor(x), (-1, 2), value=7.0).numpy()[..., :4], x[..., 1:])
    with pytest.raises(ValueError, match="pad: unknown padding mode 'mirror'"):
        F.pad(Tensor(x), (1, 1), "mirror")
    with pytest.raises(ValueError, match="pad: mode 'reflect' needs padding less than dimension 3's size 5"):
        F.pad(Tensor(x), (5, 0, 0, 0), "reflect")
    with pytest.raises(ValueError, match="pad: mode 'circular' pads the last 1 to 3 dimensions"):
        F.pad(Tensor(x), (1, 1), "circular")


def slow_interpolate(x, out_hw, mode, align_corners):
    n, c, h, w = x.shape
    out = np.empty((n, c) + out_hw)
    for i, j in itertools.product(range(out_hw[0]), range(out_hw[1])):
        if mode == "nearest":
            out[:, :, i, j] = x[:, :, min(int(i * h / out_hw[0]), h - 1), min(int(j * w / out_hw[1]), w - 1)]
            continue
        coords = []
        for o, size, count in ((i, h, out_hw[0]), (j, w, out_hw[1])):
            if align_corners:
                s = o * (size - 1) / (count - 1) if count > 1 else 0.0
            else:
                s = max((o + 0.5) * size / count - 0.5, 0.0)
            lo = min(int(math.floor(s)), size - 1)
            coords.append((lo, min(lo + 1, size - 1), s - lo))
        (r0, r1, a), (c0, c1, b) = coords
        out[:, :, i, j] = ((1 - a) * ((1 - b) * x[:, :, r0, c0] + b * x[:, :, r0, c1])
                           + a * ((1 - b) * x[:, :, r1, c0] + b * x[:, :, r1, c1]))
    return out


@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("bilinear", False), ("bilinear", True)])
@pytest.mark.parametrize("size", [(7, 3), (2, 9), (1, 1)])
def test_interpolate(mode, align_corners, size):
    x = rand((2, 3, 4, 5))
    got = F.interpolate(Tensor(x), size=size, mode=mode, align_corners=align_corners).numpy()
    np.testing.assert_allclose(got, slow_interpolate(x, size, mode, align_corners), atol=1e-12)
    check_gradients(lambda t: F.interpolate(t, size=size, mode=mode, align_corners=align_corners), rand((1, 2, 3, 4)))
    assert tc.nn.Upsample(scale_factor=2, mode=mode)(Tensor(x)).shape == (2, 3, 8, 10)


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
