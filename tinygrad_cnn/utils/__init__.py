"""``tc.utils``: what lives in ``torch.utils`` (``checkpoint``, ``data``)."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
