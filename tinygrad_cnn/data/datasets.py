"""MNIST and Fashion-MNIST, found on disk or downloaded with checksum checks.

Where the files are looked for, in order: ``root``; the directory in the dataset's
environment variable; the system location (Debian's ``dataset-fashion-mnist`` package puts
Fashion-MNIST in /usr/share/datasets/fashion-mnist); the download cache; and, only with
``download=True``, the official mirrors.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import ArrayDataset
from .idx import read_idx

SPLIT_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def cache_root() -> Path:
    """Where downloads go: $TINYGRAD_CNN_CACHE, else ~/.cache/tinygrad_cnn."""
    return Path(os.environ.get("TINYGRAD_CNN_CACHE", Path.home() / ".cache" / "tinygrad_cnn"))


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / (name + ".gz"), directory / name):
        if candidate.is_file():
            return candidate
    return None


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _IdxClassification(ArrayDataset):
    """28x28 grayscale images with integer labels, stored as four IDX files; torchvision's
    signature. ``data`` holds the images (N, 28, 28) as uint8, ``targets`` the labels; a sample
    is an (28, 28) uint8 array (where torchvision gives a PIL image) and an int, each through its
    transform."""

    env_var: str
    system_dir: Path | None
    mirrors: tuple[str, ...]
    md5: dict[str, str]  # of the gzipped files on the mirrors
    classes: tuple[str, ...]
    mean: float
    std: float

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable[[Any], Any] | None = None, target_transform: Callable[[Any], Any] | None = None,
                 download: bool = False) -> None:
        self.train = train
        images_name, labels_name = SPLIT_FILES[bool(train)]
        directory = self._locate((images_name, labels_name), root, download)
        images = read_idx(_find(directory, images_name))
        labels = read_idx(_find(directory, labels_name))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: {directory} holds images of shape {images.shape} and "
                             f"labels of shape {labels.shape}; expected (N, H, W) and (N,)")
        self.root = directory
        super().__init__(images, labels.astype(np.int64), transform, target_transform)

    @classmethod
    def _candidates(cls, root: str | os.PathLike | None) -> list[tuple[str, Path | None]]:
        env = os.environ.get(cls.env_var)
        return [
            ("root argument", Path(root) if root is not None else None),
            (f"${cls.env_var}", Path(env) if env else None),
            ("system location", cls.system_dir),
            ("download cache", cache_root() / cls.__name__),
        ]

    @classmethod
    def _locate(cls, names: tuple[str, ...], root: str | os.PathLike | None, download: bool) -> Path:
        candidates = cls._candidates(root)
        for _, directory in candidates:
            if directory is not None and all(_find(directory, n) for n in names):
                return directory
        cache = cache_root() / cls.__name__
        if download:
            cls._download(names, cache)
            return cache
        looked = "\n".join(
            f"  - {label}: {directory if directory is not None else '(not set)'}"
            + ("" if directory is None or directory.is_dir() else " (no such directory)")
            for label, directory in candidates)
        raise FileNotFoundError(
            f"{cls.__name__}: could not find {' and '.join(n + '[.gz]' for n in names)}. Looked in:\n{looked}\n"
            f"To get them: {cls._install_hint()}pass root= a directory that holds them, set "
            f"${cls.env_var}, or pass download=True to fetch them from {cls.mirrors[0]} into {cache}.")

    @classmethod
    def _install_hint(cls) -> str:
        return ""

    @classmethod
    def _download(cls, names: tuple[str, ...], directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in names:
            target = directory / (name + ".gz")
            if target.is_file() and _md5(target) == cls.md5[name]:
                continue
            errors = []
            for mirror in cls.mirrors:
                try:
                    cls._fetch(mirror + name + ".gz", target, cls.md5[name])
                    break
                except (OSError, ValueError) as error:
                    errors.append(f"{mirror}: {error}")
            else:
                raise RuntimeError(f"{cls.__name__}: could not download {name}.gz:\n  " + "\n  ".join(errors))

    @staticmethod
    def _fetch(url: str, target: Path, md5: str) -> None:
        import urllib.request  # only needed for downloads; keeps `import tinygrad_cnn` light

        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file, urllib.request.urlopen(url, timeout=60) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    file.write(chunk)
            if _md5(Path(temporary)) != md5:
                raise ValueError(f"checksum mismatch for {url} (expected md5 {md5})")
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


class FashionMNIST(_IdxClassification):
    """Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of 10 clothing classes."""

    env_var = "FASHION_MNIST_DIR"
    system_dir = Path("/usr/share/datasets/fashion-mnist")
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")
    md5 = {"train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
           "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
           "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
           "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310"}
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    mean, std = 0.2860, 0.3530

    @classmethod
    def _install_hint(cls) -> str:
        return "on Debian `apt-get install dataset-fashion-mnist`; or "


class MNIST(_IdxClassification):
    """LeCun's handwritten digits: 60,000 training and 10,000 test images."""

    env_var = "MNIST_DIR"
    system_dir = Path("/usr/share/datasets/mnist")
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
    md5 = {"train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
           "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
           "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
           "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c"}
    classes = tuple(str(d) for d in range(10))
    mean, std = 0.1307, 0.3081
