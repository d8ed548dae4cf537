"""The user-facing functions over ops, with PyTorch names (``import gradlab.nn.functional as F``)."""
from __future__ import annotations

from typing import Any

from gradlab.ops import elementwise as E
from gradlab.ops import nn as N
from gradlab.ops.shape import pad

__all__ = [
    "relu", "relu_", "leaky_relu", "elu", "gelu", "softplus", "silu", "swish", "sigmoid", "tanh", "softmax",
    "log_softmax", "linear", "pad",
]


def relu(input: Any, inplace: bool = False) -> Any:
    """max(0, x)."""
    return E.ReLU.apply(input)


def relu_(input: Any) -> Any:
    return input._set_inplace(E.ReLU.apply(input))


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    """x if x > 0 else negative_slope * x."""
    return E.LeakyReLU.apply(input, negative_slope)


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return E.ELU.apply(input, alpha)


def gelu(input: Any, approximate: str = "none") -> Any:
    """x * Phi(x) (``approximate='none'``) or its tanh approximation (``'tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return E.GELU.apply(input, approximate)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` (numerically stable)."""
    return E.Softplus.apply(input, beta, threshold)


def silu(input: Any, inplace: bool = False) -> Any:
    """x * sigmoid(x) (swish with beta = 1)."""
    return E.SiLU.apply(input)


def swish(input: Any, beta: float = 1.0) -> Any:
    """x * sigmoid(beta * x)."""
    return input * E.Sigmoid.apply(input * beta) if beta != 1.0 else E.SiLU.apply(input)


def sigmoid(input: Any) -> Any:
    return E.Sigmoid.apply(input)


def tanh(input: Any) -> Any:
    return E.Tanh.apply(input)


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Any:
    """exp(x) / sum(exp(x)) along ``dim`` (computed stably)."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    x = input if dtype is None else input.to(dtype)
    return N.Softmax.apply(x, dim)


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Any:
    """x - logsumexp(x) along ``dim`` (computed stably)."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    x = input if dtype is None else input.to(dtype)
    return N.LogSoftmax.apply(x, dim)


def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """``input @ weight.T + bias`` as one fused op."""
    return N.Linear.apply(input, weight, bias)
