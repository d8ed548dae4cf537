"""``Upsample`` (mode 'nearest') and ``UpsamplingNearest2d``, over ``F.interpolate``."""
from __future__ import annotations

from typing import Any

from gradlab.nn import functional as F
from gradlab.nn.module import Module

__all__ = ["Upsample", "UpsamplingNearest2d"]


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) maps to ``size`` or by ``scale_factor``; ``mode='nearest'`` only.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Upsample(scale_factor=2)(gradlab.tensor([[[[1.0, 2.0]]]])).tolist()
    [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest", align_corners: Any = None,
                 recompute_scale_factor: Any = None) -> None:
        super().__init__()
        if mode != "nearest":
            raise NotImplementedError(f"Upsample: mode {mode!r} is not implemented (only 'nearest')")
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Any) -> Any:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` for (N, C, H, W) maps.

    >>> import gradlab
    >>> UpsamplingNearest2d(scale_factor=2)(gradlab.ones(1, 3, 4, 5)).shape
    gradlab.Size([1, 3, 8, 10])
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")
