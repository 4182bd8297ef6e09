"""The functional API (``import tinygrad_cnn.functional as F``), PyTorch's names and semantics."""
from .ops.activation import (
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from .ops.conv import conv2d, conv_transpose2d
from .ops.dropout import dropout, dropout1d, dropout2d, dropout3d
from .ops.embedding import embedding
from .ops.interpolate import interpolate
from .ops.linalg import cosine_similarity, normalize
from .ops.linear import linear
from .ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    log_softmax,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
    softmax,
    softmin,
)
from .ops.norm import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm
from .ops.one_dimensional import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    avg_pool1d,
    conv1d,
    conv_transpose1d,
    max_pool1d,
)
from .ops.pad import pad
from .ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from .ops.select import one_hot

__all__ = [
    "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "batch_norm",
    "cross_entropy", "log_softmax", "softmax", "softmin", "dropout",
    "relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "mish", "hardswish",
    "hardsigmoid", "logsigmoid", "sigmoid", "tanh", "pad", "group_norm", "layer_norm", "instance_norm",
    "local_response_norm", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "interpolate", "normalize", "cosine_similarity", "one_hot",
    "conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
    "dropout1d", "dropout2d", "dropout3d", "embedding", "pixel_shuffle", "pixel_unshuffle",
]
