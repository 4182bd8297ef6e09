"""Sample inputs for the op table: values drawn from a domain, laid out in memory in the ways
PyTorch programs lay them out (the differential fuzzer and ``check_op`` both draw from here)."""
from __future__ import annotations

import numpy as np

Shape = tuple[int, ...]
LAYOUTS = ("contiguous", "fortran", "permuted", "strided", "offset", "channels_last")


def sample_values(shape: Shape, dtype: str = "float64", kind: str = "float", domain: str = "real", high: int = 0,
                  seed: int = 0, jitter: float = 0.0) -> np.ndarray:
    """Reproducible values from ``seed``. ``kind``: "float", "index" or "int" (integers in
    [0, high)), "bool". Float ``domain``: "real" (standard normal), "positive" and "nonzero"
    (magnitudes in [0.5, 2)), "unit" (in (0.05, 0.95)), "ties" (multiples of 0.5 in [-1, 1]:
    equal values, zeros and kinks). ``jitter`` perturbs real values relatively."""
    rng = np.random.default_rng(seed)
    if kind in ("index", "int"):
        return rng.integers(0, max(high, 1), shape).astype(np.int64)
    if kind == "bool":
        return rng.random(shape) < 0.5
    if domain == "positive":
        values = rng.uniform(0.5, 2.0, shape)
    elif domain == "nonzero":
        values = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    elif domain == "unit":
        values = rng.uniform(0.05, 0.95, shape)
    elif domain == "ties":
        values = rng.integers(-2, 3, shape) * 0.5
    elif domain == "real":
        values = rng.standard_normal(shape)
        if jitter:
            values = values * (1 + jitter * np.random.default_rng(seed + 1).standard_normal(shape))
    else:
        raise ValueError(f"sample_values: unknown domain {domain!r}; expected one of real, positive, nonzero, "
                         "unit, ties")
    return values.astype(dtype)


def in_layout(values: np.ndarray, layout: str) -> np.ndarray:
    """``values`` copied into memory of the given layout (positive strides only, so that
    ``torch.from_numpy`` takes it): "contiguous", "fortran", "permuted" (axes in reverse
    memory order), "strided" (every other row of a larger buffer), "offset" (one element into
    its buffer), "channels_last" (4-D only; others stay contiguous)."""
    if layout not in LAYOUTS:
        raise ValueError(f"in_layout: unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if values.ndim == 0 or layout == "contiguous":
        return np.array(values, order="C")
    if layout == "fortran":
        return np.asfortranarray(values)
    if layout == "permuted":
        order = tuple(range(values.ndim))[::-1]
        return np.ascontiguousarray(values.transpose(order)).transpose(np.argsort(order))
    if layout == "channels_last" and values.ndim == 4:
        return np.ascontiguousarray(values.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "strided":
        big = np.zeros((values.shape[0] * 2,) + values.shape[1:], dtype=values.dtype)
        big[::2] = values
        return big[::2]
    if layout == "offset":
        flat = np.zeros(values.size + 1, dtype=values.dtype)
        view = flat[1:].reshape(values.shape)
        view[...] = values
        return view
    return np.array(values, order="C")
