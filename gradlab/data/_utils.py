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
    """True when ``obj`` is a gradlab Tensor.

    >>> import gradlab, numpy as np
    >>> is_tensor(gradlab.zeros(2)), is_tensor(np.zeros(2))
    (True, False)
    """
    return isinstance(obj, _tensor_cls())


def wrap(arr: np.ndarray) -> Any:
    """Wrap a numpy array as a gradlab Tensor sharing its memory (``gradlab.from_numpy``; TypeError for dtypes
    gradlab does not hold).

    >>> import numpy as np
    >>> a = np.arange(3.0, dtype=np.float32)
    >>> t = wrap(a)
    >>> a[0] = 7.0
    >>> type(t).__name__, t.tolist()
    ('Tensor', [7.0, 1.0, 2.0])
    """
    if not _FROM_NUMPY:
        from ..creation import from_numpy

        _FROM_NUMPY.append(from_numpy)
    return _FROM_NUMPY[0](arr)


def unwrap(obj: Any) -> np.ndarray:
    """The numpy array behind a Tensor (or ``np.asarray(obj)`` for anything else).

    >>> import gradlab
    >>> unwrap(gradlab.tensor([1.0, 2.0])), unwrap([3, 4])
    (array([1., 2.], dtype=float32), array([3, 4]))
    """
    if is_tensor(obj):
        return obj._data
    return np.asarray(obj)


def numpy_rng(generator: Any = None) -> np.random.Generator:
    """The numpy ``Generator`` behind a gradlab ``Generator`` (``None``: the default generator).

    A plain ``numpy.random.Generator`` is accepted too.

    >>> import gradlab
    >>> int(numpy_rng(gradlab.Generator(0)).integers(100)) == int(numpy_rng(gradlab.Generator(0)).integers(100))
    True
    """
    if generator is None:
        return backend.default_generator.numpy_rng
    if isinstance(generator, np.random.Generator):
        return generator
    rng = getattr(generator, "numpy_rng", None)
    if rng is None:
        raise TypeError(f"generator must be a gradlab.Generator, got {type(generator).__name__}")
    return rng
