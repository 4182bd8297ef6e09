"""Version counters: one per storage, bumped by every in-place change, as in PyTorch.

A node that will read an input's values in backward records that input's version when it is
created; backward compares it with the version now and refuses to compute a gradient from
values that an in-place operation has overwritten since.

A storage is the NumPy array that owns the memory: views (reshape, indexing, ``detach()``,
``.T``) reach it through their ``.base`` chain, so they share its counter. Counters are kept
only for storages that were ever changed in place; every other storage is at version 0.
"""
from __future__ import annotations

import weakref

import numpy as np

_counters: dict[int, tuple[weakref.ref, list[int]]] = {}


def storage_of(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (``array`` itself unless it is a view)."""
    root, base = array, array.base
    if base is None:
        return array
    while base is not None:  # a view's base, or a helper object that holds one
        if isinstance(base, np.ndarray):
            root = base
        base = getattr(base, "base", None)
    return root


def any_changed() -> bool:
    """True when some live storage has been changed in place. Until then every version is 0,
    so the engine skips recording and checking them (the common case, met once per operation)."""
    return bool(_counters)


def version_of(array: np.ndarray) -> int:
    """How many in-place changes the storage behind ``array`` has seen."""
    if not _counters:
        return 0
    root = storage_of(array)
    entry = _counters.get(id(root))
    return entry[1][0] if entry is not None and entry[0]() is root else 0


def bump_version(array: np.ndarray) -> int:
    """Record one in-place change of the storage behind ``array``; returns the new version."""
    entry = _entry(storage_of(array))
    entry[1][0] += 1
    return entry[1][0]


def _entry(root: np.ndarray) -> tuple[weakref.ref, list[int]]:
    """The counter of a storage, made at 0 the first time."""
    entry = _counters.get(id(root))
    return entry if entry is not None and entry[0]() is root else _install(root, [0])


def _install(root: np.ndarray, counter: list[int]) -> tuple[weakref.ref, list[int]]:
    """Make ``counter`` the storage's (dropped with the storage)."""
    key = id(root)
    entry = (weakref.ref(root, lambda _, key=key: _counters.pop(key, None)), counter)
    _counters[key] = entry
    return entry


def share_version(old: np.ndarray, new: np.ndarray) -> None:
    """Make ``new``'s storage count its versions on ``old``'s counter (a copy that takes the
    place of ``old``, whose readers must see changes made through ``new``)."""
    _install(storage_of(new), _entry(storage_of(old))[1])


class _Alias:
    """An array's memory under a new identity: NumPy takes its ``__array_interface__`` and makes
    it the base of a new array, and there is no ``base`` chain back to the original storage."""

    def __init__(self, array: np.ndarray) -> None:
        self.__array_interface__ = array.__array_interface__
        self.array = array  # keeps the memory alive


def with_own_version(array: np.ndarray) -> np.ndarray:
    """``array``'s memory as a storage of its own: in-place changes through the result (and its
    views) bump its own counter, not the original's (PyTorch's ``.data``)."""
    return np.asarray(_Alias(array))


def same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` and ``b`` are the same elements of the same memory (aliases)."""
    return a.__array_interface__ == b.__array_interface__
