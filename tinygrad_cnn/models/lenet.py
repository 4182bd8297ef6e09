"""LeNet-5 (LeCun et al. 1998) in its modern teaching form: two 5x5 convolutions with ReLU
and max pooling, three fully connected layers. The first convolution pads by 2, so 28x28
images (MNIST, Fashion-MNIST) flow as the original 32x32 ones did."""
from __future__ import annotations

from .. import nn


def lenet5(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )
