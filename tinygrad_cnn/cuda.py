"""``tc.cuda``: there is no GPU here, and every answer is the one PyTorch's CPU build gives
(memory queries say 0, seeding and emptying caches do nothing, asking for a device fails)."""
from __future__ import annotations

from typing import Any


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def memory_allocated(device: Any = None) -> int:
    return 0


def max_memory_allocated(device: Any = None) -> int:
    return 0


def memory_reserved(device: Any = None) -> int:
    return 0


def max_memory_reserved(device: Any = None) -> int:
    return 0


def reset_peak_memory_stats(device: Any = None) -> None:
    """Nothing to reset: no GPU memory was ever used."""


def empty_cache() -> None:
    """Nothing to empty."""


def manual_seed(seed: int) -> None:
    """No GPU generator to seed (``tc.manual_seed`` seeds the one generator there is)."""


manual_seed_all = manual_seed


def _not_compiled(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("Torch not compiled with CUDA enabled (tinygrad_cnn computes on the CPU only)")


synchronize = current_device = get_device_name = set_device = _not_compiled
