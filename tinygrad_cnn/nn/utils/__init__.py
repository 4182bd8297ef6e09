"""``nn.utils``: gradient clipping (PyTorch's ``clip_grad_norm_`` and ``clip_grad_value_``)."""
from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
