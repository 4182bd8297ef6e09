"""Debugging aids for the graph: creation sites, anomaly detection and observers.

Both are off by default, because both cost time on every operation. ``record_creation_sites``
makes each new node remember the user's ``file:line``; ``detect_anomaly`` also checks every
primitive's output for NaN in forward, and every gradient for NaN or infinity in backward,
and stops at the first one with an error that says where it was born. (Infinity in forward is
left alone: ``-inf`` from masking is legitimate, and it shows up in backward if it matters.)
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class _Flags:
    """The switches the engine reads on every operation (one attribute lookup each)."""

    __slots__ = ("sites", "anomaly", "check_nan", "in_backward", "tracing", "observer")

    def __init__(self) -> None:
        self.tracing = False     # record every operation, whatever requires grad (export)
        self.sites = False       # record creation sites
        self.anomaly = False     # detect anomalies (and record creation sites)
        self.check_nan = True    # ... including NaN, not only infinity in backward
        self.in_backward = 0     # inside a node's backward: its own operations are not checked
        self.observer: Any = None  # called with (node, outputs) for each recorded node; sets ``sites``


flags = _Flags()
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_site() -> str | None:
    """``file:line`` of the innermost caller outside the tinygrad_cnn package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    return None if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


# --------------------------------------------------------------------------- creation sites

def is_recording_creation_sites() -> bool:
    """True when new nodes remember the user's file:line that created them."""
    return flags.sites


class record_creation_sites:
    """Make new nodes remember the user's file:line that created them (``node.creation_site``).

    Finding the line walks the Python stack, which costs more than the rest of recording a
    node, so it is off by default. A context manager.
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(flags.sites)
        flags.sites = self.mode

    def __exit__(self, *exc: object) -> None:
        flags.sites = self._previous.pop()


class observe_operations:
    """Call ``observer(node, outputs)`` for every node recorded inside the block, once its
    forward has run (``outputs``: the Tensors it returned), with creation sites recorded.

    For tools that watch a whole step, such as ``visualize.record``; the engine reads the same
    switch as ``record_creation_sites``, so observing costs nothing outside the block.
    """

    def __init__(self, observer: Callable[[Any, Sequence[Any]], None]) -> None:
        self.observer = observer
        self._previous: list[tuple[bool, Any]] = []

    def __enter__(self) -> None:
        self._previous.append((flags.sites, flags.observer))
        flags.sites, flags.observer = True, self.observer

    def __exit__(self, *exc: object) -> None:
        flags.sites, flags.observer = self._previous.pop()


# --------------------------------------------------------------------------- anomaly detection

class AnomalyError(RuntimeError):
    """A NaN (or, in backward, an infinity) where a primitive produced it; ``.node`` is that
    primitive's node (``visualize.draw_graph(loss, highlight=err.node)`` marks it)."""

    def __init__(self, message: str, node: Any) -> None:
        super().__init__(message)
        self.node = node


def is_anomaly_enabled() -> bool:
    return flags.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return flags.check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off now (as ``torch.autograd.set_detect_anomaly``); as a
    context manager it restores the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = (flags.anomaly, flags.check_nan)
        flags.anomaly, flags.check_nan = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        flags.anomaly, flags.check_nan = self._previous


class detect_anomaly:
    """Inside the block, every primitive's output is checked for NaN in forward and every
    gradient for NaN or infinity in backward; the first one raises ``AnomalyError`` naming
    the primitive, its module, the shapes and the user's line that created it (as
    ``torch.autograd.detect_anomaly``). Slow: for finding a bug, not for training."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._setting: list[set_detect_anomaly] = []

    def __enter__(self) -> None:
        self._setting.append(set_detect_anomaly(True, self.check_nan))

    def __exit__(self, *exc: object) -> None:
        self._setting.pop().__exit__(*exc)


def _shapes(values: Sequence[Any]) -> str:
    return ", ".join(str(v.shape) for v in values if hasattr(v, "shape")) or "none"


def _site(node: Any) -> str:
    return f"; it was created at {node.creation_site}" if node.creation_site else ""


def check_forward(node: Any, outputs: Sequence[np.ndarray]) -> None:
    """Raise if a floating output of ``node`` holds NaN (forward checks only NaN)."""
    if not flags.check_nan or flags.in_backward:
        return
    for i, out in enumerate(outputs):
        if isinstance(out, np.ndarray) and out.dtype.kind == "f" and np.isnan(out).any():
            raise AnomalyError(
                f"anomaly: {node.name}{node.module_description} produced NaN in its output {i} of shape "
                f"{out.shape} (from inputs of shapes {_shapes(node.inputs)}){_site(node)}", node)


def check_backward(node: Any, grads: Sequence[Any]) -> None:
    """Raise if a gradient that ``node``'s backward returned holds NaN or infinity."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._data if hasattr(g, "_data") else np.asarray(g)
        if data.dtype.kind != "f":
            continue
        bad = "NaN" if flags.check_nan and np.isnan(data).any() else "infinity" if np.isinf(data).any() else None
        if bad:
            raise AnomalyError(
                f"anomaly: the backward of {node.name}{node.module_description} returned {bad} in the "
                f"gradient of its input {i} of shape {data.shape} (its inputs have shapes "
                f"{_shapes(node.inputs)}){_site(node)}", node)
