"""Operations PyTorch programs use that were missing: counting (nonzero, unique, bincount),
index-built (repeat_interleave, index_add), floating-point classes (isnan, isinf, isfinite,
nan_to_num), lerp, clamp_min/clamp_max, nelement, is_floating_point, set_printoptions, compile:
each against PyTorch: values, dtypes and gradients."""
import numpy as np
import pytest

import tinygrad_cnn as tc


def both(torch, program):
    return program(tc), program(torch)


def same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b)
        return
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("program", [
    lambda t: t.tensor([[0, 1, 0], [2, 0, 3]]).nonzero(),
    lambda t: t.tensor([[0, 1, 0], [2, 0, 3]]).nonzero(as_tuple=True),
    lambda t: t.nonzero(t.tensor([0.0, -1.0, 0.0])),
    lambda t: t.tensor([3, 1, 3, 2, 1]).unique(),
    lambda t: t.unique(t.tensor([3, 1, 3, 2, 1]), return_inverse=True, return_counts=True),
    lambda t: t.tensor([[1, 2], [1, 2], [0, 5]]).unique(dim=0, return_counts=True),
    lambda t: t.tensor([1, 2, 2, 5]).bincount(),
    lambda t: t.bincount(t.tensor([1, 2, 2]), weights=t.tensor([0.5, 1.0, 2.0], dtype=t.float64), minlength=5),
    lambda t: t.tensor([[1, 2], [3, 4]]).repeat_interleave(2),
    lambda t: t.tensor([[1, 2], [3, 4]]).repeat_interleave(t.tensor([1, 3]), dim=0),
    lambda t: t.isnan(t.tensor([1.0, float("nan"), float("inf")])),
    lambda t: t.tensor([1.0, float("nan"), -float("inf")]).isinf(),
    lambda t: t.tensor([1.0, float("nan"), float("inf")]).isfinite(),
    lambda t: t.isfinite(t.tensor([1, 2])),
    lambda t: t.tensor([1.0, float("nan"), float("inf"), -float("inf")]).nan_to_num(),
    lambda t: t.nan_to_num(t.tensor([float("nan"), float("inf")], dtype=t.float64), nan=2.0, posinf=9.0),
    lambda t: t.tensor([-2.0, 0.5, 3.0]).clamp_min(0.0),
    lambda t: t.clamp_max(t.tensor([-2.0, 0.5, 3.0]), 1.0),
], ids=lambda p: "")
def test_values_and_dtypes_as_pytorch(torch, program):
    same(*both(torch, program))


def test_gradients_as_pytorch(torch):
    rng = np.random.default_rng(0)
    x, y, s = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    x[0, 0], x[1, 1] = np.nan, np.inf
    programs = {
        "nan_to_num": lambda t, a, b, c: (a.nan_to_num(nan=1.0, posinf=3.0) * 2).sum(),
        "lerp": lambda t, a, b, c: ((t.lerp(a.nan_to_num(posinf=5.0, neginf=-5.0), b, 0.3) ** 2).sum()
                                    + a.nan_to_num(posinf=5.0).lerp(b, b).sum()),
        "repeat_interleave": lambda t, a, b, c: (b.repeat_interleave(t.tensor([2, 0, 1, 1]), dim=1) ** 2).sum(),
        "index_add": lambda t, a, b, c: (b.index_add(1, t.tensor([0, 3]), c, alpha=2.0) ** 2).sum(),
    }
    for name, program in programs.items():
        grads = []
        for lib in (tc, torch):
            a, b, c = (lib.tensor(v, requires_grad=True) for v in (x, y, s))
            program(lib, a, b, c).backward()
            grads.append([None if v.grad is None else v.grad.numpy() for v in (a, b, c)])
        for ours, theirs in zip(*grads):
            assert (ours is None) == (theirs is None), name
            if ours is not None:
                np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=name)


def test_nan_to_nums_gradient_is_a_product_with_the_finite_mask_as_pytorchs(torch):
    """An infinite gradient where x is NaN or infinite gives NaN there (PyTorch multiplies)."""
    x = np.array([1.0, np.nan, np.inf, -2.0])
    grads = []
    for lib in (tc, torch):
        a = lib.tensor(x, requires_grad=True)
        with np.errstate(invalid="ignore"):  # (inf * 0, NumPy's warning)
            a.nan_to_num().backward(lib.tensor([np.inf, np.inf, 1.0, 2.0]))
        grads.append(a.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_small_queries_and_refusals(torch):
    for lib in (tc, torch):
        x = lib.ones(2, 3)
        assert x.nelement() == lib.numel(x) == 6 and x.is_floating_point() and lib.is_floating_point(x)
        assert not lib.tensor([1]).is_floating_point()
        with pytest.raises(RuntimeError):
            lib.tensor([-1, 2]).bincount()
        with pytest.raises(RuntimeError):
            lib.tensor([1, 2]).repeat_interleave(lib.tensor([1, -1]))
        with pytest.raises(RuntimeError):
            lib.zeros(3).index_add(0, lib.tensor([0]), lib.ones(2))


def test_print_options_and_compile_as_pytorch(torch):
    """``set_printoptions`` changes how tensors print (restored after); ``compile`` gives back
    a callable computing the same function, as a call and as a decorator."""
    x = np.array([1.23456789, 1e-5, 123.5])
    try:
        tc.set_printoptions(precision=2)
        assert "1.23e+00" in repr(tc.tensor(x))
        tc.set_printoptions(profile="short", sci_mode=False)
        assert "123.5" in repr(tc.tensor(x)) and "e+" not in repr(tc.tensor(x))
        with pytest.raises(ValueError, match="profile must be one of default, short, full"):
            tc.set_printoptions(profile="long")
    finally:
        tc.set_printoptions(profile="default")
    assert repr(tc.tensor(x)) == "Tensor([1.2346e+00, 1.0000e-05, 1.2350e+02], dtype=float64)"
    model = tc.nn.ReLU()
    compiled = tc.compile(model, mode="max-autotune")
    assert isinstance(compiled, tc.nn.Module)
    np.testing.assert_array_equal(compiled(tc.tensor([-1.0, 2.0])).numpy(), [0.0, 2.0])

    @tc.compile(fullgraph=True)
    def double(t):
        return t * 2
    assert double(tc.tensor([1.0])).item() == 2.0
