"""Handles for hooks (on tensors, nodes and modules), as ``torch.utils.hooks.RemovableHandle``."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` (or leaving a ``with`` block) removes it."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, hook: Callable[..., Any], prepend: bool = False) -> None:
        RemovableHandle._next_id += 1
        self.id, self._hooks = RemovableHandle._next_id, hooks
        hooks[self.id] = hook
        if prepend:
            hooks.move_to_end(self.id, last=False)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
