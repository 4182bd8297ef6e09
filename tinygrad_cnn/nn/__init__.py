"""Layers and models (``from tinygrad_cnn import nn``), with PyTorch's names and state-dict keys."""
from . import init
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
from .layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Sequential,
)
from .module import Module
from .parameter import Parameter

__all__ = [
    "Module", "Parameter", "Sequential", "Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d",
    "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "CrossEntropyLoss", "init",
    "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Mish", "Softplus", "Hardtanh", "Hardswish",
    "Hardsigmoid", "LogSigmoid", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Identity",
]
