"""``Size``: the shape of a tensor, a tuple subclass as ``torch.Size`` (``t.shape``, ``t.size()``)."""
from __future__ import annotations

import math
from typing import Any

__all__ = ["Size"]


class Size(tuple):
    """A tensor's shape: a tuple of ints with ``numel()``; slicing or adding gives a ``Size`` again.

    It prints as torch's does, with gradlab's name: ``gradlab.Size([2, 3])``.

    >>> import gradlab
    >>> s = gradlab.zeros(2, 3).shape
    >>> s, s.numel(), s == (2, 3), type(s[1:]).__name__
    (gradlab.Size([2, 3]), 6, True, 'Size')
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"gradlab.Size({list(self)!r})"

    __str__ = __repr__

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

