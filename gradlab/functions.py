"""Tensor operations as functions in the ``gradlab`` namespace (``gradlab.exp(x)`` as ``torch.exp(x)``)."""
from __future__ import annotations

from typing import Any

from gradlab.ops.elementwise import where
from gradlab.ops.shape import cat, chunk, split, stack

__all__ = [
    "abs", "argmax", "argmin", "cat", "chunk", "clamp", "cos", "exp", "flatten", "log", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "permute", "relu", "reshape", "sigmoid", "softmax", "sin", "split", "sqrt",
    "squeeze", "stack",
    "std", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
]

_builtin_abs = abs


def _t(x: Any) -> Any:
    from gradlab.tensor import Tensor, as_array

    return x if isinstance(x, Tensor) else Tensor._make(as_array(x), False)


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


def relu(input: Any) -> Any:
    """``max(input, 0)`` elementwise, as ``torch.relu``.

    >>> import gradlab
    >>> gradlab.relu(gradlab.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return _t(input).relu()


def softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    """Softmax along ``dim`` (after a cast to ``dtype`` when given), as ``torch.softmax``.

    >>> import gradlab
    >>> gradlab.softmax(gradlab.zeros(2), dim=0).tolist()
    [0.5, 0.5]
    """
    x = _t(input)
    return (x if dtype is None else x.to(dtype)).softmax(dim)


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


def sum(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    """Sum of the elements (along ``dim`` when given), as ``torch.sum``.

    >>> sum([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    tensor([ 6., 18.])
    """
    return _t(input).sum(dim, keepdim, **kwargs)


def mean(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """Mean of the elements (along ``dim`` when given), as ``torch.mean``.

    >>> mean([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    tensor([2., 6.])
    """
    return _t(input).mean(dim, keepdim, **kwargs)


def max(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    """Largest element, or ``(values, indices)`` along ``dim`` when given, as ``torch.max``.

    >>> max([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    MinMax(values=tensor([3., 8.]), indices=tensor([2, 2]))
    """
    return _t(input).max(dim, keepdim, **kwargs)


def min(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    """Smallest element, or ``(values, indices)`` along ``dim`` when given, as ``torch.min``.

    >>> min([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    MinMax(values=tensor([1., 4.]), indices=tensor([0, 0]))
    """
    return _t(input).min(dim, keepdim, **kwargs)


def var(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False,
        **kwargs: Any) -> Any:
    """Variance (unbiased by default, as ``torch.var``), along ``dim`` when given.

    >>> var([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    tensor([1., 4.])
    """
    return _t(input).var(dim, unbiased, keepdim, **kwargs)


def std(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False,
        **kwargs: Any) -> Any:
    """Standard deviation (unbiased by default, as ``torch.std``), along ``dim`` when given.

    >>> std([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    tensor([1., 2.])
    """
    return _t(input).std(dim, unbiased, keepdim, **kwargs)


def logsumexp(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """``log(sum(exp(input)))`` along ``dim``, computed without overflow (as ``torch.logsumexp``).

    >>> logsumexp([0.0, 0.0], 0)  # log 2
    tensor(0.6931)
    """
    return _t(input).logsumexp(dim, keepdim, **kwargs)


def argmax(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """Index of the largest element (along ``dim`` when given), as ``torch.argmax``.

    >>> argmax([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    tensor([2, 2])
    """
    return _t(input).argmax(dim, keepdim, **kwargs)


def argmin(input: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """Index of the smallest element (along ``dim`` when given), as ``torch.argmin``.

    >>> argmin([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], 1)
    tensor([0, 0])
    """
    return _t(input).argmin(dim, keepdim, **kwargs)


def reshape(input: Any, shape: Any) -> Any:
    """``input`` with a new shape of the same size (one entry may be -1).

    >>> reshape([1, 2, 3, 4, 5, 6], (2, -1)).shape
    gradlab.Size([2, 3])
    """
    return _t(input).reshape(shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """``input`` with dimensions ``start_dim`` to ``end_dim`` merged into one.

    >>> import numpy as np
    >>> flatten(np.zeros((2, 3, 4))).shape, flatten(np.zeros((2, 3, 4)), start_dim=1).shape
    (gradlab.Size([24]), gradlab.Size([2, 12]))
    """
    return _t(input).flatten(start_dim, end_dim)


def transpose(input: Any, dim0: int, dim1: int) -> Any:
    """``input`` with dimensions ``dim0`` and ``dim1`` swapped.

    >>> transpose([[1, 2, 3]], 0, 1).shape
    gradlab.Size([3, 1])
    """
    return _t(input).transpose(dim0, dim1)


def permute(input: Any, dims: Any) -> Any:
    """``input`` with its dimensions reordered as ``dims``.

    >>> import numpy as np
    >>> permute(np.zeros((2, 3, 4)), (2, 0, 1)).shape
    gradlab.Size([4, 2, 3])
    """
    return _t(input).permute(dims)


def squeeze(input: Any, dim: Any = None) -> Any:
    """``input`` without its size-1 dimensions (only ``dim`` when given).

    >>> import numpy as np
    >>> squeeze(np.zeros((1, 3, 1))).shape, squeeze(np.zeros((1, 3, 1)), 0).shape
    (gradlab.Size([3]), gradlab.Size([3, 1]))
    """
    return _t(input).squeeze(dim)


def unsqueeze(input: Any, dim: int) -> Any:
    """``input`` with a new size-1 dimension at ``dim``.

    >>> unsqueeze([1.0, 2.0], 1).shape
    gradlab.Size([2, 1])
    """
    return _t(input).unsqueeze(dim)
