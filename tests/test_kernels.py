"""Every kernel equals the plain-NumPy reference beside it, on both memory layouts, on one
thread and on two (with even the smallest work split), for several settings and odd sizes."""
import inspect
import itertools

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.kernels.threads as threads
from tinygrad_cnn import kernels, windows
from tinygrad_cnn.kernels import conv, elementwise, linalg, norm, pool, reduce
from tinygrad_cnn.kernels import layout as layouts
from tinygrad_cnn.kernels.conv import dispatch, im2col, planner
from tinygrad_cnn.testing import references

MODULES = (dispatch, elementwise, linalg, norm, pool, reduce, layouts)


@pytest.fixture(params=[1, 2], ids=["1 thread", "2 threads"])
def thread_count(request, monkeypatch):
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1)
    tc.set_num_threads(request.param)
    return request.param


def rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def channels_last(array):
    """The same NCHW values held in channels-last memory, as convolutions produce them."""
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


LAYOUTS = {"NCHW": lambda a: a, "channels-last": channels_last}


def close(got, expected, dtype):
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def kernels_with_references():
    """The name of every function in the kernel modules that has a ``_reference`` beside it."""
    for module in MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and hasattr(module, name + "_reference"):
                yield name


COVERED = {  # the kernels the tests below hold to their references
    "conv2d", "conv2d_weight", "conv_transpose2d", "max_pool2d", "max_pool2d_scatter",
    "batch_norm_statistics", "batch_norm_backward", "relu", "clip", "threshold_backward", "hardtanh_backward",
    "scale_shift_channels", "scale_add_into", "matmul", "matmul_inner", "grouped_matmul", "grouped_matmul_inner",
    "sum_axes", "view_positions", "diagonal_view",
}


# --------------------------------------------------------------------------- convolution

CONV_CASES = [  # (N, C, H, W), out channels, kernel, stride, padding, dilation, groups
    ((2, 3, 7, 6), 4, (3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((3, 4, 9, 8), 6, (3, 2), (2, 1), (1, 2), (1, 1), 2),
    ((1, 4, 8, 9), 4, (2, 3), (1, 2), (1, 0), (2, 1), 4),
    ((2, 1, 5, 5), 3, (1, 1), (1, 1), (0, 0), (1, 1), 1),
    ((2, 6, 11, 7), 3, (3, 3), (3, 2), (2, 1), (2, 2), 3),
    ((5, 6, 9, 7), 6, (3, 3), (2, 2), (1, 1), (1, 1), 6),  # depthwise: per-offset multiply-adds
    ((2, 4, 9, 8), 4, (3, 2), (2, 3), (2, 1), (2, 2), 4),  # depthwise, dilated, column stride 3
    ((3, 5, 6, 6), 5, (3, 3), (1, 1), (1, 1), (1, 1), 5),  # depthwise, stride 1
    ((3, 5, 6, 8), 10, (3, 3), (1, 1), (1, 1), (1, 1), 5),  # two outputs per channel: im2col
    ((2, 5, 4, 3), 7, (1, 1), (1, 1), (0, 0), (1, 1), 1),   # 1x1: channels-last x is its own im2col
    ((3, 6, 5, 4), 4, (1, 1), (1, 1), (0, 0), (2, 2), 2),   # 1x1 in groups
    ((2, 6, 3, 3), 20, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # fewer output pixels than out channels:
    ((2, 8, 4, 4), 16, (3, 3), (2, 2), (1, 1), (1, 1), 1),  # columns in the weight's order
    ((1, 4, 3, 2), 24, (2, 2), (1, 1), (1, 0), (1, 1), 2),
    ((1, 24, 2, 2), 6, (3, 3), (1, 1), (1, 1), (1, 1), 3),  # transposed: one product with the weight
    ((2, 9, 6, 5), 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),   # transposed, stride 1: more channels in
    ((2, 8, 7, 7), 5, (3, 2), (1, 1), (2, 1), (2, 2), 1),   # than out scatter per offset; as many,
    ((1, 12, 5, 6), 3, (2, 3), (1, 1), (0, 0), (1, 1), 1),  # with enough pixels, run as a convolution
    ((2, 4, 8, 8), 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((2, 5, 9, 8), 6, (3, 3), (2, 1), (1, 1), (2, 1), 1),   # narrow: two output pixels per im2col row
    ((2, 5, 1, 1), 6, (3, 3), (1, 1), (1, 1), (1, 1), 1),   # offsets that only see padding:
    ((2, 4, 1, 5), 3, (3, 3), (1, 1), (1, 1), (1, 1), 1),   # one live row; both axes; dilated;
    ((1, 3, 2, 2), 4, (3, 3), (1, 1), (2, 2), (2, 2), 1),   # a strided axis keeps every offset
    ((2, 4, 1, 4), 4, (3, 3), (1, 2), (1, 1), (1, 1), 2),
]


def conv_inputs(case, layout, dtype=np.float64, transposed=False):
    """x, weight and bias for a case (the weight laid out for conv_transpose2d when asked)."""
    shape, o, k, s, p, d, g = case
    x = LAYOUTS[layout](rand(shape, 0, dtype))
    weight_shape = (shape[1], o // g) + k if transposed else (o, shape[1] // g) + k
    return x, rand(weight_shape, 1, dtype), rand((o,), 2, dtype)


def transposed_output_hw(case):
    shape, o, k, s, p, d, g = case
    return tuple(windows.transposed_output_size(shape[2 + a], k[a], s[a], p[a], d[a], 0) for a in range(2))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("cache_block", [1, im2col.CACHE_BLOCK], ids=["a sample a block", "blocks of samples"])
def test_planned_convolutions_equal_the_references(thread_count, layout, dtype, case, with_bias, cache_block,
                                                   monkeypatch):
    """The planner's choices, chained as the primitives chain them: the forward's im2col
    reused by the weight gradient, which also gives the bias gradient."""
    monkeypatch.setattr(im2col, "CACHE_BLOCK", cache_block)  # im2col rows copied and multiplied in blocks
    shape, o, k, s, p, d, g = case
    x, w, b = conv_inputs(case, layout, dtype)
    b = b if with_bias else None
    out, columns = conv.conv2d(x, w, b, s, p, d, g)
    expected = conv.conv2d_reference(x, w, b, s, p, d, g)
    close(out, expected, dtype)
    close(conv.conv2d(x, w, b, s, p, d, g, columns_wanted=False)[0], expected, dtype)  # inference paths
    grad_out = rand(expected.shape, 3, dtype)
    expected_w, expected_b = conv.conv2d_weight_reference(x, grad_out, k, s, p, d, g)
    close(conv.conv2d_weight(x, grad_out, k, s, p, d, g, columns), expected_w, dtype)
    close(conv.conv2d_weight(x, LAYOUTS[layout](grad_out), k, s, p, d, g), expected_w, dtype)
    # the bias gradient: from the columns' ones entry when the forward folded a bias in, else a sum
    for given in (columns, None):
        got_w, got_b = conv.conv2d_weight(x, LAYOUTS[layout](grad_out), k, s, p, d, g, given, with_bias=True)
        close(got_w, expected_w, dtype)
        close(got_b, expected_b, dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CONV_CASES)
def test_planned_transposed_convolutions_equal_the_reference(thread_count, layout, case):
    shape, o, k, s, p, d, g = case
    x, w, b = conv_inputs(case, layout, transposed=True)
    out_hw = transposed_output_hw(case)
    close(conv.conv_transpose2d(x, w, b, out_hw, s, p, d, g),
          conv.conv_transpose2d_reference(x, w, b, out_hw, s, p, d, g), np.float64)


def conv_problem(computes, case, layout):
    shape, o, k, s, p, d, g = case
    x = LAYOUTS[layout](np.zeros(shape))
    if computes == "conv_transpose2d":
        return planner.Problem.of(computes, x, (shape[1], o // g) + k, transposed_output_hw(case), s, p, d, g)
    out_hw = windows.output_hw(shape, k, s, p, d)
    return planner.Problem.of(computes, x, (o, shape[1] // g) + k, out_hw, s, p, d, g,
                              columns_given=computes == "conv2d_weight")


def can_run(computes, backend, case, layout):
    return next(b for b in planner.BACKENDS[computes] if b.name == backend).runs(conv_problem(computes, case, layout))


def backend_cases(computes):
    """Every (backend, case, layout) of CONV_CASES that the backend can run; the reference,
    which they are held to, is held to the loops below."""
    for backend in planner.BACKENDS[computes][:-1]:
        for number, case in enumerate(CONV_CASES):
            for layout in LAYOUTS:
                if backend.runs(conv_problem(computes, case, layout)):
                    yield pytest.param(backend.name, case, layout, id=f"{backend.name}-case{number}-{layout}")


@pytest.mark.parametrize("computes", planner.BACKENDS)
def test_every_backend_runs_on_several_cases(computes):
    """Each backend is held to the reference below on several cases, not only where a shape
    happens to lead the planner to it."""
    runs = {name: 0 for name in (b.name for b in planner.BACKENDS[computes][:-1])}
    for param in backend_cases(computes):
        runs[param.values[0]] += 1
    assert min(runs.values()) >= 4, runs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend,case,layout", backend_cases("conv2d"))
def test_each_conv2d_backend_equals_the_reference(thread_count, backend, case, layout, dtype):
    shape, o, k, s, p, d, g = case
    x, w, b = conv_inputs(case, layout, dtype)
    for bias in (b, None):
        expected = conv.conv2d_reference(x, w, bias, s, p, d, g)
        for keep in (True, False):
            close(conv.conv2d(x, w, bias, s, p, d, g, columns_wanted=keep, backend=backend)[0], expected, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend,case,layout", backend_cases("conv2d_weight"))
def test_each_weight_gradient_backend_equals_the_reference(thread_count, backend, case, layout, dtype):
    shape, o, k, s, p, d, g = case
    x, w, b = conv_inputs(case, layout, dtype)
    grad_out = LAYOUTS[layout](rand(conv.conv2d_reference(x, w, None, s, p, d, g).shape, 3, dtype))
    weight, bias_grad = conv.conv2d_weight_reference(x, grad_out, k, s, p, d, g)
    sources = [None]
    if backend == "saved im2col":  # the forward backends that keep x's im2col, with and without a folded bias
        sources = [name for name in ("im2col", "im2col blocked") if can_run("conv2d", name, case, layout)]
    for source in sources:
        for bias in (b, None):
            columns = None if source is None else conv.conv2d(x, w, bias, s, p, d, g, backend=source)[1]
            got_w, got_b = conv.conv2d_weight(x, grad_out, k, s, p, d, g, columns, with_bias=True, backend=backend)
            close(got_w, weight, dtype)
            close(got_b, bias_grad, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend,case,layout", backend_cases("conv_transpose2d"))
def test_each_transposed_backend_equals_the_reference(thread_count, backend, case, layout, dtype):
    shape, o, k, s, p, d, g = case
    x, w, b = conv_inputs(case, layout, dtype, transposed=True)
    out_hw = transposed_output_hw(case)
    for bias in (b, None):
        close(conv.conv_transpose2d(x, w, bias, out_hw, s, p, d, g, backend=backend),
              conv.conv_transpose2d_reference(x, w, bias, out_hw, s, p, d, g), dtype)


@pytest.mark.parametrize("case", CONV_CASES)
def test_the_reference_backends_equal_the_seed_loops(case):
    """The einsum references against ``testing.references``' loops (the seed document's), and
    the weight gradient's as the adjoint of the convolution in the weight:
    <conv2d_weight(x, y), v> == <conv2d(x, v), y>."""
    assert planner.BACKENDS["conv2d"][-1].name == "reference"
    shape, o, k, s, p, d, g = case
    x, w, b = conv_inputs(case, "NCHW")
    out = conv.conv2d(x, w, b, s, p, d, g, backend="reference")[0]
    close(out, references.conv2d(x, w, b, s, p, d, g), np.float64)
    y = rand(out.shape, 3)
    weight, bias = conv.conv2d_weight(x, y, k, s, p, d, g, with_bias=True, backend="reference")
    close(np.vdot(weight, w), np.vdot(conv.conv2d(x, w, None, s, p, d, g, backend="reference")[0], y), np.float64)
    close(bias, y.sum((0, 2, 3)), np.float64)
    x, w, b = conv_inputs(case, "NCHW", transposed=True)
    close(conv.conv_transpose2d(x, w, b, transposed_output_hw(case), s, p, d, g, backend="reference"),
          references.conv_transpose2d(x, w, b, s, p, (0, 0), g, d), np.float64)


def test_conv_transpose2d_reference_is_the_adjoint_of_conv2d_reference():
    """<conv2d(x), y> == <x, conv_transpose2d(y)>: the two references agree with each other."""
    shape, o, k, s, p, d, g = CONV_CASES[1]
    x, w = rand(shape, 0), rand((o, shape[1] // g) + k, 1)
    y = rand(conv.conv2d_reference(x, w, None, s, p, d, g).shape, 2)
    back = conv.conv_transpose2d_reference(y, w, None, shape[2:], s, p, d, g)
    np.testing.assert_allclose(np.vdot(conv.conv2d_reference(x, w, None, s, p, d, g), y), np.vdot(x, back))


# --------------------------------------------------------------------------- pooling

POOL_CASES = [  # kernel, stride, padding, dilation, ceil_mode
    ((2, 2), (2, 2), (0, 0), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), False),
    ((3, 2), (1, 2), (1, 0), (1, 1), False),
    ((1, 1), (1, 1), (0, 0), (1, 1), False),
    ((2, 2), (2, 2), (0, 0), (1, 1), True),
    ((3, 2), (2, 3), (1, 1), (2, 1), True),
    ((2, 3), (3, 2), (0, 1), (2, 2), False),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_kernels(thread_count, layout, case, ties):
    k, s, p, d, ceil_mode = case
    x = rand((3, 4, 9, 7), 0, np.float32)
    if ties:
        x = np.round(x)  # many equal values per window: the first maximum must win
    x = LAYOUTS[layout](x)
    out_hw = windows.output_hw(x.shape, k, s, p, d, ceil_mode)
    best, argmax = pool.max_pool2d(x, k, s, p, d, out_hw, with_argmax=True)
    expected, expected_argmax = pool.max_pool2d_reference(x, k, s, p, d, out_hw, with_argmax=True)
    np.testing.assert_array_equal(best, expected)
    np.testing.assert_array_equal(argmax, expected_argmax)
    assert pool.max_pool2d(x, k, s, p, d, out_hw, with_argmax=False)[1] is None
    values = LAYOUTS[layout](rand(best.shape, 1, np.float32))
    np.testing.assert_allclose(pool.max_pool2d_scatter(values, argmax, x.shape, k, s, p, d),
                               pool.max_pool2d_scatter_reference(values, argmax, x.shape, k, s, p, d), rtol=1e-6)


# --------------------------------------------------------------------------- batch norm

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("row_elements", [6, 1 << 13], ids=["two pixels a row", "a sample a row"])
@pytest.mark.parametrize("piece_elements", [40, 150], ids=["a sample a piece", "two samples a piece"])
def test_batch_norm_kernels(thread_count, layout, affine, row_elements, piece_elements, monkeypatch):
    monkeypatch.setattr(norm, "PIECE_ELEMENTS", piece_elements)  # several pieces per slice
    monkeypatch.setattr(layouts, "ROW_ELEMENTS", row_elements)
    x = LAYOUTS[layout](rand((5, 3, 4, 6), 0) * 3 + 2)
    mean, var = norm.batch_norm_statistics(x)
    expected_mean, expected_var = norm.batch_norm_statistics_reference(x)
    close(mean, expected_mean, np.float64)
    close(var, expected_var, np.float64)
    weight = rand((3,), 1) if affine else None
    grad = LAYOUTS[layout](rand(x.shape, 2))
    invstd = 1 / np.sqrt(var + 1e-5)
    for got, expected in zip(norm.batch_norm_backward(grad, x, weight, mean, invstd),
                             norm.batch_norm_backward_reference(grad, x, weight, mean, invstd)):
        close(got, expected, np.float64)


# --------------------------------------------------------------------------- elementwise, matmul, sums

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("row_elements", [6, 1 << 13], ids=["two pixels a row", "a sample a row"])
def test_elementwise_kernels(thread_count, layout, row_elements, monkeypatch):
    monkeypatch.setattr(layouts, "ROW_ELEMENTS", row_elements)
    x, grad = LAYOUTS[layout](rand((4, 3, 5, 6), 0)), LAYOUTS[layout](rand((4, 3, 5, 6), 1))
    np.testing.assert_array_equal(elementwise.relu(x), elementwise.relu_reference(x))
    np.testing.assert_array_equal(elementwise.clip(x, -0.5, 0.7), elementwise.clip_reference(x, -0.5, 0.7))
    in_place = x.copy(order="K")
    assert elementwise.clip(in_place, -0.5, 0.7, out=in_place) is in_place  # hardtanh_'s kernel
    np.testing.assert_array_equal(in_place, elementwise.clip_reference(x, -0.5, 0.7))
    np.testing.assert_array_equal(elementwise.threshold_backward(grad, x),
                                  elementwise.threshold_backward_reference(grad, x))
    grad[0, 0, :2] = np.inf  # an infinite gradient where x <= 0 still gives 0 there, and a NaN x passes it
    grad[1, 1, 1] = np.nan
    x[1, 1, 1, :2] = np.nan
    np.testing.assert_array_equal(elementwise.threshold_backward(grad, x),
                                  elementwise.threshold_backward_reference(grad, x))
    np.testing.assert_array_equal(elementwise.hardtanh_backward(grad, x, -0.5, 0.5),
                                  elementwise.hardtanh_backward_reference(grad, x, -0.5, 0.5))
    scale, shift = rand((1, 3, 1, 1), 2), rand((1, 3, 1, 1), 3)
    for form in (None, *elementwise.SCALE_SHIFT_FORMS):  # the planner's, then each forced
        close(elementwise.scale_shift_channels(x, scale, shift, form=form),
              elementwise.scale_shift_channels_reference(x, scale, shift), np.float64)
    assert elementwise.relu(np.float64(-2.0)) == 0
    assert elementwise.threshold_backward(np.float64(3.0), np.float64(1.0)) == 3.0
    # PyTorch's rule is "0 where x <= 0": a NaN input passes its gradient on
    special = np.array([np.nan, -np.inf, -1.0, -0.0, 0.0, 2.0, np.inf]).reshape(1, 7, 1, 1)
    np.testing.assert_array_equal(elementwise.threshold_backward(np.ones_like(special), special).reshape(-1),
                                  [1, 0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(elementwise.hardtanh_backward(np.ones_like(special), special, -1, 2).reshape(-1),
                                  [1, 0, 0, 1, 1, 0, 0])
    assert elementwise.hardtanh_backward(np.float64(3.0), np.float64(1.0), 0, 6) == 3.0


def test_masked_gradients_take_the_activations_layout():
    """ReLU's and hardtanh's backward write in x's memory layout whatever the gradient's, so a
    row-major or broadcast gradient does not make every later pass mix layouts."""
    x = np.ascontiguousarray(rand((4, 5, 6, 3), 0)).transpose(0, 3, 1, 2)  # channels-last memory
    for grad in (rand((4, 3, 5, 6), 1), np.broadcast_to(rand((4, 3, 1, 1), 2), (4, 3, 5, 6))):
        for result in (elementwise.threshold_backward(grad, x), elementwise.hardtanh_backward(grad, x, -0.5, 0.5)):
            assert result.transpose(0, 2, 3, 1).flags.c_contiguous
        np.testing.assert_array_equal(elementwise.threshold_backward(grad, x),
                                      elementwise.threshold_backward_reference(grad, x))


def test_a_deferred_channels_last_crop_is_copied_along_its_rows():
    """A convolution's result that is a channels-last crop of a padded buffer (the depthwise input
    gradient) is made dense channels-last and its row-major layout owed, not transposed."""
    from tinygrad_cnn.memory_format import conform

    padded = np.arange(2 * 7 * 7 * 3, dtype=np.float64).reshape(2, 7, 7, 3).transpose(0, 3, 1, 2)
    crop = padded[:, :, 1:6, 1:6]
    laid, owed = conform(crop, "suggest", [rand((2, 3, 5, 5), 0)], defer=True)
    assert owed and laid.transpose(0, 2, 3, 1).flags.c_contiguous
    np.testing.assert_array_equal(laid, crop)
    laid, owed = conform(crop, "suggest", [rand((2, 3, 5, 5), 0)], defer=False)
    assert not owed and laid.flags.c_contiguous


def test_the_owed_layout_shortcut_agrees_with_the_layout_rules():
    """``stays_owed`` (the shortcut of a channels-last chain) answers True only where
    every rule, run on the strides PyTorch's inputs would have, leaves the result owed as it is;
    the shapes include size-1 dimensions, whose strides PyTorch reads in its tie-breaks."""
    from tinygrad_cnn.memory_format import conform, row_major_stand_in, stays_owed

    def channels_last(shape, strided=False):
        array = np.zeros((shape[0], shape[2], shape[3], shape[1])).transpose(0, 3, 1, 2)
        if strided:  # size-1 dimensions with strides NumPy chose, not PyTorch's
            array = np.lib.stride_tricks.as_strided(array, shape, [s if n > 1 else 8 * 7 for s, n in
                                                                   zip(array.strides, shape)])
        return array

    shapes = [(2, 3, 4, 5), (1, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 5), (2, 3, 1, 1), (2, 3, 4, 1)]
    agreed = 0
    for shape, strided in itertools.product(shapes, (False, True)):
        raw = channels_last(shape, strided)
        owed_input = row_major_stand_in(channels_last(shape))  # the strides PyTorch's input has
        others = [np.zeros(shape), channels_last(shape), np.zeros((shape[1], 1, 1)),
                  np.zeros((1, shape[1], 1, 1)), channels_last((1, shape[1], 1, 1)),  # C-contiguous
                  np.zeros((2, 3)).T, 2.0]                                  # and channels-last alike
        for other in others:
            if not stays_owed(raw, [other]):
                continue
            inputs = [owed_input] + ([other] if isinstance(other, np.ndarray) else [])
            for rule in ("iterator", "suggest", "suggest_first", "suggest_all", "preserve", "contiguous"):
                laid, owed = conform(raw, rule, inputs, defer=True)
                assert owed and laid.strides == raw.strides, (shape, strided, other, rule)
                agreed += 1
    assert agreed > 100  # the shortcut is taken in most of these cases, not only in a few


@pytest.mark.parametrize("size", [1, 1000, elementwise.UPDATE_BLOCK * 3 + 17])
@pytest.mark.parametrize("a,b", [(1, -0.1), (0.9, 1.0), (0.9, 0.7)])
def test_scale_add_kernel_matches_the_numpy_lines_bit_for_bit(thread_count, monkeypatch, size, a, b):
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1)
    target, x = rand((size,), 0).astype(np.float32), rand((size,), 1).astype(np.float32)
    expected = elementwise.scale_add_into_reference(target.copy(), a, x, b)
    result = target.copy()
    assert elementwise.scale_add_into(result, a, x, b) is result
    np.testing.assert_array_equal(result, expected)
    for shape in [(size, 3), (2, 3, size)]:  # a transposed gradient, and N-D parameters
        target, x = rand(shape, 2).astype(np.float32), rand(shape[::-1], 3).astype(np.float32).T
        expected = elementwise.scale_add_into_reference(target.copy(), a, x, b)
        np.testing.assert_array_equal(elementwise.scale_add_into(target, a, x, b), expected)


@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (64, 33, 17), (1, 9, 1), (3, 8, 11)])  # last: columns split
def test_matmul_kernels(thread_count, m, k, n):
    a, b = rand((m, k), 0), rand((k, n), 1)
    close(linalg.matmul(a, b), linalg.matmul_reference(a, b), np.float64)
    close(linalg.matmul_inner(a, b), linalg.matmul_inner_reference(a, b), np.float64)
    batched_a, batched_b = rand((3, m, k), 2), rand((3, k, n), 3)
    close(linalg.matmul(batched_a, batched_b), linalg.matmul_reference(batched_a, batched_b), np.float64)
    for groups in (1, 3):
        ga, gb = batched_a[:groups], batched_b[:groups]
        close(linalg.grouped_matmul(ga, gb), linalg.grouped_matmul_reference(ga, gb), np.float64)
        gt = ga.transpose(0, 2, 1).copy()  # (G, K, M) @ (G, M, N): the long shared dimension is M
        close(linalg.grouped_matmul_inner(gt.transpose(0, 2, 1), gb),
              linalg.grouped_matmul_inner_reference(gt.transpose(0, 2, 1), gb), np.float64)


@pytest.mark.parametrize("split", ["rows", "columns", "shared dimension"])
@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (64, 33, 17), (1, 9, 1), (3, 8, 11)])
def test_every_split_of_a_product_equals_the_reference(thread_count, split, m, k, n):
    """Each split forced on the same operands, whichever the planner would choose."""
    a, b = rand((m, k), 0), rand((k, n), 1)
    close(linalg.matmul(a, b, split=split), linalg.matmul_reference(a, b), np.float64)
    close(linalg.matmul_inner(a, b, split=split), linalg.matmul_inner_reference(a, b), np.float64)


@pytest.mark.parametrize("m,k,n,inner,expected", [
    (64, 33, 17, False, "rows"), (3, 8, 11, False, "columns"), (3, 300, 4, True, "shared dimension"),
    (512, 32, 4608, True, "columns"), (4608, 32, 512, True, "rows")])
def test_the_product_planner_follows_its_rules(m, k, n, inner, expected):
    a, b = np.zeros((m, k)), np.zeros((k, n))
    plan = linalg.plan_product("matmul_inner" if inner else "matmul", a, b)
    assert plan.backend == expected
    assert linalg.plan_product("matmul", np.zeros((2, m, k)), b).backend == "batched"
    with pytest.raises(ValueError, match="cannot split .* by 'batched'"):
        linalg.plan_product("matmul", a, b, split="batched")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dims", [(0, 2, 3), (1,), (2, 3), (0,), (0, 1), (1, 3)])
def test_sum_axes_kernel(thread_count, layout, dims):
    x = LAYOUTS[layout](rand((8, 16, 12, 11), 0))  # large enough for the matrix-vector path
    close(reduce.sum_axes(x, dims), reduce.sum_axes_reference(x, dims), np.float64)
    integers = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(reduce.sum_axes(integers, (0, 2)), integers.sum(axis=(0, 2)))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dims", [(0, 2, 3), (1,), (2, 3), (0,), (0, 1), (1, 3), (3,)])
def test_every_form_of_a_sum_that_can_run_equals_the_reference(thread_count, layout, dims):
    """Each form forced where the summed axes lie as it needs (numpy everywhere; the
    matrix-vector forms on small arrays too), and refused by name where they do not."""
    x = LAYOUTS[layout](rand((2, 3, 4, 5), 0))
    ran = []
    for form in reduce.FORMS:
        try:
            got = reduce.sum_axes(x, dims, form=form)
        except ValueError as error:
            assert str(error).startswith(f"sum_axes: cannot sum {x.shape} over axes {dims} as {form!r}")
            continue
        ran.append(form)
        close(got, reduce.sum_axes_reference(x, dims), np.float64)
    outer_or_inner = {"NCHW": [(2, 3), (0,), (0, 1), (3,)],  # summed axes first or last in memory
                      "channels-last": [(0, 2, 3), (1,), (0,), (1, 3)]}[layout]
    assert ran == ["numpy"] if dims not in outer_or_inner else len(ran) == 2 and "numpy" in ran


def test_every_kernel_has_a_reference_and_a_test():
    """Every kernel with a reference is exercised here, and every kernel the primitives call
    (``tinygrad_cnn.kernels``) has a reference."""
    assert set(kernels_with_references()) == COVERED
    for name in set(kernels.__all__) - {"explain"}:  # explain prints the planner's choices: not a kernel
        module = inspect.getmodule(getattr(kernels, name))
        assert hasattr(module, name + "_reference"), f"kernels.{name} has no {name}_reference"


def test_blocks_of_work_cover_the_range_once(monkeypatch):
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1)
    tc.set_num_threads(3)
    for n in (1, 2, 3, 7):
        seen = list(itertools.chain.from_iterable(range(s.start, s.stop) for s in threads._parts(n, 10)))
        assert seen == list(range(n))


@pytest.mark.parametrize("row_elements", [6, 1 << 13], ids=["two pixels a row", "a sample a row"])
@pytest.mark.parametrize("make", [
    lambda: rand((3, 4, 5, 6), 0),                                  # NCHW
    lambda: channels_last(rand((3, 4, 5, 6), 0)),                   # channels-last
    lambda: rand((3, 4, 10, 6), 0)[:, :, ::2],                      # neither: rows of a copy
    lambda: rand((5, 4), 0),                                        # (N, C)
    lambda: rand((3, 4, 7), 0).transpose(0, 2, 1).copy().transpose(0, 2, 1),  # (N, C, L) channels-last
], ids=["NCHW", "channels-last", "strided", "2-D", "3-D channels-last"])
def test_channel_rows(make, row_elements, monkeypatch):
    """Rows view the array's memory (or a copy) and per-channel vectors broadcast against them."""
    monkeypatch.setattr(layouts, "ROW_ELEMENTS", row_elements)
    x = make()
    rows = layouts.ChannelRows.of(x)
    np.testing.assert_array_equal(rows.array(rows.rows), x)
    other = rand(x.shape, 1)
    np.testing.assert_array_equal(rows.array(rows.like(other)), other)
    vector = rand((x.shape[1],), 2)
    batch = slice(1, x.shape[0])
    part = rows.rows[rows.samples(batch)] * rows.per_channel(vector, batch)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    expected = x[batch] * vector.reshape(shape)
    full = np.empty_like(rows.rows)
    full[rows.samples(batch)] = part
    np.testing.assert_allclose(rows.array(full)[batch], expected)
    np.testing.assert_allclose(rows.channel_sum(rows.rows * rows.like(other)),
                               (x * other).sum(axis=(0,) + tuple(range(2, x.ndim))))


@pytest.mark.parametrize("make_base", [
    lambda: rand((3, 4, 5), 0),                                          # C order
    lambda: np.asfortranarray(rand((3, 4, 5), 0)),                       # Fortran order
    lambda: channels_last(rand((2, 3, 4, 5), 0)),                        # channels-last
    lambda: rand((6, 4, 5), 0)[::2],                                     # strided in a bigger buffer
    lambda: rand((3, 1, 5), 0).transpose(2, 1, 0),                       # a size-1 axis
], ids=["C", "Fortran", "channels-last", "strided", "size-1 axis"])
@pytest.mark.parametrize("view_of", [
    lambda b: b[0], lambda b: b[..., ::2], lambda b: b[1:, ::-1], lambda b: b.transpose(), lambda b: b[(0,) * b.ndim + (...,)],
    lambda b: b.reshape(-1) if b.flags.c_contiguous else b[..., :1],
], ids=["row", "step", "reversed", "transposed", "element", "flat"])
def test_view_positions(make_base, view_of):
    base = make_base()
    view = view_of(base)
    np.testing.assert_array_equal(layouts.view_positions(base, view), layouts.view_positions_reference(base, view))


@pytest.mark.parametrize("shape,offset,dim1,dim2", [((3, 4), 0, 0, 1), ((3, 4), 2, 0, 1), ((3, 4), -1, 0, 1),
                                                   ((2, 3, 4), 1, 2, 0), ((4, 3), 5, 0, 1), ((0, 3), 0, 0, 1)])
def test_diagonal_view(shape, offset, dim1, dim2):
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    for array in (x, np.asfortranarray(x), x[..., ::-1]):
        view = layouts.diagonal_view(array, offset, dim1, dim2)
        np.testing.assert_array_equal(view, layouts.diagonal_view_reference(array, offset, dim1, dim2))
        assert view.size == 0 or np.shares_memory(view, array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_select_bits_selects_exactly_and_gives_zero_where_the_mask_is_off(dtype):
    """The NaN-safe select of ReLU's, hardtanh's and max pooling's backward: values where the
    mask is on, bit for bit (NaN, inf, -0.0 kept), +0.0 where it is off, whatever the value."""
    values = np.array([[np.inf, -np.inf, np.nan, -0.0, 1.5], [2.5, np.nan, -np.inf, 7.0, -3.0]], dtype=dtype)
    mask = np.array([[False, True, False, True, True], [True, True, False, False, True]])
    out = elementwise.select_bits(values.T.copy().T, mask, np.empty_like(values))  # (another memory layout)
    expected = np.where(mask, values, 0).astype(dtype)
    assert np.array_equal(out.view(f"i{values.itemsize}"), expected.view(f"i{values.itemsize}"))
