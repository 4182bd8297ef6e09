"""Carry a model trained here on in PyTorch: the state dict converts key for key.

Our modules use PyTorch's names and layouts, so the same architecture written for PyTorch loads
the arrays as they are (torchvision's ResNet-18, VGG-11, MobileNetV2, DenseNet-121 and
SqueezeNet 1.1 load tinygrad_cnn.models' state dicts the same way).

Run: python examples/to_pytorch.py [runs/fashion-mnist/best.npz]   (needs torch)
"""
import sys
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn.models import seed_cnn


def pytorch_seed_cnn(batch_norm: bool = False):
    """The seed CNN written for PyTorch, layer for layer as tinygrad_cnn.models.seed_cnn."""
    from torch import nn

    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3), *([nn.BatchNorm2d(c_out)] if batch_norm else []), nn.ReLU(),
                nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def to_pytorch(state_dict: dict) -> dict:
    """Our state dict (NumPy arrays) as PyTorch's (tensors), keys unchanged."""
    import torch

    return {name: torch.from_numpy(np.array(value)) for name, value in state_dict.items()}


def main(checkpoint: str | None = None) -> float:
    import torch

    tc.manual_seed(0)
    ours = seed_cnn(batch_norm=checkpoint is None)
    if checkpoint is not None:  # the main job's best.npz (trained without batch norm by default)
        ours.load_state_dict(tc.load(checkpoint))
    theirs = pytorch_seed_cnn(batch_norm=checkpoint is None)
    theirs.load_state_dict(to_pytorch(ours.state_dict()))
    images = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    with tc.no_grad():
        mine = ours.eval()(tc.Tensor(images)).numpy()
    with torch.no_grad():
        other = theirs.eval()(torch.from_numpy(images)).numpy()
    difference = float(np.abs(mine - other).max())
    print(f"PyTorch gives the same logits: max difference {difference:.2e} (logits up to {np.abs(mine).max():.2f})")
    return difference


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else None
    if path is not None and not Path(path).exists():
        raise SystemExit(f"no checkpoint at {path}")
    main(path)
