"""The array backend: one place that names the array module, the dtype defaults and the random generator.

Every op takes its array module from here (``xp``), so a CuPy backend is an addition, not a rewrite.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "xp",
    "float32",
    "float64",
    "int64",
    "bool_",
    "get_default_dtype",
    "set_default_dtype",
    "Generator",
    "default_generator",
    "manual_seed",
    "SUPPORTED_DTYPES",
    "is_floating",
]

xp = np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

SUPPORTED_DTYPES = frozenset({float16, float32, float64, int8, int16, int32, int64, uint8, bool_})

_default_dtype = [float32]


def get_default_dtype() -> np.dtype:
    """The floating dtype used for Python floats and random factories (float32 unless changed)."""
    return _default_dtype[0]


def set_default_dtype(dtype: Any) -> None:
    """Set the default floating dtype (float32 or float64)."""
    d = np.dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"default dtype must be float32 or float64, got {d}")
    _default_dtype[0] = d


def is_floating(dtype: Any) -> bool:
    return np.dtype(dtype).kind == "f"


class Generator:
    """A seeded source of random numbers, like ``torch.Generator``.

    >>> g = Generator().manual_seed(0)
    >>> a = g.numpy_rng.standard_normal(2)
    >>> b = Generator().manual_seed(0).numpy_rng.standard_normal(2)
    >>> bool((a == b).all())
    True
    """

    __slots__ = ("numpy_rng", "_seed")

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self.numpy_rng = np.random.default_rng(seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.numpy_rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int | None:
        return self._seed

    def get_state(self) -> dict:
        """The generator state as a JSON-serialisable dict."""
        return dict(self.numpy_rng.bit_generator.state)

    def set_state(self, state: dict) -> None:
        self.numpy_rng.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (as ``torch.manual_seed``) and return it."""
    return default_generator.manual_seed(seed)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The numpy generator behind ``generator`` (or the default one)."""
    return (generator if generator is not None else default_generator).numpy_rng
