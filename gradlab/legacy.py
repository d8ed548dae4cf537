"""torch's legacy typed constructors still common in course material: ``FloatTensor``, ``DoubleTensor``,
``LongTensor``, ``IntTensor``, ``ByteTensor``, ``BoolTensor`` (factories returning a plain ``Tensor``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"]


def _typed(dtype: Any, args: tuple, device: Any) -> Tensor:
    if not args or all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args):
        return Tensor(*args, dtype=dtype, device=device)  # a shape: zeros
    if len(args) > 1:
        raise TypeError(f"expected a shape (ints) or one sequence of data, got {len(args)} arguments")
    return Tensor(args[0], dtype=dtype, device=device)


def FloatTensor(*args: Any, device: Any = None) -> Tensor:  # noqa: N802  (torch's name)
    """A float32 tensor: ``FloatTensor([1, 2])`` holds data, ``FloatTensor(2, 3)`` is a zero tensor of that shape.

    >>> FloatTensor([1, 2]).dtype, FloatTensor(2, 3).shape
    (dtype('float32'), gradlab.Size([2, 3]))
    """
    return _typed(np.float32, args, device)


def DoubleTensor(*args: Any, device: Any = None) -> Tensor:  # noqa: N802
    """A float64 tensor (data or a shape), as ``FloatTensor``.

    >>> DoubleTensor([1]).dtype
    dtype('float64')
    """
    return _typed(np.float64, args, device)


def LongTensor(*args: Any, device: Any = None) -> Tensor:  # noqa: N802
    """An int64 tensor (data or a shape), as ``FloatTensor``.

    >>> LongTensor([1, 2]).tolist(), LongTensor(3).dtype
    ([1, 2], dtype('int64'))
    """
    return _typed(np.int64, args, device)


def IntTensor(*args: Any, device: Any = None) -> Tensor:  # noqa: N802
    """An int32 tensor (data or a shape).

    >>> IntTensor([1]).dtype
    dtype('int32')
    """
    return _typed(np.int32, args, device)


def ByteTensor(*args: Any, device: Any = None) -> Tensor:  # noqa: N802
    """A uint8 tensor (data or a shape).

    >>> ByteTensor([1]).dtype
    dtype('uint8')
    """
    return _typed(np.uint8, args, device)


def BoolTensor(*args: Any, device: Any = None) -> Tensor:  # noqa: N802
    """A bool tensor (data or a shape).

    >>> BoolTensor([True, False]).dtype
    dtype('bool')
    """
    return _typed(np.bool_, args, device)
