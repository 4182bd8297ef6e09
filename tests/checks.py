"""Helpers the op-family test files share: random arrays, float64 leaves, the gradient checks,
channels-last memory, and the property tests' settings and outcome rule."""
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

PROPERTY = settings(max_examples=25, deadline=None)
sizes = st.integers(1, 7)
small = st.integers(1, 3)


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(array):
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def check_gradients(fn, *arrays, second=True):
    """gradcheck, and gradgradcheck unless ``second`` is off, on float64 leaves of ``arrays``."""
    inputs = tuple(leaf(a) for a in arrays)
    assert tc.gradcheck(fn, inputs)
    if second:
        assert tc.gradgradcheck(fn, inputs)


def as_pair(v):
    return (v, v) if isinstance(v, int) else v


def channels_last(array):
    """The same NCHW values held in channels-last memory, as convolutions produce them."""
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def outcome(op, call):
    """The result of ``call()``, or None when it raised an error that names ``op`` (of a type
    PyTorch raises for bad arguments)."""
    try:
        return call()
    except (ValueError, TypeError, IndexError) as error:
        assert str(error).startswith(f"{op}:"), f"an error that does not name {op}: {error}"
        return None
