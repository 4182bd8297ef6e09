"""The library's one random generator: initialisation, dropout and shuffling all draw from it."""
from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.Generator(np.random.PCG64())


def generator() -> np.random.Generator:
    """The shared generator (seed it with ``manual_seed``)."""
    return _generator


def manual_seed(seed: int) -> np.random.Generator:
    """Seed initialisation, dropout and data shuffling at once, like ``torch.manual_seed``."""
    _generator.bit_generator.state = np.random.PCG64(seed).state
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The generator's state, to store in a checkpoint."""
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    _generator.bit_generator.state = state
