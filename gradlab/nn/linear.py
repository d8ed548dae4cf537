"""``Linear`` (one fused GEMM + bias), ``Identity`` and ``Flatten``."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn import init
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter
from gradlab.ops import nn as N

__all__ = ["Linear", "Identity", "Flatten"]


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored), e.g. to switch a layer off.

    >>> import gradlab
    >>> from gradlab import nn
    >>> x = gradlab.ones(2)
    >>> nn.Identity(54, unused="x")(x) is x
    True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` (out_features, in_features), initialised as torch does:
    kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(in_features), 1/sqrt(in_features)) for the bias.

    >>> import gradlab
    >>> from gradlab import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer
    Linear(in_features=3, out_features=2, bias=True)
    >>> layer(gradlab.ones(4, 3)).shape, layer.weight.shape
    (gradlab.Size([4, 2]), gradlab.Size([2, 3]))
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Any) -> Any:
        return N.Linear.apply(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Flatten dims ``start_dim`` .. ``end_dim`` into one (by default all but the batch dim).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Flatten()(gradlab.zeros(2, 3, 4)).shape
    gradlab.Size([2, 12])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Any) -> Any:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
