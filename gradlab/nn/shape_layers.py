"""Layers that only move values around: ``Unflatten``, ``ZeroPad2d``, ``PixelShuffle``, ``PixelUnshuffle``,
``Unfold``, ``Fold``."""

from __future__ import annotations

from typing import Any

from gradlab.nn import functional as F
from gradlab.nn.module import Module

__all__ = ["Unflatten", "ZeroPad2d", "PixelShuffle", "PixelUnshuffle", "Unfold", "Fold"]


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (one entry may be -1).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Unflatten(1, (2, 3))(gradlab.zeros(4, 6)).shape
    gradlab.Size([4, 2, 3])
    """

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int (named tensors are not supported), got {dim!r}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(s, int) for s in unflattened_size):
            raise TypeError(f"unflattened_size must be a tuple of ints, but found {unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Any) -> Any:
        shape = tuple(int(s) for s in input.shape)
        d = self.dim % len(shape)
        return input.reshape(shape[:d] + self.unflattened_size + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class ZeroPad2d(Module):
    """Pad the last two dims with zeros: an int, or (left, right, top, bottom).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ZeroPad2d((1, 0, 2, 0))(gradlab.ones(1, 1, 2, 2)).shape
    gradlab.Size([1, 1, 4, 3])
    """

    def __init__(self, padding: Any) -> None:
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * 4
        if len(padding) != 4:
            raise ValueError(f"ZeroPad2d: padding must be an int or a 4-tuple, got {padding!r}")
        self.padding = tuple(int(p) for p in padding)

    def forward(self, input: Any) -> Any:
        return F.pad(input, self.padding, mode="constant", value=0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class PixelShuffle(Module):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r) (sub-pixel convolution upsampling).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.PixelShuffle(2)(gradlab.zeros(1, 8, 3, 3)).shape
    gradlab.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Any) -> Any:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W), the inverse of :class:`PixelShuffle`.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.PixelUnshuffle(2)(gradlab.zeros(1, 2, 6, 6)).shape
    gradlab.Size([1, 8, 3, 3])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Any) -> Any:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Unfold(Module):
    """Sliding windows of (N, C, H, W) as columns (N, C * kh * kw, L) (see :func:`gradlab.nn.functional.unfold`).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Unfold(kernel_size=2)(gradlab.zeros(1, 3, 4, 4)).shape
    gradlab.Size([1, 12, 9])
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Any) -> Any:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")  # fmt: skip


class Fold(Module):
    """Sum columns (N, C * kh * kw, L) back onto (N, C, *output_size) (see :func:`gradlab.nn.functional.fold`).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Fold(output_size=(4, 4), kernel_size=2)(gradlab.zeros(1, 12, 9)).shape
    gradlab.Size([1, 3, 4, 4])
    """

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:  # fmt: skip
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Any) -> Any:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")  # fmt: skip
