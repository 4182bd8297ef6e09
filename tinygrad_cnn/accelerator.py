"""``tc.accelerator``, as ``torch.accelerator`` on a machine without one: programs that pick
``torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"`` get the CPU."""
from __future__ import annotations

from typing import Any


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> Any:
    return None


def device_count() -> int:
    return 0
