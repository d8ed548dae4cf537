"""``Size``: the shape of a tensor, a tuple subclass as ``torch.Size`` (``t.shape``, ``t.size()``)."""
from __future__ import annotations

import math
from typing import Any

__all__ = ["Size"]


class Size(tuple):
    """A tensor's shape: a tuple of ints with ``numel()``; slicing or adding gives a ``Size`` again.

    It prints as a plain tuple (``(2, 3)``, where torch prints ``torch.Size([2, 3])``) so that shapes read the same
    in gradlab's documentation and messages as before.

    >>> import gradlab
    >>> s = gradlab.zeros(2, 3).shape
    >>> s, s.numel(), s == (2, 3), type(s[1:]).__name__
    ((2, 3), 6, True, 'Size')
    """

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for a 0-d one)."""
        return math.prod(self)

    def __getitem__(self, index: Any) -> Any:  # type: ignore[override]
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other: Any) -> Size:  # type: ignore[override]
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

