"""Regression tests for the silently wrong results that the differential fuzzer against PyTorch
found (issue 18), one test (or group) per finding, named after it.

Most hold the library to itself: a result may not depend on the memory layout of its inputs,
and a second derivative must match finite differences of the first. Where a figure is
PyTorch's, the test asks PyTorch (the ``torch`` fixture)."""
import itertools

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


def memory_orders(array: np.ndarray):
    """``array``'s values in every axis order of memory (each permutation laid out C-contiguous,
    then viewed back in the original axis order)."""
    for perm in itertools.permutations(range(array.ndim)):
        yield perm, np.ascontiguousarray(array.transpose(perm)).transpose(np.argsort(perm))


def leaf(array: np.ndarray) -> Tensor:
    return Tensor(array.copy(order="K"), requires_grad=True)  # keeps the memory order


# --------------------------------------------------------------------------- finding 1

@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (2, 3, 2, 5), (4, 3, 1, 1), (1, 2, 3, 1)])
def test_1_batch_norm_training_backward_is_the_same_in_every_memory_order(shape):
    rng = np.random.default_rng(1)
    x0, g0 = rng.standard_normal(shape), rng.standard_normal(shape)
    w0, b0 = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])

    def gradients(x_array, g_array):
        x, w, b = leaf(x_array), leaf(w0), leaf(b0)
        y = F.batch_norm(x, None, None, w, b, training=True)
        y.backward(Tensor(g_array))
        return y.numpy().copy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()

    expected = gradients(x0, g0)
    for (_, x), (_, g) in itertools.product(memory_orders(x0), memory_orders(g0)):
        for got, want in zip(gradients(x, g), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_1_batch_norm_of_a_transposed_input_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    x0, g0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    xt = torch.tensor(x0, requires_grad=True)
    torch.nn.functional.batch_norm(xt.T, None, None, training=True).backward(torch.tensor(g0))
    x = leaf(x0)
    F.batch_norm(x.T, None, None, training=True).backward(Tensor(g0))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- finding 2

def numerical_hvp(f, x0: np.ndarray, v: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """(grad f(x + eps v) - grad f(x - eps v)) / 2 eps: the Hessian times v, from first derivatives."""
    def gradient(x_array):
        x = leaf(x_array)
        return tc.grad(f(x), x)[0].numpy()
    return (gradient(x0 + eps * v) - gradient(x0 - eps * v)) / (2 * eps)


def analytic_hvp(f, x0: np.ndarray, v: np.ndarray) -> np.ndarray:
    x = leaf(x0)
    (g,) = tc.grad(f(x), x, create_graph=True)
    return tc.grad((g * Tensor(v)).sum(), x)[0].numpy()


SECOND_ORDER = {
    "batch_norm": lambda x: (F.batch_norm(x, None, None, training=True) ** 2).sum(),
    "batch_norm_affine": lambda x: (F.batch_norm(x, None, None, Tensor(np.array([1.5, -0.5, 2.0])),
                                                  Tensor(np.array([0.1, 0.2, 0.3])), training=True).tanh()).sum(),
    "cross_entropy_squared": lambda x: F.cross_entropy(x, Tensor(np.array([0, 2, 1, 1]))) ** 2,
    "cross_entropy_ignored_rows": lambda x: F.cross_entropy(x, Tensor(np.array([0, -100, 1, 2])),
                                                            reduction="sum").exp(),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_2_second_derivatives_keep_the_term_through_the_upstream_gradient(name):
    rng = np.random.default_rng(2)
    x0, v = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    f = SECOND_ORDER[name]
    np.testing.assert_allclose(analytic_hvp(f, x0, v), numerical_hvp(f, x0, v), rtol=1e-5, atol=1e-6)


def test_2_batch_norm_hessian_vector_product_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    x0, v = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    xt = torch.tensor(x0, requires_grad=True)
    (g,) = torch.autograd.grad((torch.nn.functional.batch_norm(xt, None, None, training=True) ** 2).sum(), xt,
                               create_graph=True)
    (expected,) = torch.autograd.grad((g * torch.tensor(v)).sum(), xt)
    np.testing.assert_allclose(analytic_hvp(SECOND_ORDER["batch_norm"], x0, v), expected.numpy(), atol=1e-9)


def test_2_a_gradient_with_respect_to_a_non_leaf_stops_there():
    x = leaf(np.array([1.0, 2.0]))
    h = x * x
    y = (h * 3).sum()
    (g,) = tc.grad(y, h)
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])  # not continued into x: x.grad stays unset
    assert x.grad is None


# --------------------------------------------------------------------------- finding 3

@pytest.mark.parametrize("x_shape,w_shape", [((1, 4, 4, 2), (2, 4, 3, 2)), ((2, 3, 5, 1), (4, 3, 2, 1)),
                                             ((2, 8, 3, 4), (8, 8, 3, 4)), ((1, 2, 1, 6), (3, 2, 1, 3))])
def test_3_conv2d_gradients_are_the_same_in_every_memory_order_of_the_upstream_gradient(x_shape, w_shape):
    rng = np.random.default_rng(3)
    x0, w0 = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    out_shape = F.conv2d(Tensor(x0), Tensor(w0)).shape
    g0 = rng.standard_normal(out_shape)

    def gradients(g_array, x_array=x0):
        x, w = leaf(x_array), leaf(w0)
        F.conv2d(x, w).backward(Tensor(g_array))
        return x.grad.numpy(), w.grad.numpy()

    expected = gradients(g0)
    for _, g in memory_orders(g0):
        for got, want in zip(gradients(g), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for _, x in memory_orders(x0):
        for got, want in zip(gradients(g0, x), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_3_the_issue_example_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((2, 4, 3, 2))
    xt, wt = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    z = torch.log_softmax(torch.nn.functional.conv2d(xt, wt), 1)
    (z * z).sum().backward()
    x, w = leaf(x0), leaf(w0)
    z = F.log_softmax(F.conv2d(x, w), 1)
    (z * z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- finding 4

NEW_MEMORY = {
    "cat of one": lambda x: tc.cat([x]),
    "stack of one": lambda x: tc.stack([x]),
    "flip": lambda x: x.flip(0),
    "flip of no dims": lambda x: x.flip([]),
    "repeat by ones": lambda x: x.repeat(1, 1, 1, 1),
    "repeat with a leading one": lambda x: x.repeat(1, 1, 1, 1, 1),
    "zero constant padding": lambda x: F.pad(x, (0, 0)),
    "negative constant padding": lambda x: F.pad(x, (-1, 0)),
    "same-size interpolate": lambda x: F.interpolate(x, size=(3, 3)),
}


@pytest.mark.parametrize("name", NEW_MEMORY)
def test_4_results_that_pytorch_copies_do_not_share_the_input_memory(name):
    x = tc.randn(1, 2, 3, 3)
    before = x.numpy().copy()
    y = NEW_MEMORY[name](x)
    assert not np.shares_memory(y.numpy(), x.numpy())
    y += 1
    y.zero_()
    np.testing.assert_array_equal(x.numpy(), before)


def test_4_flip_and_its_gradient():
    x = leaf(np.arange(6.0).reshape(2, 3))
    y = x.flip([0, 1])
    np.testing.assert_array_equal(y.numpy(), [[5, 4, 3], [2, 1, 0]])
    y.backward(Tensor(np.arange(6.0).reshape(2, 3)))
    np.testing.assert_array_equal(x.grad.numpy(), [[5, 4, 3], [2, 1, 0]])
    assert tc.gradgradcheck(lambda t: t.flip(1) * t, (leaf(np.random.default_rng(0).standard_normal((2, 3))),))


# --------------------------------------------------------------------------- finding 5

def test_5_indexing_down_to_one_element_is_a_view():
    t = tc.tensor([1.0, -2.0, 3.0])
    t[1].relu_()
    np.testing.assert_array_equal(t.numpy(), [1.0, 0.0, 3.0])
    m = tc.tensor([[1, -2], [3, 4]])
    m[0, 1].mul_(5)
    m[1][0].zero_()
    np.testing.assert_array_equal(m.numpy(), [[1, -10], [0, 4]])
    assert m[1, 1].shape == () and np.shares_memory(m[1, 1].numpy(), m.numpy())


# --------------------------------------------------------------------------- finding 8

def test_8_view_refuses_where_pytorchs_refuses_and_names_reshape():
    for x in (tc.randn(3, 4).t(), tc.from_numpy(np.asfortranarray(np.ones((1, 2, 2)))), tc.randn(4, 6)[:, :3]):
        with pytest.raises(RuntimeError, match=r"view: view size is not compatible.*Use \.reshape"):
            x.view(-1)
        assert x.reshape(-1).is_contiguous()  # reshape copies there
    x = tc.randn(2, 3, 4).permute(1, 0, 2)
    assert np.shares_memory(x.view(3, 2, 2, 2).numpy(), x.numpy())  # the last dimension still splits


@pytest.mark.parametrize("layer", ["conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "interpolate"])
def test_8_flattening_a_layer_output_is_a_true_view(layer):
    """PyTorch's memory format: an NCHW input gives NCHW output, so ``x.view(n, -1)`` is a view
    (writes reach the output) and its gradient flows back through it."""
    run = {"conv2d": lambda x: F.conv2d(x, tc.ones(4, 3, 3, 3)), "max_pool2d": lambda x: F.max_pool2d(x, 2),
           "avg_pool2d": lambda x: F.avg_pool2d(x, 2), "interpolate": lambda x: F.interpolate(x, scale_factor=2),
           "batch_norm": lambda x: F.batch_norm(x, None, None, training=True)}[layer]
    x = tc.randn(2, 3, 6, 6, requires_grad=True)
    y = run(x)
    assert y.is_contiguous() and y.stride() == tuple(int(np.prod(y.shape[d + 1:])) for d in range(4))
    flat = y.view(y.size(0), -1)
    with tc.no_grad():
        flat[0, 0] = 100.0
    assert y[0, 0, 0, 0].item() == 100.0
    run(x).view(2, -1).sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("layer", ["conv2d", "max_pool2d", "batch_norm", "add", "relu"])
def test_8_channels_last_in_gives_channels_last_out(layer):
    run = {"conv2d": lambda x: F.conv2d(x, tc.ones(4, 3, 3, 3)), "max_pool2d": lambda x: F.max_pool2d(x, 2),
           "batch_norm": lambda x: F.batch_norm(x, None, None, training=True), "add": lambda x: x + 1,
           "relu": lambda x: x.relu()}[layer]
    x = tc.randn(2, 3, 6, 6).contiguous(memory_format=tc.channels_last)
    assert x.is_contiguous(memory_format=tc.channels_last) and not x.is_contiguous()
    y = run(x)
    assert y.is_contiguous(memory_format=tc.channels_last)
    with pytest.raises(RuntimeError, match="view"):
        y.view(-1)


def test_8_memory_format_conversions_follow_pytorch():
    x = tc.randn(2, 3, 4, 5)
    assert x.stride() == (60, 20, 5, 1) and x.stride(1) == 20 and x.stride(-1) == 1
    cl = x.to(memory_format=tc.channels_last)
    assert cl.stride() == (60, 1, 15, 3) and np.array_equal(cl.numpy(), x.numpy())
    assert cl.to(memory_format=tc.channels_last) is cl and x.contiguous() is x
    assert cl.clone().stride() == (60, 1, 15, 3)  # preserve_format keeps dense strides
    assert cl.clone(memory_format=tc.contiguous_format).is_contiguous()
    assert tc.randn(3, 4).t().clone().stride() == (1, 4)
    sliced = tc.randn(4, 6)[:, ::2]
    assert sliced.clone().stride() == (3, 1)  # not dense: the suggested (row-major) format
    with pytest.raises(RuntimeError, match="preserve"):
        x.contiguous(memory_format=tc.preserve_format)
    y = F.conv2d(x, tc.ones(4, 3, 3, 3))  # channels-last memory until something looks
    assert y.storage_offset() == 0 and y[1].storage_offset() == 4 * 2 * 3


def _strides_ignoring_size_one(t):
    return tuple(s for n, s in zip(t.shape, t.stride()) if n > 1)


def test_8_result_strides_match_pytorch_over_the_op_table(torch):
    """Every op-table variant, on inputs in every layout the fuzzer draws: our result has
    PyTorch's strides (size-1 dimensions' strides say nothing, as in PyTorch)."""
    from tinygrad_cnn.testing.table import op_db

    import fuzz

    differ = []
    for shape, x_layout in itertools.product([(2, 3, 4, 5), (3, 4)], fuzz.LAYOUTS):
        for info in op_db:
            extras = info.inputs_for(shape)
            if info.inplace or extras is None:
                continue
            rng = np.random.default_rng(0)
            x = fuzz.in_layout(rng.uniform(0.05, 0.95, shape), x_layout)
            arrays = [rng.integers(0, max(e.high, 1), e.shape) if e.kind in ("index", "int") else
                      rng.random(e.shape) < 0.5 if e.kind == "bool" else
                      fuzz.in_layout(rng.uniform(0.5, 1.5, e.shape), "fortran" if e.any_layout else "contiguous")
                      for e in extras]
            try:
                expected = info.fn(torch, torch.nn.functional, torch.from_numpy(x), *map(torch.from_numpy, arrays))
            except Exception:  # noqa: BLE001 - PyTorch refuses these inputs; the fuzzer compares refusals
                continue
            got = info.fn(tc, F, tc.from_numpy(x), *map(tc.from_numpy, arrays))
            expected, got = (expected[0], got[0]) if isinstance(expected, tuple) else (expected, got)
            if isinstance(expected, torch.Tensor) and (_strides_ignoring_size_one(expected)
                                                       != _strides_ignoring_size_one(got)):
                differ.append(f"{info.name} {shape} {x_layout}: PyTorch {expected.stride()}, ours {got.stride()}")
    assert not differ, "\n".join(differ)


# --------------------------------------------------------------------------- finding 7

def backward_of(f, x0, upstream=None):
    x = leaf(np.asarray(x0, dtype=np.float64))
    y = f(x)
    y.backward(None if upstream is None else Tensor(np.full(y.shape, upstream)))
    return x.grad.numpy()


def test_7_masks_select_rather_than_multiply(recwarn):
    inf, nan = np.inf, np.nan
    assert backward_of(lambda x: x.clamp(min=0).sqrt().sum(), [-1.0, 4.0]).tolist() == [0.0, 0.25]
    assert backward_of(lambda x: (x ** 0).sum(), [0.0, 2.0]).tolist() == [0.0, 0.0]
    assert backward_of(lambda x: F.hardtanh(x), [-3.0, 0.5], inf).tolist() == [0.0, inf]
    assert backward_of(lambda x: x.max(1).values, [[1.0, 2.0], [3.0, -1.0]], inf).tolist() == [[0, inf], [inf, 0]]
    assert backward_of(lambda x: x.sign(), [1.0, -2.0], nan).tolist() == [0.0, 0.0]
    assert backward_of(lambda x: x.floor(), [1.5, -2.0], nan).tolist() == [0.0, 0.0]
    grad = backward_of(lambda x: x.clamp(min=0), [-1.0, 2.0], nan)
    assert grad[0] == 0 and np.isnan(grad[1])
    # a NaN input: clamp's mask stops its gradient, hardtanh's passes it (PyTorch's two rules)
    assert backward_of(lambda x: x.clamp(-1, 1).sum(), [nan, 0.5]).tolist() == [0.0, 1.0]
    assert backward_of(lambda x: F.hardtanh(x).sum(), [nan, 1.0, 0.5]).tolist() == [1.0, 0.0, 1.0]


def test_7_pow_at_zero_follows_the_limits():
    a, b = leaf(np.array([0.0, 1.0, 0.0])), leaf(np.array([0.0, 2.0, 3.0]))
    (a ** b).sum().backward()
    assert a.grad.numpy().tolist() == [0.0, 2.0, 0.0]
    assert b.grad.numpy().tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_7_weighted_loss_with_every_target_ignored_has_zero_gradient(loss, reduction, recwarn):
    weight = Tensor(np.array([1.0, 2.0]))
    target = Tensor(np.array([1, 1]))
    grad = backward_of(lambda x: getattr(F, loss)(x, target, weight=weight, ignore_index=1, reduction=reduction)
                       .sum(), [[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_array_equal(grad, np.zeros((2, 2)))


def test_7_max_pool_records_a_nan_as_its_windows_maximum(recwarn):
    nan = np.nan
    x = np.array([[[[1.0, nan, nan], [3.0, -1.0, 0.0], [nan, 2.0, 1.0]]]])
    values, indices = F.max_pool2d(Tensor(x), 2, stride=1, return_indices=True)
    assert np.isnan(values.numpy().ravel()[:3]).all() and values.numpy().ravel()[3] == 2.0
    assert indices.numpy().ravel().tolist() == [1, 2, 6, 7]  # PyTorch's: a window's last NaN
    grad = backward_of(lambda t: F.max_pool2d(t, 2, stride=1).sum(), x)
    assert grad.ravel().tolist() == [0, 1, 1, 0, 0, 0, 1, 1, 0]


@pytest.mark.parametrize("stride", [1, 2])
def test_7_max_pool_passes_an_infinite_gradient_to_the_maximum_only(stride):
    x = np.array([[[[1.0, 2.0], [3.0, -1.0]]]])
    grad = backward_of(lambda t: F.max_pool2d(t, 2, stride=stride), x, np.inf)
    assert grad.ravel().tolist() == [0.0, 0.0, np.inf, 0.0]


# --------------------------------------------------------------------------- finding 6, and views changed in place

def test_6_writing_through_a_view_of_a_buffer_gives_the_buffer_a_history():
    w = leaf(np.array([1.0, 2.0, 3.0]))
    buffer = tc.zeros(2, 3, dtype=tc.float64)
    buffer[0].copy_(w)
    ((buffer * buffer).sum() + w.sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 5.0, 7.0])  # PyTorch's


@pytest.mark.parametrize("layout", ["C", "F"])
def test_6_an_in_place_change_of_a_view_replays_onto_its_base(layout):
    x = leaf(np.asarray(np.arange(6.0).reshape(2, 3) - 2, order=layout))
    y = x * 2
    y[:, :2].add_(1)
    y.T[2].mul_(y[:, 0].clone())  # a view of a transpose, times values read through another view
    np.testing.assert_array_equal(y.numpy(), [[-3.0, -1.0, 0.0], [3.0, 5.0, 18.0]])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[-12.0, -4.0, 0.0], [444.0, 20.0, 216.0]])  # PyTorch's


def test_6_a_view_used_after_its_base_changed_follows_the_change():
    x = leaf(np.array([[1.0, -1.0], [2.0, 3.0]]))
    h = x * 1
    v = h[0]
    h.mul_(3)
    (v * v).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[18.0, -18.0], [0.0, 0.0]])  # PyTorch's


def test_6_views_of_leaves_and_of_split_pieces_are_refused_as_in_pytorch():
    x = leaf(np.ones(4))
    with pytest.raises(RuntimeError, match="a view of a leaf tensor"):
        x[:2].add_(1)
    piece = (x * 1).split(2)[0]
    with pytest.raises(RuntimeError, match="one of several views made by one call"):
        piece.mul_(2)
    with tc.no_grad():
        piece.mul_(2)  # nothing recorded: allowed


# --------------------------------------------------------------------------- errors PyTorch's except catches

@pytest.mark.parametrize("call, torch_class", [
    (lambda: F.conv2d(tc.randn(1, 3, 5, 5), tc.randn(2, 2, 3, 3)), RuntimeError),    # channels mismatch
    (lambda: tc.randn(2, 3) @ tc.randn(4, 2), RuntimeError),                         # shapes
    (lambda: tc.randn(2, 3) @ tc.randn(3, 2).double(), RuntimeError),                # dtypes
    (lambda: F.pad(tc.randn(2, 2, 2, 2), (1, 1), mode="reflect"), NotImplementedError),
    (lambda: F.group_norm(tc.randn(1, 2), 2), ValueError),
    (lambda: F.binary_cross_entropy(tc.tensor([0.5, float("nan")]), tc.tensor([1.0, 0.0])), RuntimeError),
])
def test_errors_are_caught_by_an_except_written_for_pytorch(call, torch_class):
    with pytest.raises(torch_class):
        call()


def test_padding_rules_follow_pytorch():
    x = tc.randn(2, 3)
    assert F.pad(x, (4, 4), mode="replicate").shape == (2, 11)  # wider than the dimension: allowed
    with pytest.raises(ValueError, match="every dimension but the batch"):
        F.pad(tc.randn(1, 0, 5), (1, 1), mode="replicate")
    assert F.pad(tc.randn(0, 2, 5), (1, 1), mode="reflect").shape == (0, 2, 7)


# --------------------------------------------------------------------------- loud differences, resolved as PyTorch

def test_unbatched_inputs_are_one_sample():
    image = tc.randn(2, 5, 5)
    weight = tc.randn(3, 2, 3, 3)
    np.testing.assert_allclose(F.conv2d(image, weight).numpy(), F.conv2d(image.unsqueeze(0), weight)[0].numpy())
    assert F.max_pool2d(image, 2).shape == F.avg_pool2d(image, 2).shape == (2, 2, 2)
    values, indices = F.max_pool2d(image, 2, return_indices=True)
    assert values.shape == indices.shape == (2, 2, 2)
    logits = tc.tensor([1.0, 2.0, 0.5])
    expected = F.cross_entropy(logits.unsqueeze(0), tc.tensor([1])).item()
    assert F.cross_entropy(logits, tc.tensor(1)).item() == pytest.approx(expected)
    assert F.cross_entropy(logits, tc.tensor(1), reduction="none").shape == ()
    assert F.nll_loss(logits, tc.tensor(2)).item() == pytest.approx(-0.5)


def test_dims_0_and_minus_1_of_a_0d_tensor_name_the_element():
    x = tc.tensor(2.0)
    assert x.sum(0).item() == x.mean(-1).item() == x.max(0).values.item() == 2.0
    assert x.min(-1).indices.item() == 0
    with pytest.raises(IndexError):
        x.sum(1)


def test_indices_and_masks_follow_pytorchs_rules():
    assert tc.ones(3).masked_fill(tc.tensor([[True, False, True]]), 0.0).numpy().tolist() == [[0.0, 1.0, 0.0]]
    with pytest.raises(IndexError):
        tc.ones(3).index_select(0, tc.tensor([-1]))
    with pytest.raises(RuntimeError):
        tc.ones(3).gather(0, tc.tensor([-1]))
    with pytest.raises(RuntimeError, match="at most half of kernel_size"):
        F.max_pool2d(tc.ones(1, 1, 5, 5), 3, padding=2, dilation=2)
    assert F.max_pool2d(tc.ones(1, 1, 5, 5), 2, padding=1, dilation=3).shape == (1, 1, 2, 2)
    with pytest.raises(IndexError):
        tc.ones(0, 3).amax(0)


def test_legacy_loss_arguments_choose_the_reduction_with_pytorchs_warning():
    x, y = tc.ones(3), tc.zeros(3)
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.mse_loss(x, y, reduce=False).shape == (3,)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.l1_loss(x, y, size_average=False).item() == 3.0
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert tc.nn.MSELoss(size_average=False)(x, y).item() == 3.0


def test_7_adaptive_average_pooling_of_infinite_values_is_infinite_only_in_their_windows(recwarn):
    x = np.zeros((1, 1, 5, 3))
    x[0, 0, 0, 0] = np.inf
    out = F.adaptive_avg_pool2d(Tensor(x), (3, 2)).numpy()[0, 0]  # windows of different sizes
    assert out.tolist() == [[np.inf, 0.0], [0.0, 0.0], [0.0, 0.0]]


def test_6_a_stale_view_first_used_under_no_grad_keeps_its_history():
    x = leaf(np.array([[1.0, 2.0], [3.0, 4.0]]))
    h = x * 1
    v = h[0]
    h.mul_(2)
    with tc.no_grad():
        assert (v * 1).numpy().tolist() == [2.0, 4.0]  # used without a graph
        assert v.requires_grad  # asked, which brings its history up to date
    (v * v).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[8.0, 16.0], [0.0, 0.0]])  # d(4 x0^2)/dx0 = 8 x0


def test_logsumexp_of_an_empty_float32_tensor_stays_float32():
    """Found by the 100,000-program fuzz run of the second session: the stand-in maximum of an
    empty reduction was a float64 array, and it promoted the result."""
    out = tc.zeros(0, 3).logsumexp(0, keepdim=True)
    assert out.dtype == np.float32 and out.shape == (1, 3) and np.all(out.numpy() == -np.inf)


def test_division_gradient_does_not_overflow_where_the_quotient_does_not():
    """Found by the fuzzer: -grad * a / (b * b) overflowed b * b to inf for b ~ 1e200 (NaN
    with an infinite numerator); PyTorch divides twice, and so do we now."""
    a, b = tc.tensor(1e200, dtype=tc.float64, requires_grad=True), tc.tensor(1e200, dtype=tc.float64, requires_grad=True)
    (a / b).backward()
    assert b.grad.item() == -1e-200 and a.grad.item() == 1e-200


def test_python_floats_given_a_float64_dtype_keep_their_precision():
    """Found with the test above: tensor(0.1, dtype=float64) went through float32 first (0.1
    became 0.10000000149), and 1e200 became inf."""
    assert tc.tensor([0.1], dtype=tc.float64).numpy()[0] == 0.1
    assert Tensor(1e200, dtype=np.float64).item() == 1e200
    assert tc.tensor([0.1]).dtype == np.float32  # without a dtype: the default, as in PyTorch


# --------------------------------------------------------------------------- what backward saves

@pytest.mark.parametrize("make", [
    lambda x: x.exp(), lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.sqrt(), lambda x: x.rsqrt(),
    lambda x: F.softmax(x, 1), lambda x: F.log_softmax(x, 1), lambda x: x.logsumexp(1),
    lambda x: tc.linalg.vector_norm(x, 1, 1), lambda x: x.std(0), lambda x: x.amax(1), lambda x: x.relu(),
], ids=["exp", "tanh", "sigmoid", "sqrt", "rsqrt", "softmax", "log_softmax", "logsumexp", "vector_norm",
        "std", "amax", "relu"])
def test_a_saved_result_changed_in_place_is_refused_as_in_pytorch(make):
    """The fuzzer's accepted_backward group: these backward formulas read the result, so changing
    it in place (here through a no_grad write) makes backward refuse, as PyTorch's does."""
    x = Tensor(np.random.default_rng(0).uniform(0.5, 2.0, (3, 4)), requires_grad=True)
    y = make(x)
    with tc.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_leaky_relu_in_place_saves_its_result():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    y = F.leaky_relu(x * 1, 0.1, inplace=True)
    (y * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.3, 3.0])
    y = F.leaky_relu(x * 1, 0.1, inplace=True)
    with tc.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="LeakyReluOfResult"):
        y.sum().backward()


def test_changing_an_input_backward_does_not_read_runs_as_in_pytorch():
    """Stricter refusals are gone: a factor is read only for the other's gradient, a result-reading
    function does not read its input (MNASNet's Dropout(inplace=True) after a mean)."""
    x = Tensor(np.ones((2, 3, 4, 4)), requires_grad=True)
    pooled = (x * 2).mean((2, 3))
    dropped = F.dropout(pooled, 0.5, training=True, inplace=True)  # changes the mean's output
    (dropped * 2).sum().backward()  # Mul by a mask reads the mask, not the changed factor
    assert x.grad.shape == x.shape
    h = x * 1
    e = h.exp()
    with tc.no_grad():
        h.add_(5)  # exp's backward reads its result, not h
    e.sum().backward()
    w = Tensor(np.ones(3), requires_grad=True)
    a = Tensor(np.full(3, 2.0))
    prod = a * w
    a.add_(1)  # a is read for w's gradient: refused
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        prod.sum().backward()
    prod = w * 3.0
    with tc.no_grad():
        w.mul_(2)  # a Python factor: w is read for nobody's gradient
    prod.sum().backward()


def test_a_power_of_a_number_saves_the_result_the_user_holds():
    """100,000-program run: 2 ** x of a channels-last x was copied to row-major after the node
    saved its result, so a change through the copy went unseen (PyTorch refuses it)."""
    x = tc.randn(2, 3, 4, 4, requires_grad=True).contiguous(memory_format=tc.channels_last)
    y = 2 ** x
    assert y.is_contiguous()
    with tc.no_grad():
        y[0].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_negative_padding_crops_first_as_pytorch():
    x = tc.randn(1)
    assert F.pad(x, (-1, 1)).shape == (1,)
    with pytest.raises(RuntimeError, match="narrow"):
        F.pad(x, (-2, 1))  # the crop alone is negative, whatever the padding after it


# --------------------------------------------------------------------------- the 100,000-program run, second pass

def test_elementwise_results_keep_pytorchs_channels_last_strides_for_size_1_dimensions(torch):
    """NumPy gave sign() of a channels-last (3, 2, 4, 1) input the strides (8, 1, 2, 1), which
    PyTorch's suggest_memory_format reads as row-major: batch norm then ran row-major and
    ``.contiguous()`` of its result shared its memory where PyTorch's copies."""
    x0 = np.random.default_rng(0).standard_normal((3, 2, 4, 1))
    theirs = torch.from_numpy(x0).contiguous(memory_format=torch.channels_last)
    ours = Tensor(x0).contiguous(memory_format=tc.channels_last)
    for op in ("sign", "abs", "exp", "relu", "sin", "reciprocal", "floor"):
        assert getattr(ours, op)().stride() == getattr(theirs, op)().stride(), op
    y_theirs = torch.nn.functional.batch_norm(theirs.sign().abs(), None, None, training=True)
    y_ours = F.batch_norm(ours.sign().abs(), None, None, training=True)
    assert y_ours.stride() == y_theirs.stride() and y_ours.is_contiguous() == y_theirs.is_contiguous()
    assert y_ours.contiguous().data_ptr() != y_ours.data_ptr()


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_is_log_softmax_then_nll_for_infinite_and_nan_gradients(torch, smoothing, reduction, recwarn):
    """Fused, cross-entropy's backward was grad * (softmax - q): where the incoming gradient is
    infinite, PyTorch's log_softmax backward (grad - softmax * sum(grad)) gives NaN and ours gave
    +-inf. It is now the two nodes PyTorch records."""
    rng = np.random.default_rng(3)
    x0, t0 = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    upstream = np.full((4,) if reduction == "none" else (), np.inf)
    if reduction == "none":
        upstream[1] = 1.0
    xt = torch.tensor(x0, requires_grad=True)
    torch.nn.functional.cross_entropy(xt, torch.tensor(t0), reduction=reduction, label_smoothing=smoothing,
                                      ignore_index=1).backward(torch.tensor(upstream))
    x = leaf(x0)
    F.cross_entropy(x, Tensor(t0), reduction=reduction, label_smoothing=smoothing,
                    ignore_index=1).backward(Tensor(upstream))
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())  # NaN, inf and 0 where PyTorch's are
    assert [n.name for n in tc.autograd.topological_order([F.cross_entropy(x, Tensor(t0)).grad_fn])][:2] == \
        ["NllLoss", "LogSoftmax"]


def test_cross_entropy_backward_reads_the_log_probabilities_not_the_logits():
    """A change to the logits after the loss is allowed, as in PyTorch (only log_softmax's
    result is read), and a change to that result is refused."""
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    logits = x * 1
    loss = F.cross_entropy(logits, Tensor(np.array([0, 1, 3])))
    with tc.no_grad():
        logits.add_(100)
    loss.backward()
    expected = F.softmax(x.detach(), 1).numpy() - np.eye(4)[[0, 1, 3]]
    np.testing.assert_allclose(x.grad.numpy(), expected / 3, atol=1e-12)


@pytest.mark.parametrize("shape, padding", [((1, 1, 5, 1), 1), ((2, 3, 1, 3), 1), ((2, 3, 1, 1), (1, 2))])
def test_convolution_offsets_that_see_only_padding_multiply_it_as_pytorch(torch, shape, padding, recwarn):
    """The offsets of a kernel that only ever see padding are left out of the computation (a
    ResNet's 3x3 layers on 1x1 images). IEEE's inf * 0 and NaN * 0 are NaN, and PyTorch's
    im2col multiplies those zeros: a NaN or infinite weight there makes its output channel NaN,
    and a NaN or infinite gradient makes those offsets' weight gradient NaN."""
    rng = np.random.default_rng(2)
    x0, w0 = rng.standard_normal(shape), rng.standard_normal((4, shape[1], 3, 3))
    w0[1, 0, 0, 0] = np.inf
    out_theirs = torch.nn.functional.conv2d(torch.tensor(x0), torch.tensor(w0), padding=padding)
    out_ours = F.conv2d(Tensor(x0), Tensor(w0), padding=padding)
    np.testing.assert_array_equal(out_ours.numpy(), out_theirs.numpy())
    w0[1, 0, 0, 0] = 1.0
    upstream = np.ones(out_theirs.shape)
    upstream[0, 2, 0, 0] = np.nan
    upstream[-1, 3, -1, -1] = -np.inf
    wt = torch.tensor(w0, requires_grad=True)
    torch.nn.functional.conv2d(torch.tensor(x0), wt, padding=padding).backward(torch.tensor(upstream))
    w = leaf(w0)
    F.conv2d(Tensor(x0), w, padding=padding).backward(Tensor(upstream))
    np.testing.assert_array_equal(np.isnan(w.grad.numpy()), np.isnan(wt.grad.numpy()))
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
def test_cumprod_gradient_with_zeros_follows_pytorchs_two_rules(torch, create_graph, recwarn):
    """With zeros in x, PyTorch's first derivative leaves out the terms where the product is
    already 0 (an infinite gradient there gives no NaN) and puts 0 after the first zero; its
    differentiable form multiplies them. Ours gave NaN before the first zero in both."""
    x0 = np.array([[1.0, 0.5, 0.0, 0.5, 0.0], [2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 2.0, 3.0, 4.0, 0.5]])
    g0 = np.array([[1.0, 1.0, 1.0, np.inf, 1.0], [np.nan, 1.0, -np.inf, 2.0, 1.0], [1.0, np.inf, 1.0, 1.0, 1.0]])
    xt = torch.tensor(x0, requires_grad=True)
    (theirs,) = torch.autograd.grad(torch.cumprod(xt, 1), xt, torch.tensor(g0), create_graph=create_graph)
    x = leaf(x0)
    (ours,) = tc.grad(tc.cumprod(x, 1), [x], Tensor(g0), create_graph=create_graph)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


def test_narrow_is_pytorchs_view_with_its_errors():
    x = tc.arange(10.0).reshape(2, 5)
    y = x.narrow(1, -2, 2)
    assert y.tolist() == [[3.0, 4.0], [8.0, 9.0]] and y.data_ptr() == x.data_ptr() + 3 * 4
    assert tc.narrow(x, 0, tc.tensor(1), 1).tolist() == [[5.0, 6.0, 7.0, 8.0, 9.0]]
    assert x.narrow(1, 5, 0).shape == (2, 0)
    with pytest.raises(IndexError, match="start out of range"):
        x.narrow(1, 6, 0)
    with pytest.raises(RuntimeError, match=r"start \(4\) \+ length \(2\) exceeds dimension size \(5\)"):
        x.narrow(1, 4, 2)
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        x.narrow(1, 0, -1)


# --------------------------------------------------------------------------- the 100,000-program run, third pass

@pytest.mark.parametrize("op", ["max", "min"])
def test_full_max_and_min_write_the_gradient_into_zeros_as_pytorch(torch, op, recwarn):
    """PyTorch's full max()/min() backward (evenly_distribute_backward) fills zeros at the
    extrema: a NaN gradient stays at them (ours spread it, NaN * 0 elsewhere), and a NaN
    extremum takes the gradient to the NaNs; amax keeps PyTorch's product with the mask."""
    for x0, g0 in [(np.array([1.0, 3.0, 3.0, 2.0]), np.nan), (np.array([[1.0, np.nan], [np.nan, 0.0]]), 2.0)]:
        xt = torch.tensor(x0, requires_grad=True)
        getattr(xt, op)().backward(torch.tensor(g0))
        x = leaf(x0)
        getattr(x, op)().backward(Tensor(np.array(g0)))
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    xt, x = torch.tensor([1.0, 3.0], requires_grad=True), leaf(np.array([1.0, 3.0]))
    getattr(xt, "a" + op)().backward(torch.tensor(np.nan))
    getattr(x, "a" + op)().backward(Tensor(np.array(np.nan)))
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())  # NaN at both, as PyTorch's amax


def test_pooling_refuses_an_empty_image_as_pytorch():
    for pool in (F.avg_pool2d, F.max_pool2d):
        with pytest.raises(RuntimeError, match=r"optional 0 dim batch size for input\), got shape \(2, 1, 0, 4\)"):
            pool(tc.ones(2, 1, 0, 4), 2, 1, 1)
    assert F.avg_pool2d(tc.ones(0, 1, 3, 4), 2, 1, 1).shape == (0, 1, 4, 5)  # an empty batch is fine


def test_a_weight_changed_in_place_is_checked_again_at_the_offsets_that_see_only_padding():
    """The dead-offset check is remembered per weight and version: an in-place change counts."""
    x, w = tc.randn(2, 3, 1, 1), tc.randn(4, 3, 3, 3)
    assert np.isfinite(F.conv2d(x, w, padding=1).numpy()).all()
    with tc.no_grad():
        w[1, 0, 0, 0] = float("inf")  # a corner: outside the 1x1 image's live centre offset
    out = F.conv2d(x, w, padding=1).numpy()
    assert np.isnan(out[:, 1]).all() and np.isfinite(np.delete(out, 1, axis=1)).all()
    huge = tc.full((4, 3, 3, 3), 3e38)  # finite, though each row of it sums past float32's range
    assert (F.conv2d(tc.zeros(2, 3, 1, 1), huge, padding=1).numpy() == 0).all()


# --------------------------------------------------------------------------- the gradient layout contract

@pytest.mark.parametrize("case", ["permuted use", "channels-last leaf", "channels-last leaf, permuted use",
                                  "transposed leaf", "channels-last weight of a convolution"])
def test_a_leafs_grad_is_strided_as_the_leaf_as_pytorchs_accumulate_grad(torch, case):
    """PyTorch's AccumulateGrad gives ``.grad`` the strides of its (dense) tensor, copying a
    gradient that arrives otherwise; the values were always right, the strides were the
    gradient's own."""
    rng = np.random.default_rng(0)
    a, w, m = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 3, 3, 3)), rng.standard_normal((4, 5, 3))
    results = []
    for lib in (tc, torch):
        x = lib.tensor(a)
        if "channels-last" in case and "weight" not in case:
            x = x.contiguous(memory_format=lib.channels_last)
        if case == "transposed leaf":
            x = x.transpose(1, 2)
        x.requires_grad_()
        if case == "channels-last weight of a convolution":
            weight = lib.tensor(w).contiguous(memory_format=lib.channels_last).requires_grad_()
            lib.nn.functional.conv2d(x, weight, padding=1).square().sum().backward()
            results.append((weight.grad.stride(), weight.grad.numpy()))
        elif "permuted" in case:
            (x.permute(0, 2, 3, 1).contiguous() * lib.tensor(m)).sum().backward()
        else:
            (x.contiguous() * 3).sum().backward()
        results.append((x.grad.stride(), x.grad.numpy()))
    ours, theirs = results[:len(results) // 2], results[len(results) // 2:]
    for (our_strides, our_values), (their_strides, their_values) in zip(ours, theirs):
        assert our_strides == their_strides
        np.testing.assert_allclose(our_values, their_values, rtol=1e-12)


def test_a_second_backward_accumulates_into_the_same_grad_tensor_as_pytorch(torch, recwarn):
    """Without create_graph PyTorch adds into ``.grad`` in place: a reference taken after the
    first backward sees the sum (and the version moves); with create_graph it is a new tensor."""
    seen = []
    for lib in (tc, torch):
        w = lib.tensor(np.arange(6.0).reshape(2, 3)).t().requires_grad_()  # a transposed leaf
        (w * 2).sum().backward()
        first, version = w.grad, w.grad._version
        (w * w).sum().backward()
        seen.append((first is w.grad, first.numpy().copy(), w.grad.stride(), w.grad._version - version))
        (w * w).sum().backward(create_graph=True)
        seen.append((first is w.grad,))
    (same, values, strides, bumps), (new,) = seen[:2]
    assert (same, strides, bumps, new) == (seen[2][0], seen[2][2], seen[2][3], seen[3][0])
    np.testing.assert_array_equal(values, seen[2][1])


def test_a_leaf_used_twice_has_its_hooks_called_once_with_the_whole_gradient(torch):
    """PyTorch sums a leaf's gradient (its InputBuffer) before AccumulateGrad runs its hooks: a
    hook that clamps a shared weight's gradient clamps the sum, not each use's part (which
    gave 2 where PyTorch gives 1 here), and a post-accumulate hook runs once."""
    results = []
    for lib in (tc, torch):
        w = lib.ones(2, requires_grad=True)
        calls = []
        w.register_hook(lambda g, calls=calls: calls.append(g.numpy().copy()) or g.clamp(-1, 1))
        w.register_post_accumulate_grad_hook(lambda t, calls=calls: calls.append("accumulated"))
        (w * w * 3 + w).sum().backward()
        results.append((w.grad.numpy(), calls))
    (ours, our_calls), (theirs, their_calls) = results
    np.testing.assert_array_equal(ours, theirs)
    assert len(our_calls) == len(their_calls) == 2 and our_calls[1] == their_calls[1] == "accumulated"
    np.testing.assert_array_equal(our_calls[0], their_calls[0])


def test_pytorchs_warning_for_a_non_leafs_grad_and_error_for_an_integer_leaf(torch):
    for lib in (tc, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        y.sum().backward()
        with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf Tensor"):
            assert y.grad is None
        y2 = x * 3
        y2.retain_grad()
        y2.sum().backward()
        assert y2.grad is not None and x.grad is not None  # (no warning: retained, and a leaf)
        with pytest.raises(RuntimeError):  # PyTorch's type; ours derives from TypeError too
            lib.tensor([1, 2]).requires_grad_()


@pytest.mark.parametrize("case", ["item of two elements", "truth value of two elements", "float class targets",
                                  "a state dict missing keys"])
def test_errors_that_pytorch_raises_as_runtime_error_are_caught_as_one(torch, case):
    """An ``except RuntimeError`` written for PyTorch catches ours (each class also derives
    from the Python convention's ValueError or TypeError)."""
    programs = {
        "item of two elements": lambda t: t.ones(2).item(),
        "truth value of two elements": lambda t: bool(t.ones(2)),
        "float class targets": lambda t: t.nn.functional.cross_entropy(t.ones(2, 3), t.tensor([0.0, 1.0])),
        "a state dict missing keys": lambda t: t.nn.Linear(3, 2).load_state_dict({}),
    }
    for lib in (torch, tc):
        with pytest.raises(RuntimeError):
            programs[case](lib)


def test_softmax_without_dim_softmin_softmax2d_and_dtype_as_pytorch(torch):
    """Old programs call ``F.log_softmax(x)`` with no dim: PyTorch picks 0 for 0-, 1- and 3-D
    input, else 1, and warns; ``dtype=`` casts first; ``softmin`` and ``Softmax2d`` exist."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for shape in [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        data = np.random.default_rng(1).standard_normal(shape)
        for name in ("softmax", "log_softmax", "softmin"):
            with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
                ours = getattr(F, name)(tc.tensor(data))
            with pytest.warns(UserWarning):
                theirs = getattr(torch.nn.functional, name)(torch.tensor(data))
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(tc.nn.LogSoftmax()(tc.tensor(x)).numpy(),
                                   torch.nn.LogSoftmax()(torch.tensor(x)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tc.nn.Softmax2d()(tc.tensor(x)).numpy(),
                               torch.nn.Softmax2d()(torch.tensor(x)).numpy(), rtol=1e-12)
    ours = F.softmax(tc.tensor(x).float(), -1, dtype=tc.float64)
    assert ours.dtype == tc.float64
    np.testing.assert_allclose(ours.numpy(), torch.nn.functional.softmax(
        torch.tensor(x).float(), -1, dtype=torch.float64).numpy(), rtol=1e-12)


def test_assigning_a_plain_tensor_to_a_parameter_is_refused_as_pytorch(torch):
    """PyTorch refuses it (a Tensor is not a Parameter); ours used to drop the parameter
    silently, so an optimiser built afterwards never updated it. None keeps the slot."""
    for lib in (tc, torch):
        model = lib.nn.Linear(2, 2)
        with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'weight' "
                                             r"\(torch.nn.Parameter or None expected\)"):
            model.weight = lib.ones(2, 2)
        model.weight = lib.nn.Parameter(lib.zeros(2, 2))
        model.bias = None
        assert [name for name, _ in model.named_parameters()] == ["weight"] and model.bias is None
        assert list(model.state_dict()) == ["weight"]
        with pytest.raises(TypeError, match="cannot assign 'int' as child module '0'"):
            setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", 3)


def test_softplus_gradient_at_nan_is_nan_as_pytorch(torch):
    """The 100,000-program run of the sixth session: softplus of a NaN (a mean over only
    ignored targets) gave a 0 gradient; PyTorch's is grad * sigmoid(NaN), NaN."""
    grads = []
    for lib in (tc, torch):
        x = lib.tensor([np.nan, 1.0, 30.0], requires_grad=True)
        with np.errstate(invalid="ignore"):
            lib.nn.functional.softplus(x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


@pytest.mark.parametrize("loss", ["huber_loss", "smooth_l1_loss"])
def test_huber_and_smooth_l1_second_derivatives_at_the_boundary_as_pytorch(torch, loss):
    """The 100,000-program run of the sixth session: where |input - target| equals delta (beta),
    PyTorch's second derivative is the linear branch's (0); huber_loss took the quadratic one."""
    x0, t0 = np.array([1.0, 0.5, 3.0, -2.0]), np.array([2.0, 0.0, 1.0, -1.0])
    results = []
    for lib in (tc, torch):
        x, t = lib.tensor(x0, requires_grad=True), lib.tensor(t0, requires_grad=True)
        (gx,) = lib.autograd.grad(getattr(lib.nn.functional, loss)(x, t, reduction="sum"), [x], create_graph=True)
        results.append([g.numpy() for g in lib.autograd.grad((gx ** 2).sum(), [x, t])] + [gx.detach().numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("loss,setting", [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
def test_huber_and_smooth_l1_second_derivatives_pass_a_nan_on_as_pytorch(torch, loss, setting):
    """The 100,000-program run of the seventh session: a NaN arriving at the second derivative
    (here from a vector norm's backward at 0) stays NaN in both branches, as PyTorch's double
    backward multiplies by the quadratic branch's mask; the composite selected 0 in the linear
    branch."""
    target = np.array([0.3, -2.5, 0.8, 1.7, -0.2])
    results = []
    for lib in (tc, torch):
        x = lib.tensor(np.zeros((5, 4)), requires_grad=True)
        t = lib.tensor(target, requires_grad=True)
        norm = lib.linalg.vector_norm(x.min(dim=-1, keepdim=True)[0], ord=3, dim=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            loss_value = getattr(lib.nn.functional, loss)(norm, t, reduction="none", **{setting: 1.0})
            first = lib.autograd.grad(loss_value.sum(), [x, t], create_graph=True)
            second = lib.autograd.grad(sum((g * g).sum() for g in first), [x, t])
        results.append([g.detach().numpy() for g in (*first, *second)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert np.isnan(results[0][3]).all()  # entries 1 and 3 take the linear branch


def test_softplus_derivatives_at_its_threshold_as_pytorch(torch):
    """The fuzzer, after its op table grew (seventh session): where beta * x equals the
    threshold, PyTorch's first derivative is the smooth branch's and its second derivative 0
    (softplus_double_backward masks with beta * x < threshold); the composite gave the smooth
    branch's second derivative too."""
    x0 = np.array([0.5, -0.5, 0.25, 3.0])  # beta * x = 1 = threshold at the first
    results = []
    for lib in (tc, torch):
        x = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad(lib.nn.functional.softplus(x, beta=2, threshold=1).sum(), [x], create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), [x])
        results.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_binary_cross_entropy_is_laid_out_as_its_input(torch):
    """The fuzzer, after its op table grew: PyTorch's kernel writes into empty_like(input), so a
    channels-last input gives a channels-last loss, and flatten(1) after it copies (ours was
    row-major, and flatten returned a view)."""
    rng = np.random.default_rng(0)
    p0, t0 = rng.uniform(0.1, 0.9, (4, 2, 1, 4)), rng.uniform(0.1, 0.9, (4, 2, 1, 4))
    strides = []
    for lib in (tc, torch):
        p = lib.tensor(p0).contiguous(memory_format=lib.channels_last)
        loss = lib.nn.functional.binary_cross_entropy(p, lib.tensor(t0), reduction="none")
        strides.append((loss.stride(), loss.flatten(1).is_contiguous()))
    assert strides[0] == strides[1]


@pytest.mark.parametrize("weights", ["none", "pos_weight", "weight"])
def test_bce_with_logits_under_an_infinite_gradient_as_pytorch(torch, weights):
    """The 100,000-program run at 87f78ec: an infinite gradient reaching
    binary_cross_entropy_with_logits (from an overflowing 2 ** x after it) gave NaN, as the
    composite subtracted inf from inf; PyTorch's fused backward, grad * (sigmoid(x) - t), gives
    +-inf, and grad * -x for the target."""
    x0, t0 = np.array([[0.5, -1.0, 3.0], [-2.0, 0.25, 0.0]]), np.array([[1.0, 0.0, 0.3], [0.9, 0.5, 0.0]])
    class_weight = np.array([0.5, 2.0, 1.5])
    results = []
    for lib in (tc, torch):
        x, t = lib.tensor(x0, requires_grad=True), lib.tensor(t0, requires_grad=True)
        extra = {} if weights == "none" else {weights: lib.tensor(class_weight)}
        loss = lib.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none", **extra)
        with np.errstate(all="ignore"):
            loss.backward(lib.tensor(np.full((2, 3), np.inf)))
        results.append((x.grad.numpy(), t.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)
    assert np.isinf(results[0][0]).all()


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2, 3)])
@pytest.mark.parametrize("weights", ["none", "pos_weight", "weight", "both"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_values_and_derivatives_of_both_orders(shape, weights, reduction):
    """Forward against the textbook formula with sigmoid; gradcheck and gradgradcheck in the
    logits and the target (PyTorch differentiates both, and neither weight)."""
    rng = np.random.default_rng(len(shape))
    x0 = rng.standard_normal(shape) * 3
    t0 = rng.random(shape)
    extra = {}
    if weights in ("pos_weight", "both"):
        extra["pos_weight"] = rng.random(shape[-1:]) + 0.5
    if weights in ("weight", "both"):
        extra["weight"] = rng.random(shape[-1:]) + 0.5
    s = 1 / (1 + np.exp(-x0))
    reference = -extra.get("weight", 1.0) * (extra.get("pos_weight", 1.0) * t0 * np.log(s) + (1 - t0) * np.log(1 - s))
    reference = reference.mean() if reduction == "mean" else reference.sum() if reduction == "sum" else reference
    settings = {name: Tensor(value) for name, value in extra.items()}

    def loss(x, t):
        return F.binary_cross_entropy_with_logits(x, t, reduction=reduction, **settings)

    np.testing.assert_allclose(loss(Tensor(x0), Tensor(t0)).numpy(), reference, rtol=1e-12)
    leaves = (Tensor(x0, requires_grad=True), Tensor(t0, requires_grad=True))
    assert tc.gradcheck(loss, leaves)
    assert tc.gradgradcheck(loss, leaves)


@pytest.mark.parametrize("name", ["weight", "pos_weight"])
def test_bce_with_logits_refuses_weights_that_require_grad_as_pytorch(torch, name):
    """PyTorch's loss is not differentiable in either weight and says so in forward; ours
    accepted one and gave it a gradient."""
    for lib in (tc, torch):
        x, t = lib.zeros(2, 3, requires_grad=True), lib.ones(2, 3)
        with pytest.raises(RuntimeError, match=f"not differentiable with respect to argument '{name}'"):
            lib.nn.functional.binary_cross_entropy_with_logits(x, t, **{name: lib.ones(3, requires_grad=True)})
        with lib.no_grad():
            lib.nn.functional.binary_cross_entropy_with_logits(x, t, **{name: lib.ones(3, requires_grad=True)})


def test_new_dimensions_have_pytorchs_strides(torch):
    """The 100,000-program run at 4f9dc3c: stack's unsqueeze gave a new last dimension the stride
    of the one before it, where PyTorch's unsqueeze gives 1; the inputs then read as
    channels-last, the stacked result was laid out so, and ``contiguous()`` of it copied where
    PyTorch's returned it. NumPy's ``None`` index gave new dimensions a stride of 0."""
    indexings = [lambda x: x[None], lambda x: x[:, None], lambda x: x[..., None], lambda x: x[None, None],
                 lambda x: x[0, None], lambda x: x[None, ..., None, 1], lambda x: x[::2, None, 1:, None],
                 lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(-1), lambda x: x.permute(1, 2, 0).unsqueeze(-1),
                 lambda x: x.permute(1, 2, 0)[None], lambda x: x.permute(1, 2, 0).unsqueeze(1)]
    for index in indexings:
        assert index(tc.zeros(3, 4, 5)).stride() == index(torch.zeros(3, 4, 5)).stride()
    assert tc.zeros(())[None, None].stride() == torch.zeros(())[None, None].stride()
    values = np.random.default_rng(0).standard_normal((4, 5)).T.copy().T  # memory in column order
    for lib in (tc, torch):
        a = lib.tensor(values) if lib is tc else torch.from_numpy(values)
        stacked = lib.stack([a + lib.zeros(2, 4, 5, dtype=a.dtype)] * 2, dim=-1)
        assert stacked.stride() == (40, 10, 2, 1) and stacked.contiguous() is stacked


@pytest.mark.parametrize("dim", [0, 1])
def test_the_standard_deviation_of_equal_values_is_zero_with_a_zero_gradient(torch, dim):
    """The 100,000-program run at 4f9dc3c: three copies of -0.3587326517424646 averaged to a
    value a unit off them, so std was 5.6e-17 and its gradient -1/3; PyTorch's Welford kernel
    gives 0 and the gradient 0 along dimension 0 (along the innermost it is as inexact as ours
    was: ``fuzz.TORCH_BUGS``). Ours is exact along any dimension."""
    value = -0.3587326517424646
    x = tc.tensor(np.full((3, 3), value), requires_grad=True)
    assert (x.var(dim, unbiased=False).numpy() == 0).all()
    result = x.std(dim, unbiased=False)
    assert (result.numpy() == 0).all()
    (gradient,) = tc.autograd.grad(result.sum(), [x])
    assert (gradient.numpy() == 0).all()
    theirs = torch.tensor(np.full((3, 3), value), requires_grad=True)
    if dim == 0:
        theirs.std(0, unbiased=False).sum().backward()
        assert (theirs.grad.numpy() == 0).all()


@pytest.mark.parametrize("transposed", [False, True])
def test_a_nan_meeting_convolution_padding_gives_pytorchs_float64_gradient(torch, transposed):
    """The 100,000-program run at 4f9dc3c: in float32 PyTorch's weight gradient skips the taps
    that meet only padding (0 there), in float64 it multiplies the padding's zeros by the NaN
    (NaN). Ours is float64's in both dtypes (``fuzz.TORCH_BUGS``)."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((2, 2, 5, 1))
    x0[0, 0, 0, 0] = np.nan
    w0 = rng.standard_normal((2, 2, 3, 3))
    grads = {}
    for lib, dtype in ((torch, "float64"), (tc, "float64"), (tc, "float32")):
        x = lib.tensor(x0.astype(dtype))
        w = lib.tensor(w0.astype(dtype), requires_grad=True)
        if transposed:
            y = lib.nn.functional.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
        else:
            y = lib.nn.functional.conv2d(x, w, padding=1)
        with np.errstate(invalid="ignore"):
            y.backward(lib.tensor(rng.standard_normal(tuple(y.shape)).astype(dtype)))
        grads[(lib.__name__, dtype)] = np.isnan(w.grad.numpy())
    assert np.array_equal(grads[("tinygrad_cnn", "float64")], grads[("torch", "float64")])
    assert np.array_equal(grads[("tinygrad_cnn", "float32")], grads[("torch", "float64")])


def test_hardswish_second_derivative_beyond_minus_three_under_a_nan_gradient(torch):
    """The CI fuzzer after the op table grew (eighth session): |hardswish(x)| ** 0.78 at
    hardswish(x) = 0 sends a NaN gradient back; PyTorch's double backward of hardswish selects 0
    beyond -3, where ours multiplied the NaN by 0 (the backward was a composite)."""
    x0 = np.array([-7.4, -1.2, 0.5, 2.9, 4.0])
    results = []
    for lib in (tc, torch):
        x = lib.tensor(x0, requires_grad=True)
        with np.errstate(all="ignore"):
            y = lib.nn.functional.hardswish(x).abs() ** 0.78
            (g,) = lib.autograd.grad(y.sum(), [x], create_graph=True)
            (h,) = lib.autograd.grad((g * lib.tensor([0.3, -1.0, 0.7, 1.1, 0.2])).sum(), [x])
        results.append((g.detach().numpy(), h.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert results[0][1][0] == 0


@pytest.mark.parametrize("strides", [(9, 1, 1, 3), (60, 1, 15, 3), (120, 1, 15, 3), (9, 9, 3, 1), (1, 2, 6, 24)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_lays_out_its_result_as_pytorchs(torch, strides, training):
    """The 100,000-program run at 965ab17: an input of shape (1, 3, 1, 3) with strides
    (9, 1, 1, 3) is channels-last contiguous (its size-1 dimensions aside), so PyTorch's batch
    norm result is channels-last, and view(1, -1) of it is refused; ours was row-major, and
    viewed. PyTorch: row-major for a row-major input, else channels-last where the input is
    channels-last contiguous or suggests it."""
    shape = (1, 3, 1, 3) if strides[0] == 9 else (2, 1, 3, 3) if strides[1] == 9 else (2, 3, 4, 5)
    memory = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    array = np.lib.stride_tricks.as_strided(memory, shape, tuple(4 * s for s in strides))
    theirs = torch.nn.functional.batch_norm(torch.from_numpy(memory).as_strided(shape, strides),
                                            torch.zeros(shape[1]), torch.ones(shape[1]), training=training)
    ours = F.batch_norm(Tensor(array), tc.zeros(shape[1]), tc.ones(shape[1]), training=training)
    assert ours.stride() == theirs.stride()


@pytest.mark.parametrize("call", [
    lambda t: t.nn.functional.conv_transpose2d(t.ones(4, 0, 1, 1), t.ones(0, 2, 2, 2)),
    lambda t: t.nn.functional.conv2d(t.ones(1, 2, 3, 3), t.ones(0, 2, 1, 1)),
    lambda t: t.nn.functional.interpolate(t.ones(2, 4, 0, 4), size=(3, 3), mode="bilinear"),
    lambda t: t.nn.functional.interpolate(t.ones(2, 0, 2, 4), size=(3, 3)),
], ids=["conv_transpose2d_no_weights", "conv2d_no_weights", "interpolate_empty_image", "interpolate_no_channels"])
def test_empty_weights_and_images_are_refused_as_pytorch_refuses(torch, call):
    """The 100,000-program run at 965ab17: a ZeroDivisionError, a NumPy reshape error and an
    IndexError from inside, where PyTorch raises a RuntimeError naming the problem."""
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=r"^(conv2d|conv_transpose2d|interpolate): "):
        call(tc)


def test_cross_entropy_with_probabilities_over_no_elements_has_pytorchs_mean(torch):
    """The 100,000-program run at 965ab17: logits of shape (2, 0) with class probabilities gave a
    mean of 0, PyTorch's is NaN (it divides by the elements per class); label smoothing over no
    classes raised ZeroDivisionError."""
    for smoothing in (0.0, 0.1):
        results = []
        for lib in (tc, torch):
            x = lib.zeros(2, 0, requires_grad=True)
            results.append([float(lib.nn.functional.cross_entropy(x, lib.zeros(2, 0), reduction=r,
                                                                   label_smoothing=smoothing).detach().sum())
                            for r in ("mean", "sum", "none")])
        np.testing.assert_array_equal(results[0], results[1])
        assert np.isnan(results[0][0])


@pytest.mark.parametrize("name", ["elu_", "selu_"])
def test_in_place_elu_reads_its_result_as_pytorch(torch, name):
    """The op table's new entries (eighth session): PyTorch's elu_ and selu_ save their result,
    so a later in-place change of it makes backward refuse; ours saved a copy of the input and
    ran. First and second derivatives stay PyTorch's."""
    x0 = np.array([-2.0, -0.5, 0.0, 0.7, 1.5])
    results = []
    for lib in (tc, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 1
        getattr(lib.nn.functional, name)(y)
        (g,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [x], retain_graph=True)
        results.append((g.detach().numpy(), h.numpy()))
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_lerp_refuses_mixed_dtypes_as_pytorch(torch):
    """The op table's new entries: PyTorch's lerp does not promote (``end``, and a weight tensor
    that is not 0-d, must have the input's dtype); ours promoted."""
    for lib in (tc, torch):
        x, y = lib.ones(2, dtype=lib.float64), lib.ones(2)
        with pytest.raises(RuntimeError, match="expected dtype .* for `end`"):
            lib.lerp(x, y, 0.3)
        with pytest.raises(RuntimeError, match="expected dtype .* for `weight`"):
            lib.lerp(x, x, y)
        assert lib.lerp(y, y, lib.tensor(0.5, dtype=lib.float64)).dtype == lib.float32


@pytest.mark.parametrize("layout", ["strided", "contiguous", "channels_last"])
def test_pixel_shuffles_give_new_memory_laid_out_as_pytorchs(torch, layout):
    """The op table's new entries: pixel_unshuffle of (3, 2, 2, 2) is reshapes that are views
    (the permutation moves only size-1 dimensions), so ours shared the input's memory, where
    PyTorch's kernel writes new memory in the input's suggested format."""
    import fuzz

    for shape, op in (((3, 2, 2, 2), "pixel_unshuffle"), ((3, 4, 4, 6), "pixel_shuffle"), ((2, 8, 3, 1), "pixel_shuffle")):
        array = fuzz.in_layout(np.random.default_rng(0).standard_normal(shape), layout)
        ours = getattr(F, op)(Tensor(array), 2)
        theirs = getattr(torch.nn.functional, op)(torch.from_numpy(array), 2)
        assert not np.shares_memory(ours.numpy(), array)
        assert ours.stride() == theirs.stride()
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_add_and_sub_take_alpha_as_pytorch(torch):
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    for lib in (tc, torch):
        a, b = lib.tensor(x), lib.tensor(y)
        np.testing.assert_array_equal(lib.add(a, b, alpha=2).numpy(), x + 2 * y)
        np.testing.assert_array_equal(lib.sub(a, b, alpha=3).numpy(), x - 3 * y)


def test_a_float32_norm_does_not_overflow_where_its_squares_would(torch):
    """The 100,000-program run at 32045e1: PyTorch's float32 2-norm of values above 1.8e19 is
    inf (the squares overflow; ``fuzz.TORCH_BUGS``); ours is the norm, as float64 gives it."""
    values = np.array([3e20, 4e20], dtype=np.float32)
    assert np.isinf(torch.from_numpy(values).norm().item())
    assert tc.tensor(values).norm().item() == pytest.approx(5e20, rel=1e-6)
    assert tc.linalg.vector_norm(tc.tensor(values)).item() == pytest.approx(5e20, rel=1e-6)


# --------------------------------------------------------------------------- the 100,000-program run at a9cab13

def test_lerp_rounds_as_pytorchs_two_sided_formula(torch):
    """lerp/tensor differed by 3.3e-16 in float64 where the result cancels: ours computed
    input + w * (end - input) for every weight, PyTorch end - (end - input) * (1 - w) where
    |w| >= 0.5. At w = 1 that gives ``end`` exactly, in both libraries now."""
    rng = np.random.default_rng(0)
    x, end = rng.standard_normal(1000) * 1e3, rng.standard_normal(1000) * 1e-3
    for weight in (1.0, tc.ones(1000, dtype=tc.float64)):
        got = tc.lerp(tc.tensor(x), tc.tensor(end), weight).numpy()
        np.testing.assert_array_equal(got, end)
    theirs = torch.lerp(torch.from_numpy(x), torch.from_numpy(end), 1.0).numpy()
    np.testing.assert_array_equal(theirs, end)


def test_one_hot_is_new_row_major_memory_whatever_the_index_layout(torch):
    """one_hot of a permuted index kept the index's layout (NumPy's comparison follows it), so
    reshape_as copied where PyTorch's (zeros, then a scatter) is a view."""
    index = np.ascontiguousarray(np.array([[0, 2], [1, 1], [2, 0]]).T).T  # column-major memory
    ours = tc.nn.functional.one_hot(tc.from_numpy(index), 3)
    theirs = torch.nn.functional.one_hot(torch.from_numpy(index), 3)
    assert ours.stride() == theirs.stride() == (6, 3, 1)
    assert ours.reshape_as(tc.zeros(6, 3)).data_ptr() == ours.data_ptr()
