"""Layers and models (``from tinygrad_cnn import nn``), with PyTorch's names and state-dict keys."""
from . import init
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
                     ReLU,
                     Sequential,
)
from .module import Module
from .parameter import Parameter

__all__ = [
    "Module", "Parameter", "Sequential", "Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d",
    "MaxPool2d", "AvgPool2d", "ReLU", "Flatten", "Dropout", "CrossEntropyLoss", "init",
]
