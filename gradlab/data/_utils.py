"""Small helpers shared by the data package: wrapping numpy arrays as Tensors, picking a random generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend

__all__ = ["wrap", "is_tensor", "unwrap", "numpy_rng"]


_TENSOR: list = []
_FROM_NUMPY: list = []


def _tensor_cls() -> type:
    if not _TENSOR:
        from ..tensor import Tensor

        _TENSOR.append(Tensor)
    return _TENSOR[0]


def is_tensor(obj: Any) -> bool:
    """True when ``obj`` is a gradlab Tensor."""
    return isinstance(obj, _tensor_cls())


def wrap(arr: np.ndarray) -> Any:
    """Wrap a numpy array as a gradlab Tensor sharing its memory (``gradlab.from_numpy``; TypeError for dtypes
    gradlab does not hold)."""
    if not _FROM_NUMPY:
        from ..creation import from_numpy

        _FROM_NUMPY.append(from_numpy)
    return _FROM_NUMPY[0](arr)


def unwrap(obj: Any) -> np.ndarray:
    """The numpy array behind a Tensor (or ``np.asarray(obj)`` for anything else)."""
    if is_tensor(obj):
        return obj.data
    return np.asarray(obj)


def numpy_rng(generator: Any = None) -> np.random.Generator:
    """The numpy ``Generator`` behind a gradlab ``Generator`` (``None``: the default generator).

    A plain ``numpy.random.Generator`` is accepted too.
    """
    if generator is None:
        return backend.default_generator.numpy_rng
    if isinstance(generator, np.random.Generator):
        return generator
    rng = getattr(generator, "numpy_rng", None)
    if rng is None:
        raise TypeError(f"generator must be a gradlab.Generator, got {type(generator).__name__}")
    return rng
