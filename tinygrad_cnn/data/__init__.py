"""Data: the IDX reader, MNIST / Fashion-MNIST, batch transforms and the DataLoader."""
from .dataset import ArrayDataset
from .datasets import MNIST, FashionMNIST
from .idx import read_idx, write_idx
from .loader import DataLoader
from .transforms import Compose, Normalize, ToFloat

__all__ = ["read_idx", "write_idx", "ArrayDataset", "FashionMNIST", "MNIST", "DataLoader",
           "ToFloat", "Normalize", "Compose"]
