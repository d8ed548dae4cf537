"""Padding layers with torch's names and reprs: ``ZeroPad1d``, ``ConstantPad1d``/``2d``, ``ReflectionPad1d``/``2d``,
``ReplicationPad1d``/``2d`` (``ZeroPad2d`` lives in :mod:`gradlab.nn.shape_layers`)."""

from __future__ import annotations

from typing import Any

from gradlab.nn import functional as F
from gradlab.nn.module import Module

__all__ = [
    "ZeroPad1d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
    "ReplicationPad2d",
]  # fmt: skip


def _widths(padding: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    if len(padding) != 2 * n:
        raise ValueError(f"{name}: padding must be an int or a {2 * n}-tuple, got {padding!r}")
    return tuple(int(p) for p in padding)


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        self.padding = _widths(padding, self._n, type(self).__name__)
        self.value = value

    def forward(self, input: Any) -> Any:
        if input.ndim not in (self._n + 1, self._n + 2):
            raise ValueError(
                f"{type(self).__name__}: expected a {self._n + 1}-D or {self._n + 2}-D input, got shape "
                f"{tuple(input.shape)}"
            )
        return F.pad(input, self.padding, mode=self._mode, value=self.value)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_PadNd):
    """Pad the last dim with zeros: an int, or (left, right).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ZeroPad1d((1, 2))(gradlab.ones(1, 2, 3)).shape
    gradlab.Size([1, 2, 6])
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


class ConstantPad1d(_PadNd):
    """Pad the last dim with ``value``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ConstantPad1d(1, 3.0)(gradlab.zeros(1, 1, 2)).tolist()
    [[[3.0, 0.0, 0.0, 3.0]]]
    """

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    """Pad the last two dims with ``value``: an int, or (left, right, top, bottom).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ConstantPad2d((1, 0, 0, 1), 2.0)(gradlab.zeros(1, 1, 1, 1)).tolist()
    [[[[2.0, 0.0], [2.0, 2.0]]]]
    """

    _n = 2


class ReflectionPad1d(_PadNd):
    """Pad the last dim with the reflection of the input (the edge value not repeated).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ReflectionPad1d(2)(gradlab.tensor([[[1.0, 2.0, 3.0]]])).tolist()
    [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
    """

    _mode = "reflect"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last two dims with the reflection of the input.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ReflectionPad2d(1)(gradlab.zeros(1, 1, 3, 3)).shape
    gradlab.Size([1, 1, 5, 5])
    """

    _n = 2


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating the edge values.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ReplicationPad1d((1, 2))(gradlab.tensor([[[1.0, 2.0]]])).tolist()
    [[[1.0, 1.0, 2.0, 2.0, 2.0]]]
    """

    _mode = "replicate"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last two dims by repeating the edge values.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ReplicationPad2d(1)(gradlab.zeros(1, 1, 2, 2)).shape
    gradlab.Size([1, 1, 4, 4])
    """

    _n = 2
