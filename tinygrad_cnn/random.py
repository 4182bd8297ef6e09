"""Random generators: the shared one (initialisation, dropout, shuffling) and ``Generator``
objects of one's own, PyTorch's ``torch.Generator``.

Each wraps a NumPy generator (PCG64), so a seed gives the same draws every run; the numbers
themselves are not PyTorch's (its generator is a Mersenne Twister).
"""
from __future__ import annotations

import json
import secrets
from typing import Any

import numpy as np

DEFAULT_SEED = 67280421310721  # PyTorch's default seed of a fresh Generator


class Generator:
    """A random number generator, passed as ``generator=`` to draw apart from the shared one
    (``tc.randperm(n, generator=g)``, ``random_split``, the samplers, ``DataLoader``)."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = device
        self._seed = DEFAULT_SEED
        self.numpy = np.random.Generator(np.random.PCG64(DEFAULT_SEED))

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator; negative seeds wrap around 2**64, as PyTorch's."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
            raise RuntimeError(f"manual_seed: seed must be within [-0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff], "
                               f"got {seed}")
        self._seed = seed % 2 ** 64
        self.numpy.bit_generator.state = np.random.PCG64(self._seed).state
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy and return the seed."""
        self.manual_seed(secrets.randbits(63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Any:
        """The state as a uint8 Tensor, for ``set_state``."""
        from .tensor import Tensor
        encoded = json.dumps({"seed": self._seed, "state": self.numpy.bit_generator.state}).encode()
        return Tensor(np.frombuffer(encoded, dtype=np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        data = new_state.numpy() if hasattr(new_state, "numpy") else np.asarray(new_state)
        try:
            decoded = json.loads(np.asarray(data, dtype=np.uint8).tobytes())
            self.numpy.bit_generator.state = decoded["state"]
        except (ValueError, KeyError, TypeError) as error:
            raise RuntimeError(f"set_state: not a state from Generator.get_state() ({error})") from None
        self._seed = decoded["seed"]
        return self

    def __repr__(self) -> str:
        return f"<tinygrad_cnn.Generator seed={self._seed}>"


default_generator = Generator()


def generator(of: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``of``'s, or the shared one's (``manual_seed``)."""
    if of is None:
        return default_generator.numpy
    if not isinstance(of, Generator):
        raise TypeError(f"generator must be a tinygrad_cnn.Generator, got {type(of).__name__}")
    return of.numpy


def manual_seed(seed: int) -> Generator:
    """Seed initialisation, dropout and data shuffling at once, like ``torch.manual_seed``."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the shared generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    """The shared generator's state, to store in a checkpoint."""
    return default_generator.numpy.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    default_generator.numpy.bit_generator.state = state
