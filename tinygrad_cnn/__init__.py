"""tinygrad_cnn: a teaching-sized autograd engine on NumPy that trains real CNNs.

The top level holds what ``torch`` holds for the same operations, so model code written for
PyTorch runs with ``import tinygrad_cnn as torch``.
"""
from .tensor import Tensor  # noqa: I001  (first: everything below builds on it)
import sys as _sys

import numpy as _np
from . import accelerator, autograd, backends, cuda, data, functional, jit, linalg, nn, optim, utils
from .allocator import keep_freed_memory
from .autograd import Function, enable_grad, grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace, logspace, ones,
                       ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .device import device, get_default_device, set_default_device
from .dtypes import get_default_dtype, set_default_dtype
from .dtypes import bool, double, float, float32, float64, int, int8, int16, int32, int64, long, short, uint8
from .gradcheck import gradcheck, gradgradcheck
from .kernels.threads import get_num_threads, set_num_threads
from .memory_format import channels_last, contiguous_format, memory_format, preserve_format
from .ops.elementwise import (abs, ceil, clamp, clip, exp, floor, log, log1p, relu, round, rsqrt, sigmoid, sign,
                              sqrt, square, tanh, trunc, where)
from .ops.elementwise import add, div, floor_divide, mul, neg, pow, sub
from .ops.elementwise import clamp_max, clamp_min, isfinite, isinf, isnan, lerp, nan_to_num
from .ops.counting import bincount, index_add, nonzero, repeat_interleave, unique
from .ops.cumulative import cumprod, cumsum
from .ops.einsum import einsum
from .ops.join import cat, chunk, split, stack
from .ops.linalg import norm
from .ops.loss import log_softmax, softmax
from .ops.matmul import bmm, dot, matmul, mm, mv, outer, t
from .ops.matrix import diag, diagonal, roll, tril, triu
from .ops.reduce import amax, amin, argmax, argmin, logsumexp, max, mean, min, std, sum, var
from .ops.select import gather, index_select, masked_fill, masked_select, scatter, scatter_add
from .ops.sort import argsort, sort, topk
from .ops.unary import (acos, asin, atan, atan2, cos, cosh, exp2, expm1, log2, log10, reciprocal, sin, sinh,
                        tan)
from .ops.shape import clone, flatten, flip, narrow, permute, reshape, squeeze, transpose, unflatten, unsqueeze
from .promotion import can_cast, promote_types, result_type
from .random import Generator, default_generator, initial_seed, manual_seed, seed
from .serialization import load, save
from .jit import compile  # noqa: A004  (PyTorch's name)
from .tensor import set_printoptions
from .tensor_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor,
                           ShortTensor, is_floating_point, numel)

concat = concatenate = cat


def eq(input: Tensor, other: object) -> Tensor:  # noqa: A002
    return input.eq(other)


def ne(input: Tensor, other: object) -> Tensor:  # noqa: A002
    return input.ne(other)


def lt(input: Tensor, other: object) -> Tensor:  # noqa: A002
    return input.lt(other)


def le(input: Tensor, other: object) -> Tensor:  # noqa: A002
    return input.le(other)


def gt(input: Tensor, other: object) -> Tensor:  # noqa: A002
    return input.gt(other)


def ge(input: Tensor, other: object) -> Tensor:  # noqa: A002
    return input.ge(other)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """Elementwise |input - other| <= atol + rtol * |other|, as a bool tensor."""
    return Tensor(_np.isclose(input.numpy(), other.numpy(), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).numpy().all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both have the same shape and elements."""
    return input.shape == other.shape and bool((input.numpy() == other.numpy()).all())

__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
    "grad", "gradcheck", "gradgradcheck", "manual_seed", "seed", "initial_seed", "Generator", "default_generator",
    "save", "load",
    "keep_freed_memory", "set_num_threads", "get_num_threads",
    "tensor", "from_numpy", "empty", "zeros", "ones", "full", "arange", "eye", "rand", "randn", "randint", "randperm",
    "empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like",
    "device", "set_default_device", "get_default_device", "float32", "float", "float64", "double", "int64", "long",
    "int32", "int", "int16", "short", "int8",
    "uint8", "bool",
    "abs", "clamp", "clip", "exp", "log", "log1p", "relu", "rsqrt", "sigmoid", "sign", "sqrt", "square", "tanh",
    "floor", "ceil", "round", "trunc",
    "where", "add", "sub", "floor_divide", "mul", "div", "neg", "pow", "cat", "concat", "concatenate", "stack",
    "split", "chunk",
    "softmax", "log_softmax", "matmul", "amax", "amin", "argmax", "argmin", "logsumexp", "max", "min", "mean",
    "sum", "std", "var", "gather", "index_select", "masked_fill", "clone", "flatten", "flip", "narrow", "permute",
    "reshape", "squeeze", "transpose", "unflatten", "unsqueeze",
    "result_type", "promote_types", "can_cast", "get_default_dtype", "set_default_dtype",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "exp2", "log2", "log10", "expm1",
    "reciprocal", "mm", "mv", "bmm", "dot", "outer", "t", "einsum", "norm", "cumsum", "cumprod", "sort",
    "argsort", "topk", "tril", "triu", "diag", "diagonal", "roll", "linspace", "logspace", "eq", "ne", "lt", "le",
    "gt", "ge", "isclose", "allclose", "equal", "masked_select", "scatter", "scatter_add", "FloatTensor",
    "DoubleTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
    "memory_format", "contiguous_format", "channels_last", "preserve_format",
    "clamp_min", "clamp_max", "isnan", "isinf", "isfinite", "nan_to_num", "lerp", "nonzero", "unique", "bincount",
    "repeat_interleave", "index_add", "is_floating_point", "numel", "compile", "set_printoptions",
    "accelerator", "backends", "linalg", "autograd", "cuda", "nn", "optim", "data", "functional", "utils", "jit",
]


def __getattr__(name: str) -> object:
    """``tc.onnx`` as ``torch.onnx``, imported on first use: the onnx package is an optional extra."""
    if name == "onnx":
        import importlib

        return importlib.import_module(".onnx", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# tc.autograd.functional (jacobian, hessian, ...) builds on the engine from the layer above it,
# so it is attached here rather than imported by autograd.py
from . import autograd_functional as _autograd_functional  # noqa: E402

autograd.functional = _autograd_functional
_sys.modules[autograd.__name__ + ".functional"] = _autograd_functional
