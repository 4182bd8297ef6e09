"""Layers and models (``from tinygrad_cnn import nn``), with PyTorch's names and state-dict keys."""
from . import functional, init, utils
from .activation import (
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .container import ModuleDict, ModuleList, Sequential
from .layers import (
    Conv2d,
    ConvTranspose2d,
    Dropout,
    Flatten,
    Linear,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm, LocalResponseNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, Upsample

__all__ = [
    "Module", "Parameter", "Sequential", "Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d",
    "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "CrossEntropyLoss", "init", "functional",
    "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Mish", "Softplus", "Hardtanh", "Hardswish",
    "Hardsigmoid", "LogSigmoid", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Identity",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "ModuleList", "ModuleDict", "utils",
    "GroupNorm", "LayerNorm", "InstanceNorm2d", "LocalResponseNorm", "ConvTranspose2d", "NLLLoss", "MSELoss",
    "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "Upsample",
]
