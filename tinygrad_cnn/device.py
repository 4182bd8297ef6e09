"""Devices: tinygrad_cnn computes on the CPU only, but scripts written for PyTorch ask about
devices (``x.to(device)``, ``torch.cuda.is_available()``), so the answers exist."""
from __future__ import annotations

from typing import Any


class device:  # noqa: N801  (PyTorch's name)
    """``device("cpu")`` (or ``"cpu:0"``); any other device type is a clear error."""

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        kind, _, number = str(type).partition(":")
        if kind != "cpu":
            raise RuntimeError(f"device: tinygrad_cnn computes on the CPU only; {type!r} is not available "
                               "(tc.cuda.is_available() is False)")
        self.type = "cpu"
        self.index = int(number) if number else index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def set_default_device(device_: Any) -> None:
    """Where new tensors are made: the CPU (None or "cpu"); another device is refused."""
    if device_ is not None:
        device(device_)


def get_default_device() -> device:
    return CPU
