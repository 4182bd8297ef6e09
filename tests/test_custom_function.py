"""PyTorch's autograd.Function contract: Tensors in forward, saved tensors with their graph
(double backward), mark_dirty, mark_non_differentiable, set_materialize_grads,
once_differentiable, setup_context, version checks (issue 19, finding 1)."""
import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd import Function, once_differentiable


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


class Exp(Function):
    """The tutorials' Exp: saves its output and calls a Tensor method in forward."""

    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class Square(Function):
    """The double-backward tutorial's Square: saves its input."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x


def test_forward_receives_tensors_with_grad_mode_off():
    seen = {}

    class Spy(Function):
        @staticmethod
        def forward(ctx, x, scale, *, offset=0.0):
            seen.update(kind=type(x), same=x is given, grad_mode=tc.is_grad_enabled(), scale=scale, offset=offset)
            return x * scale + offset

        @staticmethod
        def backward(ctx, grad):
            return grad * 3, None

    given = leaf([1.0, 2.0])
    out = Spy.apply(given, 3, offset=1.0)
    assert seen == dict(kind=Tensor, same=True, grad_mode=False, scale=3, offset=1.0)
    assert out.requires_grad and isinstance(out.grad_fn, Spy)
    np.testing.assert_array_equal(out.numpy(), [4.0, 7.0])


def test_exp_saving_its_output_has_first_and_second_derivatives():
    x = leaf([0.0, 1.0, -2.0])
    (g,) = tc.grad(Exp.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), np.exp([0.0, 1.0, -2.0]))  # d/dx e^x = e^x
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0, -2.0]))  # and again
    assert tc.gradcheck(Exp.apply, (leaf([[0.3, -0.7], [1.1, 0.2]]),))
    assert tc.gradgradcheck(Exp.apply, (leaf([[0.3, -0.7], [1.1, 0.2]]),))


def test_square_double_backward_is_not_zero():
    x = leaf([1.0, -2.0, 3.0])
    (g,) = tc.grad(Square.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [2.0, -4.0, 6.0])  # 2x
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])  # 2, where arrays saved gave 0
    assert tc.gradgradcheck(Square.apply, (leaf(np.random.default_rng(0).random((3, 3))),))


class ConvBN(Function):
    """The conv + batch-norm fusion tutorial's shape: F.conv2d and batch statistics on Tensors in
    forward, a backward written with Tensor operations (so it is differentiable too)."""

    @staticmethod
    def forward(ctx, x, weight, eps=1e-3):
        y = F.conv2d(x, weight)
        mean = y.mean(dim=(0, 2, 3), keepdim=True)
        invstd = ((y - mean).square().mean(dim=(0, 2, 3), keepdim=True) + eps).rsqrt()
        ctx.save_for_backward(x, weight, y, mean, invstd)
        return (y - mean) * invstd

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, y, mean, invstd = ctx.saved_tensors
        xhat = (y - mean) * invstd
        dims = (0, 2, 3)
        grad_y = invstd * (grad_out - grad_out.mean(dim=dims, keepdim=True)
                           - xhat * (grad_out * xhat).mean(dim=dims, keepdim=True))
        grad_x = F.conv_transpose2d(grad_y, weight) if ctx.needs_input_grad[0] else None
        grad_w = F.conv2d(x.transpose(0, 1), grad_y.transpose(0, 1)).transpose(0, 1) \
            if ctx.needs_input_grad[1] else None
        return grad_x, grad_w, None


def test_conv_batch_norm_function_matches_the_composition_and_gradchecks():
    rng = np.random.default_rng(1)
    x, w = leaf(rng.standard_normal((3, 2, 5, 5))), leaf(rng.standard_normal((4, 2, 3, 3)))
    upstream = Tensor(rng.standard_normal((3, 4, 3, 3)))
    (ConvBN.apply(x, w) * upstream).sum().backward()
    fused = x.grad.numpy(), w.grad.numpy()
    x.grad = w.grad = None
    reference = F.batch_norm(F.conv2d(x, w), None, None, training=True, eps=1e-3)
    (reference * upstream).sum().backward()
    np.testing.assert_allclose(fused[0], x.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(fused[1], w.grad.numpy(), atol=1e-10)
    small = (leaf(rng.standard_normal((2, 1, 4, 4))), leaf(rng.standard_normal((2, 1, 2, 2))))
    assert tc.gradcheck(ConvBN.apply, small)


def test_saved_intermediates_and_several_outputs_as_in_the_sinh_tutorial():
    class Sinh(Function):
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = x.exp(), (-x).exp()
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, grad_exp, grad_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += grad_exp * expx
            grad_input -= grad_negexp * expnegx
            return grad_input

    x = leaf([[0.1, 0.5], [-0.3, 0.9]])
    assert tc.gradcheck(lambda t: Sinh.apply(t)[0], (x,))
    assert tc.gradgradcheck(lambda t: Sinh.apply(t)[0], (x,))


def test_mark_dirty_gives_the_changed_input_this_history():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2  # (deliberately not 1, so the path through this node is visible)

    a = leaf([1.0, 2.0])
    b = a * 1
    out = AddOneInPlace.apply(b)
    assert out is b and isinstance(b.grad_fn, AddOneInPlace) and b._version == 1
    np.testing.assert_array_equal(b.numpy(), [2.0, 3.0])
    (b * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [8.0, 12.0])  # 2 * b * 2
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad"):
        AddOneInPlace.apply(leaf([1.0]))


def test_mark_non_differentiable_and_integer_outputs_get_no_gradient():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            order = Tensor(np.argsort(x.numpy()))
            values = x[order]
            mask = x > 0
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(order)
            return values, order, mask

        @staticmethod
        def backward(ctx, grad_values, grad_order, grad_mask):
            (order,) = ctx.saved_tensors
            assert np.all(grad_order.numpy() == 0)  # materialized zeros, as in PyTorch
            grad = tc.zeros_like(grad_values)
            grad[order] = grad_values
            return grad

    x = leaf([3.0, -1.0, 2.0])
    values, order, mask = SortLike.apply(x)
    assert values.requires_grad and not order.requires_grad and not mask.requires_grad
    (values * Tensor([1.0, 2.0, 3.0], dtype=np.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 1.0, 2.0])


def test_set_materialize_grads_false_passes_none():
    received = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            received.append((g1 is None, g2 is None))
            return g1 * 2 if g1 is not None else None

    x = leaf([1.0])
    Pair.apply(x)[0].sum().backward()
    assert received == [(False, True)] and x.grad.numpy().tolist() == [2.0]


def test_setup_context_form():
    class Mul(Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x

    x, y = leaf([2.0, 3.0]), leaf([5.0, 7.0])
    assert tc.gradcheck(Mul.apply, (x, y)) and tc.gradgradcheck(Mul.apply, (x, y))


def test_once_differentiable_raises_on_a_second_derivative():
    class NumpySquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert not tc.is_grad_enabled()
            return Tensor(2 * x.numpy() * grad.numpy())

    x = leaf([1.0, 2.0])
    (g,) = tc.grad(NumpySquare.apply(x).sum(), x)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    y = NumpySquare.apply(x)
    (g,) = tc.grad(y, x, grad_outputs=leaf([1.0, 1.0]), create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate twice a function that was marked with @once_differentiable"):
        g.sum().backward()


def test_saved_tensors_are_version_checked():
    a = leaf([1.0, 2.0])
    b = a * 1
    out = Square.apply(b)
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation: Square"):
        out.sum().backward()


def test_second_backward_without_retain_graph_is_refused():
    x = leaf([1.0])
    y = Exp.apply(x)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_gradient_count_and_shape_follow_pytorch():
    class ExtraNones(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None  # extra trailing Nones are allowed

    class Broadcast(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad.expand(2, 3)  # a gradient the input broadcasts to is summed down

    x = leaf([1.0, 2.0])
    ExtraNones.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    v = leaf([[1.0, 2.0, 3.0]])
    Broadcast.apply(v).backward()
    np.testing.assert_array_equal(v.grad.numpy(), [[2.0, 2.0, 2.0]])


def test_an_input_returned_unchanged_is_a_new_alias():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    x = leaf([1.0])
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and np.shares_memory(y.numpy(), x.numpy())
    y.backward()
    assert x.grad.numpy().tolist() == [5.0]


def test_save_for_backward_refuses_non_tensors():
    class SavesNumber(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    with pytest.raises(TypeError, match="save_for_backward can only save Tensors or None, but argument 1"):
        SavesNumber.apply(leaf([1.0]))


def test_graph_is_freed_with_a_saved_output():
    import gc
    import weakref

    x = leaf([1.0])
    y = Exp.apply(x)
    node = weakref.ref(y.grad_fn)
    gc.disable()
    try:
        del y
        assert node() is None  # no reference cycle between the node and its saved output
    finally:
        gc.enable()


def test_a_function_exports_to_onnx_as_the_operations_its_forward_ran():
    import io

    ort = pytest.importorskip("onnxruntime")

    class Model(tc.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = tc.nn.Linear(3, 2)

        def forward(self, x):
            return Exp.apply(self.linear(x))

    model, x = Model(), tc.randn(4, 3)
    buffer = io.BytesIO()
    tc.onnx.export(model, x, buffer)
    session = ort.InferenceSession(buffer.getvalue())
    (exported,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(exported, model(x).detach().numpy(), rtol=1e-6)
