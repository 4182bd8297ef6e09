"""``tinygrad_cnn.nn.functional``, PyTorch's path to the functional API: the very module
``tinygrad_cnn.functional`` (so ``import tinygrad_cnn.nn.functional as F`` works as in PyTorch)."""
import sys

from .. import functional

sys.modules[__name__] = functional
