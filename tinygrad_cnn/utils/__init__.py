"""``tc.utils``: helpers that live in ``torch.utils`` (``checkpoint``)."""
from . import checkpoint

__all__ = ["checkpoint"]
