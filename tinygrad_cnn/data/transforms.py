"""Image transforms with torchvision's semantics (``torchvision.transforms``): each one takes
one sample, as torchvision's do. Images are NumPy arrays (H, W) or (H, W, C) of uint8 before
``ToTensor`` (where torchvision has PIL images) and float Tensors (C, H, W) after it.

Each transform also has ``batch(images)``, the same on a stack of samples (N first) in one
vectorised step, with each sample's randomness drawn on its own. Our datasets use it to fetch
a whole batch at once when every transform in their pipeline has it. Transforms compute on
the values (no graph is recorded), as data loading needs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..random import generator
from ..tensor import Tensor


def _array(image: Any) -> np.ndarray:
    return image.numpy() if isinstance(image, Tensor) else np.asarray(image)


def _like(result: np.ndarray, image: Any) -> Any:
    """``result`` as the type ``image`` came in (a Tensor stays a Tensor)."""
    return Tensor(result) if isinstance(image, Tensor) else result


def _pair(name: str, size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name}: please provide only two dimensions (h, w) for size, got {size}")
    return int(size[0]), int(size[1])


class Compose:
    """Transforms applied one after another."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: Any) -> Any:
        for transform in self.transforms:
            image = transform(image)
        return image

    def batch(self, images: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            images = transform.batch(images)
        return images

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class ToTensor:
    """An (H, W) or (H, W, C) array to a (C, H, W) Tensor; uint8 pixels are scaled to float32
    in [0, 1], other dtypes are kept as they are (torchvision's rule)."""

    def __call__(self, pic: Any) -> Tensor:
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"ToTensor: pic should be an ndarray (H, W) or (H, W, C). Got {type(pic)}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        return Tensor(self._converted(pic[None]))[0]

    def batch(self, pics: np.ndarray) -> np.ndarray:
        return self._converted(pics)

    @staticmethod
    def _converted(pics: np.ndarray) -> np.ndarray:
        chw = (pics[:, None] if pics.ndim == 3 else pics.transpose(0, 3, 1, 2))
        if pics.dtype == np.uint8:
            return chw.astype(np.float32) * np.float32(1 / 255)
        return np.ascontiguousarray(chw)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(image - mean[c]) / std[c]`` per channel of a float (..., C, H, W) image."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor: Any) -> Any:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: img should be a Tensor. Got {type(tensor)}")
        result = self.batch(tensor.numpy())
        if self.inplace:
            tensor.copy_(Tensor(result))
            return tensor
        return Tensor(result)

    def batch(self, images: np.ndarray) -> np.ndarray:
        if images.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor. Got {images.dtype}.")
        if images.ndim < 3:
            raise ValueError(f"Normalize: expected tensor to be a tensor image of size (..., C, H, W). Got "
                             f"tensor.size() = {images.shape}")
        mean = np.asarray(self.mean, dtype=images.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=images.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero after conversion to {images.dtype}, leading to "
                             "division by zero.")
        return (images - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """A function of one's own as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, image: Any) -> Any:
        return self.lambd(image)

    def __repr__(self) -> str:
        return "Lambda()"


class RandomHorizontalFlip:
    """Mirror the image left to right with probability ``p`` (drawn from the shared generator)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, image: Any) -> Any:
        if generator().random() < self.p:
            return _like(np.ascontiguousarray(_array(image)[..., ::-1]), image)
        return image

    def batch(self, images: np.ndarray) -> np.ndarray:
        flipped = generator().random(len(images)) < self.p
        out = images.copy()
        out[flipped] = images[flipped][..., ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """A ``size`` crop at a random place of the image (..., H, W), padded first by ``padding``
    (left, top, right, bottom as torchvision reads 1, 2 or 4 numbers) with ``fill`` or a mode."""

    MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float = 0, padding_mode: str = "constant") -> None:
        self.size = _pair("RandomCrop", size)
        if padding_mode not in self.MODES:
            raise ValueError(f"RandomCrop: padding_mode should be constant, edge, reflect or symmetric, "
                             f"got {padding_mode!r}")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    def _sides(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom)."""
        p = self.padding
        if p is None:
            return 0, 0, 0, 0
        if isinstance(p, (int, np.integer)):
            return (int(p),) * 4
        if len(p) == 1:
            return (int(p[0]),) * 4
        if len(p) == 2:
            return int(p[0]), int(p[1]), int(p[0]), int(p[1])
        if len(p) == 4:
            return tuple(int(v) for v in p)
        raise ValueError(f"RandomCrop: padding must be an int or a 1, 2, or 4 element sequence, got {p}")

    def _padded(self, images: np.ndarray) -> np.ndarray:
        left, top, right, bottom = self._sides()
        th, tw = self.size
        h, w = images.shape[-2] + top + bottom, images.shape[-1] + left + right
        if self.pad_if_needed:
            top, bottom = top + max(th - h, 0), bottom + max(th - h, 0)
            left, right = left + max(tw - w, 0), right + max(tw - w, 0)
        if not (top or bottom or left or right):
            return images
        widths = [(0, 0)] * (images.ndim - 2) + [(top, bottom), (left, right)]
        if self.padding_mode == "constant":
            return np.pad(images, widths, constant_values=self.fill)
        return np.pad(images, widths, mode=self.MODES[self.padding_mode])

    def _offsets(self, images: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        (h, w), (th, tw) = images.shape[-2:], self.size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input image size {(h, w)}")
        rng = generator()
        return rng.integers(0, h - th + 1, count), rng.integers(0, w - tw + 1, count)

    def __call__(self, image: Any) -> Any:
        padded = self._padded(_array(image))
        (top,), (left,) = self._offsets(padded, 1)
        th, tw = self.size
        return _like(np.ascontiguousarray(padded[..., top:top + th, left:left + tw]), image)

    def batch(self, images: np.ndarray) -> np.ndarray:
        padded = self._padded(images)
        tops, lefts = self._offsets(padded, len(images))
        th, tw = self.size
        rows = (tops[:, None] + np.arange(th))[:, :, None]  # (N, th, 1)
        cols = (lefts[:, None] + np.arange(tw))[:, None, :]  # (N, 1, tw)
        moved = np.moveaxis(padded, (-2, -1), (1, 2))  # (N, H, W, ...)
        crops = moved[np.arange(len(images))[:, None, None], rows, cols]
        return np.ascontiguousarray(np.moveaxis(crops, (1, 2), (-2, -1)))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def _resize_weights(size_in: int, size_out: int, antialias: bool) -> np.ndarray:
    """The (size_out, size_in) matrix of bilinear resizing along one axis (half-pixel centres,
    as ``align_corners=False``); with ``antialias``, downscaling widens the triangle filter by
    the scale, as PIL and PyTorch's antialiased interpolation do."""
    scale = size_in / size_out
    support = max(scale, 1.0) if antialias else 1.0
    centres = (np.arange(size_out) + 0.5) * scale
    distance = (np.arange(size_in)[None, :] + 0.5 - centres[:, None]) / support
    weights = np.maximum(0.0, 1.0 - np.abs(distance))
    if not antialias and scale > 1:  # plain bilinear: the two nearest pixels, borders clamped
        source = np.clip(centres - 0.5, 0, size_in - 1)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, size_in - 1)
        weights = np.zeros((size_out, size_in))
        np.add.at(weights, (np.arange(size_out), low), 1 - (source - low))
        np.add.at(weights, (np.arange(size_out), high), source - low)
    return weights / weights.sum(axis=1, keepdims=True)


class Resize:
    """Bilinear resize of a (..., H, W) image to ``size``: (h, w), or an int that the shorter
    side becomes (the other keeps the aspect ratio, at most ``max_size``). ``antialias`` (the
    default, as torchvision's) filters before downscaling."""

    def __init__(self, size: int | Sequence[int], interpolation: Any = "bilinear", max_size: int | None = None,
                 antialias: bool = True) -> None:
        if str(interpolation).lower().split(".")[-1] != "bilinear":
            raise ValueError(f"Resize: only bilinear interpolation is implemented, got {interpolation!r}")
        self.size, self.max_size, self.antialias = size, max_size, antialias

    def _output_size(self, h: int, w: int) -> tuple[int, int]:
        if not isinstance(self.size, (int, np.integer)) and len(self.size) == 2:
            return int(self.size[0]), int(self.size[1])
        size = int(self.size if isinstance(self.size, (int, np.integer)) else self.size[0])
        short, long = min(h, w), max(h, w)
        new_short, new_long = size, int(size * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_short, new_long) if h <= w else (new_long, new_short)

    def __call__(self, image: Any) -> Any:
        return _like(self.batch(_array(image)[None])[0], image)

    def batch(self, images: np.ndarray) -> np.ndarray:
        if images.dtype.kind != "f":
            raise TypeError(f"Resize: expected a float image (after ToTensor), got dtype {images.dtype}")
        (h, w) = images.shape[-2:]
        oh, ow = self._output_size(h, w)
        rows = _resize_weights(h, oh, self.antialias).astype(images.dtype)
        cols = _resize_weights(w, ow, self.antialias).astype(images.dtype)
        return np.ascontiguousarray(rows @ images @ cols.T)

    def __repr__(self) -> str:
        return f"Resize(size={self.size}, antialias={self.antialias})"


def batchable(transform: Any) -> bool:
    """True when ``transform`` (or each part of a Compose) can take a whole batch at once."""
    if transform is None:
        return True
    if isinstance(transform, Compose):
        return all(batchable(t) for t in transform.transforms)
    return callable(getattr(transform, "batch", None))


__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomHorizontalFlip", "RandomCrop", "Resize"]
