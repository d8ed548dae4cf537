"""More activation modules with torch names and reprs: ``PReLU`` (learnable slope), ``SELU``, ``ReLU6``,
``Hardtanh``, ``Mish``, ``Hardsigmoid``, ``Hardswish``, ``LogSigmoid``, ``Softsign``, ``Softmin``, ``CELU``, ``GLU``."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn import functional as F
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter

__all__ = [
    "PReLU", "SELU", "ReLU6", "Hardtanh", "Mish", "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign", "Softmin",
    "CELU", "GLU",
]  # fmt: skip


class PReLU(Module):
    """``x if x > 0 else a * x`` with a learnable slope ``a``: one shared (``num_parameters=1``) or one per channel.

    >>> import gradlab
    >>> from gradlab import nn
    >>> m = nn.PReLU()
    >>> m
    PReLU(num_parameters=1)
    >>> m(gradlab.tensor([-4.0, 2.0])).tolist()
    [-1.0, 2.0]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be positive, got {num_parameters}")
        # torch's attribute; it shadows Module.num_parameters() on PReLU instances (count with .parameters())
        self.num_parameters = num_parameters  # type: ignore[method-assign,assignment]
        self.init = init
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight = Parameter(np.full(num_parameters, init, dtype=dt))

    def reset_parameters(self) -> None:
        self.weight.detach().numpy()[...] = self.init

    def forward(self, input: Any) -> Any:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class SELU(Module):
    """Scaled ELU with torch's self-normalising constants.

    >>> import gradlab
    >>> from gradlab import nn
    >>> round(nn.SELU()(gradlab.tensor([1.0])).item(), 6)
    1.050701
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.selu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Hardtanh(-2.0, 2.0)(gradlab.tensor([-3.0, 1.0, 5.0])).tolist()
    [-2.0, 1.0, 2.0]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Any) -> Any:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace}"


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ReLU6()(gradlab.tensor([-1.0, 7.0])).tolist()
    [0.0, 6.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Mish(Module):
    """``x * tanh(softplus(x))``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Mish()(gradlab.zeros(2)).tolist()
    [0.0, 0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.mish(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Inplace(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Inplace):
    """``relu6(x + 3) / 6``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Hardsigmoid()(gradlab.tensor([0.0])).tolist()
    [0.5]
    """

    def forward(self, input: Any) -> Any:
        return F.hardsigmoid(input)


class Hardswish(_Inplace):
    """``x * relu6(x + 3) / 6``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Hardswish()(gradlab.tensor([4.0])).tolist()
    [4.0]
    """

    def forward(self, input: Any) -> Any:
        return F.hardswish(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, computed stably.

    >>> import gradlab
    >>> from gradlab import nn
    >>> round(nn.LogSigmoid()(gradlab.tensor([0.0])).item(), 4)
    -0.6931
    """

    def forward(self, input: Any) -> Any:
        return F.logsigmoid(input)


class Softsign(Module):
    """``x / (1 + |x|)``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Softsign()(gradlab.tensor([1.0])).tolist()
    [0.5]
    """

    def forward(self, input: Any) -> Any:
        return F.softsign(input)


class Softmin(Module):
    """``softmax(-x)`` along ``dim``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Softmin(dim=1)
    Softmin(dim=1)
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.CELU(alpha=0.5)
    CELU(alpha=0.5)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Any) -> Any:
        return F.celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """The gated linear unit over ``dim``: ``a * sigmoid(b)`` of the two halves.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.GLU()(gradlab.zeros(2, 6)).shape
    gradlab.Size([2, 3])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
