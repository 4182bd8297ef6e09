"""Transforms applied to whole batches of images at once (vectorised, not per image)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


class ToFloat:
    """uint8 pixels in [0, 255] -> float32 in [0, 1] (what ``ToTensor`` does in torchvision)."""

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return images.astype(np.float32) * np.float32(1 / 255)

    def __repr__(self) -> str:
        return "ToFloat()"


class Normalize:
    """uint8 pixels -> float32 ``(pixel / 255 - mean) / std`` in one pass."""

    def __init__(self, mean: float, std: float) -> None:
        if std <= 0:
            raise ValueError(f"Normalize: std must be positive, got {std}")
        self.mean, self.std = float(mean), float(std)
        self._scale = np.float32(1 / (255 * std))
        self._shift = np.float32(-mean / std)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        out = images.astype(np.float32)
        out *= self._scale
        out += self._shift
        return out

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Compose:
    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            images = transform(images)
        return images

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"
