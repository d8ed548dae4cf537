"""Activation modules (thin wrappers over ``gradlab.nn.functional``, torch names and reprs)."""
from __future__ import annotations

from typing import Any

from gradlab.nn import functional as F
from gradlab.nn.module import Module

__all__ = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "SiLU", "Swish", "Softmax", "LogSoftmax"]


def _inplace(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class Sigmoid(Module):
    """1 / (1 + exp(-x)), computed stably.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Sigmoid()(gradlab.zeros(2)).tolist()
    [0.5, 0.5]
    """

    def forward(self, input: Any) -> Any:
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Tanh()(gradlab.zeros(1)).tolist()
    [0.0]
    """

    def forward(self, input: Any) -> Any:
        return F.tanh(input)


class ReLU(Module):
    """max(0, x). (``inplace`` is accepted for torch compatibility; the result is always a new tensor.)

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ReLU()(gradlab.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.relu(input)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.LeakyReLU(0.1)(gradlab.tensor([-1.0, 2.0])).tolist()
    [-0.10000000149011612, 2.0]
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.ELU()(gradlab.tensor([0.0, 3.0])).tolist()
    [0.0, 3.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x) (``approximate='none'``) or its tanh approximation (``'tanh'``).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.GELU(approximate="tanh")
    GELU(approximate='tanh')
    >>> nn.GELU()(gradlab.zeros(1)).tolist()
    [0.0]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Any) -> Any:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold.

    >>> import gradlab
    >>> from gradlab import nn
    >>> round(nn.Softplus()(gradlab.zeros(1)).item(), 4)
    0.6931
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Any) -> Any:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class SiLU(Module):
    """x * sigmoid(x) (also called swish).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.SiLU()(gradlab.zeros(1)).tolist()
    [0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.silu(input)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Swish(Module):
    """x * sigmoid(beta * x) (a gradlab extra; ``beta=1`` is ``SiLU``).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Swish(beta=2.0)
    Swish(beta=2.0)
    >>> nn.Swish()(gradlab.zeros(1)).tolist()
    [0.0]
    """

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, input: Any) -> Any:
        return F.swish(input, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.Softmax(dim=1)(gradlab.zeros(1, 4)).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - logsumexp(x) along ``dim``, computed stably.

    >>> import gradlab
    >>> from gradlab import nn
    >>> round(nn.LogSoftmax(dim=0)(gradlab.zeros(2)).tolist()[0], 4)
    -0.6931
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
