"""Data: the IDX reader, MNIST / Fashion-MNIST (torchvision's ``datasets``), torchvision's
``transforms``, and the DataLoader of ``tc.utils.data``."""
from ..utils.data import DataLoader
from . import datasets, transforms
from .dataset import ArrayDataset
from .datasets import MNIST, FashionMNIST
from .idx import read_idx, write_idx
from .transforms import Compose, Normalize, ToTensor

__all__ = ["read_idx", "write_idx", "ArrayDataset", "FashionMNIST", "MNIST", "DataLoader", "datasets", "transforms",
           "ToTensor", "Normalize", "Compose"]
