"""The PyTorch surface: every new operation against a slow reference written here from its
definition (loops where that is the plain statement), and gradcheck + gradgradcheck in float64."""
import itertools
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(array):
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def check_gradients(fn, *arrays, second=True):
    inputs = tuple(leaf(a) for a in arrays)
    assert tc.gradcheck(fn, inputs)
    if second:
        assert tc.gradgradcheck(fn, inputs)


# --------------------------------------------------------------------------- joining, shape, selection

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


def test_shape_methods():
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


def test_elementwise_additions():
    x = rand((3, 4))
    positive = np.abs(x) + 0.1
    np.testing.assert_array_equal(tc.sign(Tensor(x)).numpy(), np.sign(x))
    np.testing.assert_allclose(tc.log1p(Tensor(positive * 1e-9)).numpy(), np.log1p(positive * 1e-9))
    np.testing.assert_allclose(tc.rsqrt(Tensor(positive)).numpy(), 1 / np.sqrt(positive))
    np.testing.assert_allclose(tc.square(Tensor(x)).numpy(), x * x)
    check_gradients(lambda a: a.log1p(), positive)
    check_gradients(lambda a: a.rsqrt() + a.square(), positive)
    t = leaf(x)
    t.sign().sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros_like(x))


@pytest.mark.parametrize("name,reference", [("floor", math.floor), ("ceil", math.ceil), ("trunc", math.trunc),
                                            ("round", round)])  # Python's round is half to even, as PyTorch's
def test_rounding_functions(name, reference):
    x = np.concatenate([np.arange(-3, 3.5, 0.5), rand((20,)) * 7]).astype(np.float32)
    expected = np.array([reference(float(v)) for v in x], dtype=np.float32)
    np.testing.assert_array_equal(getattr(tc, name)(Tensor(x)).numpy(), expected)
    np.testing.assert_array_equal(getattr(Tensor(x), name)().numpy(), expected)
    integers = Tensor(np.array([-2, 0, 3]))
    assert getattr(tc, name)(integers).dtype == np.int64 and getattr(tc, name)(integers).numpy().tolist() == [-2, 0, 3]
    t = leaf(x.astype(np.float64))
    getattr(t, name)().sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros_like(x))


def test_round_to_decimals():
    x = np.array([1.25, -1.35, 123.456, 0.05], dtype=np.float64)
    np.testing.assert_allclose(tc.round(Tensor(x), decimals=1).numpy(), [round(v * 10) / 10 for v in x])
    np.testing.assert_allclose(Tensor(x).round(decimals=-1).numpy(), [round(v / 10) * 10 for v in x])
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        tc.round(Tensor(x), decimals=1.5)


def test_creation_functions_follow_pytorchs_dtypes():
    assert tc.arange(5).dtype == np.int64 and tc.arange(0, 1, 0.25).numpy().tolist() == [0, 0.25, 0.5, 0.75]
    assert tc.arange(1.0, 4).dtype == np.float32 and tc.arange(10, 0, -3).numpy().tolist() == [10, 7, 4, 1]
    assert tc.full((2, 2), 7).dtype == np.int64 and tc.full((2,), 1.5).dtype == np.float32
    assert tc.full((1,), True).dtype == np.bool_
    np.testing.assert_array_equal(tc.eye(2, 3).numpy(), np.eye(2, 3))
    tc.manual_seed(0)
    draws = tc.randint(3, 7, (1000,)).numpy()
    assert draws.min() == 3 and draws.max() == 6 and tc.randint(5, (2, 2)).dtype == np.int64
    x = Tensor(np.ones((2, 3), np.float64))
    for like in (tc.zeros_like, tc.ones_like, tc.rand_like, tc.randn_like, tc.empty_like):
        assert like(x).shape == (2, 3) and like(x).dtype == np.float64
    assert tc.full_like(x, 4).numpy().tolist() == [[4, 4, 4]] * 2
    source = np.ones(3)
    copied, shared = tc.tensor(source), tc.from_numpy(source)
    source[0] = 5
    assert copied.numpy()[0] == 1 and shared.numpy()[0] == 5
    assert tc.tensor([1.5, 2]).dtype == np.float32 and tc.tensor([1, 2]).dtype == np.int64
    assert tc.float32 is np.float32 and tc.long is np.int64 and x.dtype == tc.float64


def test_conversions_and_devices():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    assert x.size() == (2, 3) and x.size(-1) == 3 and x.numel() == 6 and x.dim() == 2
    assert x.to("cpu") is x and x.cpu() is x and x.to(tc.device("cpu")) is x
    assert x.to(tc.float64).dtype == np.float64 and x.to("cpu", tc.float64).dtype == np.float64
    assert x.long().dtype == np.int64 and x.type_as(Tensor(np.ones(1))).dtype == np.float64
    assert x.device == "cpu" and x.device == tc.device("cpu") and str(x.device) == "cpu"
    assert not tc.cuda.is_available() and tc.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="device: tinygrad_cnn computes on the CPU only; 'cuda' is not available"):
        x.to("cuda")
    y = x.double()
    y.sum().backward()
    assert x.grad.dtype == np.float32  # the gradient flows back through the conversion


# --------------------------------------------------------------------------- activations

def slow_activation(name, x):
    erf = np.vectorize(math.erf)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return {
        "relu6": np.minimum(np.maximum(x, 0), 6),
        "hardtanh": np.clip(x, -1, 1),
        "leaky_relu": np.where(x > 0, x, 0.01 * x),
        "elu": np.where(x > 0, x, np.expm1(x)),
        "selu": scale * np.where(x > 0, x, alpha * np.expm1(x)),
        "gelu": 0.5 * x * (1 + erf(x / math.sqrt(2))),
        "silu": x / (1 + np.exp(-x)),
        "softplus": np.log1p(np.exp(x)),
        "mish": x * np.tanh(np.log1p(np.exp(x))),
        "hardswish": x * np.clip(x + 3, 0, 6) / 6,
        "hardsigmoid": np.clip(x + 3, 0, 6) / 6,
        "logsigmoid": -np.log1p(np.exp(-x)),
    }[name]


ACTIVATIONS = ["relu6", "hardtanh", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "mish", "hardswish",
               "hardsigmoid", "logsigmoid"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(name):
    x = rand((3, 5)) * 4  # away from the kinks at 0, +-1, +-3, 6 with this seed
    fn = getattr(F, name)
    np.testing.assert_allclose(fn(Tensor(x)).numpy(), slow_activation(name, x), rtol=1e-12, atol=1e-12)
    check_gradients(fn, x)
    module = {"relu6": tc.nn.ReLU6, "hardtanh": tc.nn.Hardtanh, "leaky_relu": tc.nn.LeakyReLU, "elu": tc.nn.ELU,
              "selu": tc.nn.SELU, "gelu": tc.nn.GELU, "silu": tc.nn.SiLU, "softplus": tc.nn.Softplus,
              "mish": tc.nn.Mish, "hardswish": tc.nn.Hardswish, "hardsigmoid": tc.nn.Hardsigmoid,
              "logsigmoid": tc.nn.LogSigmoid}[name]()
    np.testing.assert_allclose(module(Tensor(x)).numpy(), slow_activation(name, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 1.0), (0.5, 0.3)])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_softplus_on_both_sides_of_its_threshold(shape, beta, threshold):
    x = rand(shape) * 3
    want = np.array([v if v * beta > threshold else math.log1p(math.exp(v * beta)) / beta for v in x.reshape(-1)])
    np.testing.assert_allclose(F.softplus(Tensor(x), beta, threshold).numpy(), want.reshape(shape), rtol=1e-12)
    check_gradients(lambda t: F.softplus(t, beta, threshold), x)


@pytest.mark.parametrize("loss,setting", [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
@pytest.mark.parametrize("shape,value", [((6,), 0.7), ((3, 4), 1.0), ((2, 3, 4), 0.3)])
def test_huber_and_smooth_l1_on_both_branches(loss, setting, shape, value):
    x, y = rand(shape, 1) * 2, rand(shape, 2) * 2

    def slow(a: float, b: float) -> float:
        d = abs(a - b)
        if loss == "huber_loss":
            return 0.5 * d * d if d < value else value * (d - 0.5 * value)
        return 0.5 * d * d / value if d < value else d - 0.5 * value

    want = np.array([slow(a, b) for a, b in zip(x.reshape(-1), y.reshape(-1))]).reshape(shape)
    fn = getattr(F, loss)
    np.testing.assert_allclose(fn(Tensor(x), Tensor(y), reduction="none", **{setting: value}).numpy(), want, rtol=1e-12)
    check_gradients(lambda a, b: fn(a, b, reduction="sum", **{setting: value}), x, y)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "silu", "mish",
                                  "hardswish", "hardsigmoid"])
def test_inplace_activation_changes_the_tensor_and_keeps_gradients(name):
    x = rand((3, 4)) * 4
    fn = getattr(F, name)
    reference = leaf(x)
    (fn(reference * 1.0) * 3).sum().backward()
    t = leaf(x)
    h = t * 1.0
    out = fn(h, inplace=True)
    assert out is h and h._version == 1
    (out * 3).sum().backward()
    if name in ("elu", "selu"):  # differentiated through the result y, as PyTorch's elu_: y + alpha cancels
        # far in the negative tail, so the rounding is absolute, a few units in the last place of 3 * alpha
        np.testing.assert_allclose(t.grad.numpy(), reference.grad.numpy(), rtol=4 * np.finfo(np.float64).eps,
                                   atol=4 * np.finfo(np.float64).eps * 3 * 1.76)
    else:
        np.testing.assert_array_equal(t.grad.numpy(), reference.grad.numpy())


def test_kink_gradients_follow_pytorch():
    x = leaf([-3.0, 0.0, 3.0, 6.0])
    F.relu6(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, 0])
    x = leaf([-3.0, 0.0, 3.0])
    F.hardswish(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0.5, 1])
    x = leaf([0.0, -50.0])
    F.logsigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0])


def test_softmax_modules_and_identity():
    x = rand((2, 3, 4))
    np.testing.assert_allclose(tc.nn.Softmax(dim=1)(Tensor(x)).numpy().sum(1), np.ones((2, 4)))
    np.testing.assert_allclose(tc.nn.LogSoftmax(dim=-1)(Tensor(x)).numpy(), F.log_softmax(Tensor(x), -1).numpy())
    t = Tensor(x)
    assert tc.nn.Identity(54, unused="x")(t) is t
    np.testing.assert_allclose(tc.nn.Sigmoid()(t).numpy(), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(tc.nn.Tanh()(t).numpy(), np.tanh(x))


# --------------------------------------------------------------------------- padding and resizing

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


# --------------------------------------------------------------------------- pooling

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


# --------------------------------------------------------------------------- normalisation

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


# --------------------------------------------------------------------------- losses

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


# --------------------------------------------------------------------------- convolution options

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


def test_clamp_bounds_are_both_numbers_or_both_tensors_and_tensors_are_never_none():
    x = Tensor(np.ones(3))
    with pytest.raises(TypeError, match="clamp: min and max must both be numbers or both be Tensors"):
        x.clamp(Tensor(np.zeros(3)), 2.0)
    assert (x == None) is False and (x != None) is True  # noqa: E711  (what PyTorch answers)
    check_gradients(lambda t: t.clone() * t, rand(4))
