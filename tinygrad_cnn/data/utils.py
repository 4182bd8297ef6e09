"""torchvision's image utilities: ``make_grid`` lays a batch of images out on a grid and
``save_image`` writes one (or a grid) as a PNG, with torchvision's arguments."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..serialization import write_atomically
from ..tensor import Tensor


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """(B, C, H, W) images (or a list of (C, H, W)) as one (3, rows*(H+p)+p, nrow*(W+p)+p)
    image, ``nrow`` per row, separated by ``padding`` pixels of ``pad_value``; ``normalize``
    shifts each image (``scale_each``) or the whole batch to [0, 1] by ``value_range`` or their
    own min and max."""
    images = np.stack([t.detach().numpy() for t in tensor]) if isinstance(tensor, list) else tensor.detach().numpy()
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        images = images[None] if images.shape[0] in (1, 3) else images[:, None]
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    if normalize:  # (otherwise the images keep their dtype, as torchvision's)
        images = images.astype(np.float32) if images.dtype.kind != "f" else images
        axes = (1, 2, 3) if scale_each else None
        low = np.full((len(images), 1, 1, 1), value_range[0]) if value_range else images.min(axis=axes, keepdims=True)
        high = np.full((len(images), 1, 1, 1), value_range[1]) if value_range else images.max(axis=axes, keepdims=True)
        images = (images.clip(low, high) - low) / np.maximum(high - low, 1e-5)
    if len(images) == 1 and not padding:
        return Tensor(images[0])
    n, c, h, w = images.shape
    columns = min(nrow, n)
    rows = -(-n // columns)
    cell = np.full((rows * columns, c, h + padding, w + padding), pad_value, dtype=images.dtype)
    cell[:n, :, padding:, padding:] = images
    grid = cell.reshape(rows, columns, c, h + padding, w + padding).transpose(2, 0, 3, 1, 4)
    grid = grid.reshape(c, rows * (h + padding), columns * (w + padding))
    return Tensor(np.pad(grid, ((0, 0), (0, padding), (0, padding)), constant_values=pad_value))


def save_image(tensor: Tensor | list[Tensor], fp: str | os.PathLike | Any, format: str | None = None,  # noqa: A002
               **kwargs: Any) -> None:
    """Write ``tensor`` (through ``make_grid``'s arguments) as an 8-bit image; a path is written
    atomically."""
    from PIL import Image

    grid = make_grid(tensor, **kwargs).numpy()
    pixels = (grid * 255 + 0.5).clip(0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(pixels)
    if hasattr(fp, "write"):
        image.save(fp, format=format)
    else:
        write_atomically(fp, lambda file: image.save(file, format=format or _format_of(fp)))


def _format_of(path: str | os.PathLike) -> str:
    extension = os.path.splitext(str(path))[1].lower().lstrip(".")
    return {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "bmp": "BMP", "gif": "GIF"}.get(extension, "PNG")
