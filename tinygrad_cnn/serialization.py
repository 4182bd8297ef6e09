"""save / load: NumPy ``.npz`` files, never pickle, written atomically.

A nested dict (a checkpoint holding the model's and the optimiser's state dicts, the epoch,
...) is stored flat with "/" joining the keys, and comes back nested; a list of dicts comes
back as a dict keyed "0", "1", .... Tensors come back as Tensors (their names are listed in
one extra entry, ``TENSORS``), arrays as arrays, None as None (listed in ``NONES``); numbers
and strings come back as 0-d arrays (``to_python`` turns them back).
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .device import device
from .tensor import Tensor

SEPARATOR = "/"
TENSORS = "__tensors__"  # the entry naming the stored arrays that were Tensors
NONES = "__nones__"  # the entry naming the values that were None (an optimiser's foreach=None)


def _flatten(tree: Mapping[Any, Any], prefix: str, out: dict[str, np.ndarray], tensors: list[str],
             nones: list[str]) -> None:
    for key, value in tree.items():
        key = str(key)
        if not key or SEPARATOR in key or (not prefix and key in (TENSORS, NONES)):
            raise ValueError(f"save: key {key!r} must be non-empty, must not contain {SEPARATOR!r} and must not be "
                             f"{TENSORS!r} or {NONES!r} at the top level")
        name = prefix + key
        if isinstance(value, (list, tuple)) and any(isinstance(v, Mapping) for v in value):
            value = {str(i): v for i, v in enumerate(value)}  # e.g. an optimiser's param_groups
        if isinstance(value, Mapping):
            if not value:
                raise ValueError(f"save: {name!r} is an empty dict, which .npz cannot represent")
            _flatten(value, name + SEPARATOR, out, tensors, nones)
            continue
        if isinstance(value, Tensor):
            value = value._data
            tensors.append(name)
        if value is None:
            nones.append(name)
            continue
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"save: {name!r} of type {type(value).__name__} cannot be stored without "
                            "pickle; store arrays, numbers, strings or dicts of them")
        out[name] = array


def save(obj: Mapping[str, Any], path: str | os.PathLike | BinaryIO) -> None:
    """Write a (nested) dict of arrays, tensors, numbers, strings and None to ``path`` atomically:
    a temporary file in the same directory, flushed to disk, then renamed over ``path``. An
    open binary file (``io.BytesIO``) is written directly."""
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a dict such as a state_dict, got {type(obj).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tensors: list[str] = []
    nones: list[str] = []
    _flatten(obj, "", arrays, tensors, nones)
    if tensors:
        arrays[TENSORS] = np.array(tensors)
    if nones:
        arrays[NONES] = np.array(nones)
    if hasattr(path, "write"):
        np.savez(path, **arrays)
    else:
        write_atomically(path, lambda file: np.savez(file, **arrays))


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], Any]) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, then rename
    it over ``path``: a crash never leaves a half-written file (checkpoints, metrics, plots).

    The file gets the permissions the umask gives a new file (as ``open`` would), and
    temporaries that a killed process left beside ``path`` are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), 0o666 & ~_umask())
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.NAME.PID.*.tmp`` files beside ``path`` whose writing process no longer runs."""
    for temporary in path.parent.glob(f".{path.name}.*.tmp"):
        pid = temporary.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            temporary.unlink(missing_ok=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        return True
    return True


def load(path: str | os.PathLike | BinaryIO, map_location: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None) -> dict[str, Any]:
    """Read a file written by ``save``: the dict as it was saved, Tensors as Tensors.

    PyTorch's keywords are taken: the file never holds pickled code whatever ``weights_only``
    says, ``map_location`` may name the CPU only (a callable is applied to each Tensor as
    ``map_location(tensor, "cpu")``), and ``mmap`` is accepted and ignored.
    """
    del weights_only, mmap  # (no pickle: loading is always weights only; the arrays are read whole)
    if map_location is not None and not callable(map_location):
        for place in map_location.values() if isinstance(map_location, Mapping) else (map_location,):
            device(place)  # a clear error for anything but the CPU
    if not hasattr(path, "read"):  # (an open binary file is read as it is)
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"load: no file at {path}")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"load: {path} is not a readable .npz checkpoint: it is damaged or was not written "
                         f"by tc.save ({type(error).__name__}: {error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {path} holds a single array (a .npy file), not a dict written by tc.save "
                         f"(.npz); read it with numpy.load")
    try:
        with archive:
            flat = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"load: {path} is damaged: a stored array cannot be read "
                         f"({type(error).__name__}: {error})") from None
    tensors = set(flat.pop(TENSORS, np.array([], dtype=str)).tolist())
    flat.update(dict.fromkeys(flat.pop(NONES, np.array([], dtype=str)).tolist()))
    tree: dict[str, Any] = {}
    for name, array in flat.items():
        if name in tensors:
            array = Tensor(array)
            if callable(map_location):
                array = map_location(array, "cpu")
        *parents, leaf = name.split(SEPARATOR)
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = array
    return tree


def to_python(tree: Any) -> Any:
    """Turn the 0-d arrays of a loaded tree back into Python numbers and strings."""
    if isinstance(tree, Mapping):
        return {key: to_python(value) for key, value in tree.items()}
    if isinstance(tree, np.ndarray) and tree.ndim == 0:
        return tree.item()
    return tree
