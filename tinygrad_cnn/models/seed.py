"""The seed document's sample network, the model the main job trains."""
from __future__ import annotations

from .. import nn


def seed_cnn(batch_norm: bool = False, num_classes: int = 10) -> nn.Sequential:
    """28x28x1 -> Conv 32 3x3 -> ReLU -> MaxPool 2 -> Conv 64 3x3 -> ReLU -> MaxPool 2
    -> FC 128 -> ReLU -> FC num_classes (logits; softmax lives in the loss).

    ``batch_norm`` puts a BatchNorm2d after each convolution, before its ReLU.
    """
    def conv_block(c_in: int, c_out: int) -> list[nn.Module]:
        norm = [nn.BatchNorm2d(c_out)] if batch_norm else []
        return [nn.Conv2d(c_in, c_out, 3), *norm, nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(
        *conv_block(1, 32),
        *conv_block(32, 64),
        nn.Flatten(),
        nn.Linear(64 * 5 * 5, 128),
        nn.ReLU(),
        nn.Linear(128, num_classes),
    )
