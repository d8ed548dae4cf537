"""Tensor operations as functions in the ``gradlab`` namespace (``gradlab.exp(x)`` as ``torch.exp(x)``)."""
from __future__ import annotations

from typing import Any

from gradlab.ops.elementwise import where
from gradlab.ops.shape import cat, chunk, split, stack

__all__ = [
    "abs", "argmax", "argmin", "cat", "chunk", "clamp", "cos", "exp", "flatten", "log", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "permute", "reshape", "sigmoid", "sin", "split", "sqrt", "squeeze", "stack",
    "std", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
]

_builtin_abs = abs


def _t(x: Any) -> Any:
    from gradlab.tensor import Tensor

    return x if isinstance(x, Tensor) else Tensor(x)


def abs(input: Any) -> Any:  # noqa: A001
    return _t(input).abs()


def exp(input: Any) -> Any:
    return _t(input).exp()


def log(input: Any) -> Any:
    return _t(input).log()


def sqrt(input: Any) -> Any:
    return _t(input).sqrt()


def sin(input: Any) -> Any:
    return _t(input).sin()


def cos(input: Any) -> Any:
    return _t(input).cos()


def tanh(input: Any) -> Any:
    return _t(input).tanh()


def sigmoid(input: Any) -> Any:
    return _t(input).sigmoid()


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    return _t(input).clamp(min, max)


def maximum(input: Any, other: Any) -> Any:
    return _t(input).maximum(other)


def minimum(input: Any, other: Any) -> Any:
    return _t(input).minimum(other)


def matmul(input: Any, other: Any) -> Any:
    return _t(input) @ other


def sum(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _t(input).sum(dim, keepdim)


def mean(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return _t(input).mean(dim, keepdim)


def max(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _t(input).max(dim, keepdim)


def min(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _t(input).min(dim, keepdim)


def var(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Any:
    return _t(input).var(dim, unbiased, keepdim, correction=correction)


def std(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Any:
    return _t(input).std(dim, unbiased, keepdim, correction=correction)


def logsumexp(input: Any, dim: Any, keepdim: bool = False) -> Any:
    return _t(input).logsumexp(dim, keepdim)


def argmax(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return _t(input).argmax(dim, keepdim)


def argmin(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return _t(input).argmin(dim, keepdim)


def reshape(input: Any, shape: Any) -> Any:
    return _t(input).reshape(shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    return _t(input).flatten(start_dim, end_dim)


def transpose(input: Any, dim0: int, dim1: int) -> Any:
    return _t(input).transpose(dim0, dim1)


def permute(input: Any, dims: Any) -> Any:
    return _t(input).permute(dims)


def squeeze(input: Any, dim: Any = None) -> Any:
    return _t(input).squeeze(dim)


def unsqueeze(input: Any, dim: int) -> Any:
    return _t(input).unsqueeze(dim)
