"""``tc.utils.tensorboard``: PyTorch's ``torch.utils.tensorboard`` (needs the ``tensorboard``
extra: ``pip install 'tinygrad_cnn[tensorboard]'``)."""
from .writer import FileWriter, SummaryWriter

__all__ = ["SummaryWriter", "FileWriter"]
