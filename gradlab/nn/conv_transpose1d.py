"""``ConvTranspose1d``: the transposed 1-D convolution layer (torch's parameter names, shapes and init)."""

from __future__ import annotations

from typing import Any

from gradlab.nn import functional as F
from gradlab.nn.conv import _ConvNd

__all__ = ["ConvTranspose1d"]


class ConvTranspose1d(_ConvNd):
    """Transposed 1-D convolution over (N, C_in, L) or (C_in, L): weight (in_channels, out_channels/groups, k);
    output length (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1, or as asked by
    ``forward(input, output_size)``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> up = nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1)
    >>> up(gradlab.randn(1, 4, 5)).shape, up.weight.shape
    (gradlab.Size([1, 2, 10]), gradlab.Size([4, 2, 3]))
    """

    _n = 1

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
        output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros",
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, dtype)  # fmt: skip

    def _output_padding(self, input: Any, output_size: Any) -> tuple:
        if output_size is None:
            return self.output_padding
        size = [int(v) for v in (output_size if isinstance(output_size, (tuple, list)) else [output_size])]
        size = size[-1:]
        smallest = ((input.shape[-1] - 1) * self.stride[0] - 2 * self.padding[0]
                    + self.dilation[0] * (self.kernel_size[0] - 1) + 1)  # fmt: skip
        largest = smallest + self.stride[0] - 1
        if not smallest <= size[0] <= largest:
            raise ValueError(
                f"requested an output size of {tuple(size)}, but valid sizes range from {smallest} to {largest} "
                f"(for an input of length {input.shape[-1]})"
            )
        return (size[0] - smallest,)

    def forward(self, input: Any, output_size: Any = None) -> Any:
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)  # fmt: skip
