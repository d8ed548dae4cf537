"""Per-sample normalisation layers: ``GroupNorm``, ``InstanceNorm1d``, ``InstanceNorm2d`` (torch's parameter and
buffer names, so a torch ``state_dict`` loads as is)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.module import Module
from gradlab.nn.norm import _BatchNorm
from gradlab.nn.parameter import Parameter

__all__ = ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d"]


class GroupNorm(Module):
    """Normalise (N, C, ...) over groups of ``num_channels / num_groups`` channels (and the spatial dims), then a
    per-channel affine map.

    >>> import gradlab
    >>> from gradlab import nn
    >>> gn = nn.GroupNorm(2, 4)
    >>> gn
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    >>> gn(gradlab.randn(3, 4, 5)).shape
    gradlab.Size([3, 4, 5])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(num_channels, dtype=dt)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_channels, dtype=dt)) if affine and bias else None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Any) -> Any:
        if input.ndim < 2 or int(input.shape[1]) != self.num_channels:
            raise ValueError(
                f"GroupNorm: expected an input of shape (N, {self.num_channels}, ...), got {tuple(input.shape)}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")  # fmt: skip


class _InstanceNorm(_BatchNorm):
    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:  # fmt: skip
        # the parameters, running statistics, their reset and the repr are batch norm's (torch's _NormBase)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Any) -> Any:
        batched = self._spatial + 2
        if input.ndim not in (batched - 1, batched):
            raise ValueError(
                f"{type(self).__name__}: expected {batched - 1}D (unbatched) or {batched}D (batched) input, "
                f"got shape {tuple(input.shape)}"
            )
        if input.ndim == batched - 1:
            return self.forward(input.unsqueeze(0)).squeeze(0)
        if self.affine and int(input.shape[1]) != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected input's size at dim=1 to match num_features "
                f"({self.num_features}), but got: {input.shape[1]}."
            )
        use_input_stats = self.training or not self.track_running_stats
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                               self.momentum if self.momentum is not None else 0.1, self.eps)  # fmt: skip


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L): each sample's channel over its length.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.InstanceNorm1d(3)(gradlab.randn(2, 3, 6)).shape
    gradlab.Size([2, 3, 6])
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W): each sample's channel over its plane.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.InstanceNorm2d(3)
    InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """

    _spatial = 2
