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
    """``|input|`` elementwise (as ``torch.abs``).

    >>> abs([-1.5, 2.0])
    tensor([1.5, 2. ])
    """
    return _t(input).abs()


def exp(input: Any) -> Any:
    """``e ** input`` elementwise.

    >>> exp([0.0, 1.0])
    tensor([1.    , 2.7183])
    """
    return _t(input).exp()


def log(input: Any) -> Any:
    """Natural logarithm elementwise.

    >>> log([1.0, 100.0])
    tensor([0.    , 4.6052])
    """
    return _t(input).log()


def sqrt(input: Any) -> Any:
    """Square root elementwise.

    >>> sqrt([4.0, 2.0])
    tensor([2.    , 1.4142])
    """
    return _t(input).sqrt()


def sin(input: Any) -> Any:
    """Sine elementwise (radians).

    >>> sin([0.0, 1.5707964])
    tensor([0., 1.])
    """
    return _t(input).sin()


def cos(input: Any) -> Any:
    """Cosine elementwise (radians).

    >>> cos([0.0, 3.1415927])
    tensor([ 1., -1.])
    """
    return _t(input).cos()


def tanh(input: Any) -> Any:
    """Hyperbolic tangent elementwise.

    >>> tanh([0.0, 100.0])
    tensor([0., 1.])
    """
    return _t(input).tanh()


def sigmoid(input: Any) -> Any:
    """``1 / (1 + exp(-input))`` elementwise, without overflow.

    >>> sigmoid([0.0, -1000.0])
    tensor([0.5, 0. ])
    """
    return _t(input).sigmoid()


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """``input`` clipped to ``[min, max]`` (either bound may be None).

    >>> clamp([-2.0, 0.5, 3.0], min=0.0), clamp([-2.0, 0.5, 3.0], -1.0, 1.0)
    (tensor([0. , 0.5, 3. ]), tensor([-1. ,  0.5,  1. ]))
    """
    return _t(input).clamp(min, max)


def maximum(input: Any, other: Any) -> Any:
    """Elementwise maximum of two tensors (broadcast).

    >>> maximum([1.0, 5.0], [3.0])
    tensor([3., 5.])
    """
    return _t(input).maximum(other)


def minimum(input: Any, other: Any) -> Any:
    """Elementwise minimum of two tensors (broadcast).

    >>> minimum([1.0, 5.0], [3.0])
    tensor([1., 3.])
    """
    return _t(input).minimum(other)


def matmul(input: Any, other: Any) -> Any:
    """Matrix product with NumPy's rules (as ``torch.matmul``).

    >>> matmul([[1.0, 2.0]], [[3.0], [4.0]])
    tensor([[11.]])
    """
    return _t(input) @ other


def sum(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Sum over ``dim`` (every element when None).

    >>> sum([[1.0, 5.0], [4.0, 2.0]]), sum([[1.0, 5.0], [4.0, 2.0]], dim=0)
    (tensor(12.), tensor([5., 7.]))
    """
    return _t(input).sum(dim, keepdim)


def mean(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """Mean over ``dim`` (every element when None).

    >>> mean([[1.0, 5.0], [4.0, 2.0]], dim=1, keepdim=True)
    tensor([[3.],
            [3.]])
    """
    return _t(input).mean(dim, keepdim)


def max(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The largest element, or ``(values, indices)`` along ``dim``.

    >>> max([[1.0, 5.0], [4.0, 2.0]])
    tensor(5.)
    >>> values, indices = max([[1.0, 5.0], [4.0, 2.0]], dim=1)
    >>> values.tolist(), indices.tolist()
    ([5.0, 4.0], [1, 0])
    """
    return _t(input).max(dim, keepdim)


def min(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The smallest element, or ``(values, indices)`` along ``dim``.

    >>> min([[1.0, 5.0], [4.0, 2.0]]).item(), min([[1.0, 5.0], [4.0, 2.0]], dim=0)[1].tolist()
    (1.0, [0, 1])
    """
    return _t(input).min(dim, keepdim)


def var(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Any:
    """Variance over ``dim`` (unbiased unless ``unbiased=False`` or ``correction=0``).

    >>> var([1.0, 2.0, 3.0, 4.0]).item(), var([1.0, 2.0, 3.0, 4.0], correction=0).item()
    (1.6666666269302368, 1.25)
    """
    return _t(input).var(dim, unbiased, keepdim, correction=correction)


def std(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Any:
    """Standard deviation over ``dim`` (unbiased unless ``unbiased=False`` or ``correction=0``).

    >>> std([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], unbiased=False).item()
    2.0
    """
    return _t(input).std(dim, unbiased, keepdim, correction=correction)


def logsumexp(input: Any, dim: Any, keepdim: bool = False) -> Any:
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow.

    >>> round(logsumexp([1000.0, 1000.0], dim=0).item(), 2)  # 1000 + log(2)
    1000.69
    """
    return _t(input).logsumexp(dim, keepdim)


def argmax(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """Index of the largest element (of the flattened input when ``dim`` is None).

    >>> argmax([[1.0, 5.0], [4.0, 2.0]]).item(), argmax([[1.0, 5.0], [4.0, 2.0]], dim=1).tolist()
    (1, [1, 0])
    """
    return _t(input).argmax(dim, keepdim)


def argmin(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """Index of the smallest element (of the flattened input when ``dim`` is None).

    >>> argmin([[1.0, 5.0], [4.0, 2.0]]).item(), argmin([[1.0, 5.0], [4.0, 2.0]], dim=1).tolist()
    (0, [0, 1])
    """
    return _t(input).argmin(dim, keepdim)


def reshape(input: Any, shape: Any) -> Any:
    """``input`` with a new shape of the same size (one entry may be -1).

    >>> reshape([1, 2, 3, 4, 5, 6], (2, -1)).shape
    (2, 3)
    """
    return _t(input).reshape(shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """``input`` with dimensions ``start_dim`` to ``end_dim`` merged into one.

    >>> import numpy as np
    >>> flatten(np.zeros((2, 3, 4))).shape, flatten(np.zeros((2, 3, 4)), start_dim=1).shape
    ((24,), (2, 12))
    """
    return _t(input).flatten(start_dim, end_dim)


def transpose(input: Any, dim0: int, dim1: int) -> Any:
    """``input`` with dimensions ``dim0`` and ``dim1`` swapped.

    >>> transpose([[1, 2, 3]], 0, 1).shape
    (3, 1)
    """
    return _t(input).transpose(dim0, dim1)


def permute(input: Any, dims: Any) -> Any:
    """``input`` with its dimensions reordered as ``dims``.

    >>> import numpy as np
    >>> permute(np.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return _t(input).permute(dims)


def squeeze(input: Any, dim: Any = None) -> Any:
    """``input`` without its size-1 dimensions (only ``dim`` when given).

    >>> import numpy as np
    >>> squeeze(np.zeros((1, 3, 1))).shape, squeeze(np.zeros((1, 3, 1)), 0).shape
    ((3,), (3, 1))
    """
    return _t(input).squeeze(dim)


def unsqueeze(input: Any, dim: int) -> Any:
    """``input`` with a new size-1 dimension at ``dim``.

    >>> unsqueeze([1.0, 2.0], 1).shape
    (2, 1)
    """
    return _t(input).unsqueeze(dim)
