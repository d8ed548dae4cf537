"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d`` (torch's parameter names, shapes and init).

Weights are (out_channels, in_channels / groups, *kernel) for convolutions and (in_channels, out_channels / groups,
*kernel) for transposed ones, so a torch ``state_dict`` loads as is.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, n: int, name: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


class _ConvNd(Module):
    """What every convolution layer shares: argument checks, parameters, torch's initialisation, repr."""

    _n = 2

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
        transposed: bool, output_padding: Any, groups: int, bias: bool, padding_mode: str, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        n, name = self._n, type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, but got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.dilation = _ntuple(dilation, n, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding: Any = padding
        else:
            self.padding = _ntuple(padding, n, "padding")
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's argument for padding_mode != 'zeros': (left, right) of the last dim first
        if self.padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * n
        elif self.padding == "same":
            rp: list = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                rp += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = rp
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding) for _ in range(2)]
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(shape + self.kernel_size, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(a=sqrt(5)) weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _padded(self, input: Any) -> tuple[Any, Any]:
        """(input, padding to give the functional): explicit F.pad for the non-zero padding modes."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) (or (C_in, L)) inputs: weight (out_channels, in_channels/groups, k).

    >>> import gradlab
    >>> from gradlab import nn
    >>> conv = nn.Conv1d(4, 8, 3, padding=1)
    >>> conv(gradlab.randn(2, 4, 10)).shape, conv.weight.shape
    (gradlab.Size([2, 8, 10]), gradlab.Size([8, 4, 3]))
    """

    _n = 1

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
        dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
        dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias,
                         padding_mode, dtype)

    def forward(self, input: Any) -> Any:
        x, padding = self._padded(input)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) (or (C_in, H, W)) inputs: weight (out_channels, in_channels/groups,
    kH, kW); ``padding`` an int, a pair, 'valid' or 'same'; ``padding_mode`` 'zeros', 'reflect', 'replicate' or
    'circular'.

    >>> import gradlab
    >>> from gradlab import nn
    >>> conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
    >>> conv
    Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    >>> conv(gradlab.randn(2, 3, 32, 32)).shape
    gradlab.Size([2, 16, 16, 16])
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
        dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
        dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias,
                         padding_mode, dtype)

    def forward(self, input: Any) -> Any:
        x, padding = self._padded(input)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the adjoint of Conv2d, "deconvolution"): weight (in_channels,
    out_channels/groups, kH, kW); output size (H - 1) * stride - 2 * padding + dilation * (k - 1) +
    output_padding + 1, or as asked by ``forward(input, output_size)``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    >>> up(gradlab.randn(1, 8, 5, 5)).shape
    gradlab.Size([1, 4, 10, 10])
    >>> up(gradlab.randn(1, 8, 5, 5), output_size=(9, 9)).shape
    gradlab.Size([1, 4, 9, 9])
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
        output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros",
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a pair, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, dtype)

    def _output_padding(self, input: Any, output_size: Any) -> tuple:
        if output_size is None:
            return self.output_padding
        size = [int(v) for v in output_size]
        if len(size) == 4:
            size = size[2:]
        if len(size) != 2:
            raise ValueError(f"output_size must have 2 or 4 elements (got {len(size)})")
        pads = []
        for i in range(2):
            smallest = ((input.shape[-2 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            largest = smallest + self.stride[i] - 1
            if not smallest <= size[i] <= largest:
                raise ValueError(
                    f"requested an output size of {tuple(size)}, but valid sizes range from {smallest} to {largest} "
                    f"(for an input of {tuple(input.shape[-2:])})"
                )
            pads.append(size[i] - smallest)
        return tuple(pads)

    def forward(self, input: Any, output_size: Any = None) -> Any:
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)
