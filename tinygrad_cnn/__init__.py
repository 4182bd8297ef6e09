"""tinygrad_cnn: a teaching-sized autograd engine on NumPy that trains real CNNs."""
from . import data, functional, nn, optim  # noqa: E402  (after Tensor: they build on it)
from .allocator import keep_freed_memory
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import ones, ones_like, rand, randn, zeros, zeros_like
from .gradcheck import gradcheck, gradgradcheck
from .kernels.threads import get_num_threads, set_num_threads
from .random import manual_seed
from .serialization import load, save
from .tensor import Tensor

__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "grad", "gradcheck", "gradgradcheck", "manual_seed",
    "zeros", "ones", "zeros_like", "ones_like", "randn", "rand", "save", "load",
    "keep_freed_memory", "set_num_threads", "get_num_threads",
    "nn", "optim", "data", "functional",
]
