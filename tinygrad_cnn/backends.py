"""``tc.backends``, as ``torch.backends`` on a CPU-only build: the switches programs set
(``cudnn.benchmark = True``, ``cudnn.deterministic = True``) are accepted and change nothing,
and the availability questions answer False."""
from __future__ import annotations

from types import SimpleNamespace


def _unavailable() -> bool:
    return False


cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                        is_available=_unavailable)
mps = SimpleNamespace(is_available=_unavailable, is_built=_unavailable)
cuda = SimpleNamespace(is_built=_unavailable, matmul=SimpleNamespace(allow_tf32=False))
mkldnn = SimpleNamespace(enabled=True, is_available=_unavailable)

__all__ = ["cudnn", "mps", "cuda", "mkldnn"]
