"""The functional API (``import tinygrad_cnn.functional as F``), PyTorch's names and semantics."""
from .ops.conv import conv2d, conv_transpose2d
from .ops.dropout import dropout
from .ops.elementwise import relu, sigmoid, tanh
from .ops.linear import linear
from .ops.loss import cross_entropy, log_softmax, softmax
from .ops.norm import batch_norm
from .ops.pool import avg_pool2d, max_pool2d

__all__ = [
    "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "batch_norm",
    "cross_entropy", "log_softmax", "softmax", "relu", "sigmoid", "tanh", "dropout",
]
