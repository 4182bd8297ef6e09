"""The IDX file format of MNIST and Fashion-MNIST, gzipped or not.

Layout: two zero bytes, a type code, the number of dimensions, each dimension as a
big-endian uint32, then the values in row-major order.
"""
from __future__ import annotations

import gzip
import math
import os
from pathlib import Path

import numpy as np

_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dtype.newbyteorder(">") if dtype.itemsize > 1 else dtype: code for code, dtype in _TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMENSIONS = 64  # NumPy's limit


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as file:
        raw = file.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"read_idx: {path} is a damaged gzip file ({error})") from None
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain, detected from its content) into a NumPy array."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"read_idx: {path} is not an IDX file (it does not start with two zero bytes)")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise ValueError(f"read_idx: {path} has unknown IDX type code 0x{code:02x}")
    if ndim > MAX_DIMENSIONS:
        raise ValueError(f"read_idx: {path} declares {ndim} dimensions; an array has at most {MAX_DIMENSIONS}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated inside its header")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow for huge dimensions
    if len(raw) - header != expected:
        state = "truncated" if len(raw) - header < expected else "longer than its header says"
        raise ValueError(f"read_idx: {path} is {state}: shape {shape} of {dtype} needs {expected} bytes "
                         f"of data, the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzipped when the name ends in ``.gz``."""
    array = np.asarray(array)
    big_endian = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if big_endian not in _CODES:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, _CODES[big_endian], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(big_endian).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
