"""Functional forms added for torch parity: activations (``prelu``, ``selu``, ``relu6``, ``hardtanh``, ``mish``,
``gumbel_softmax``) and vector helpers (``one_hot``, ``normalize``, ``cosine_similarity``).

All are built from existing differentiable ops (``gradlab.nn.functional`` re-exports them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.ops import activation as A
from gradlab.ops import elementwise as E
from gradlab.ops import nn as N
from gradlab.tensor import Tensor

__all__ = [
    "prelu", "selu", "relu6", "hardtanh", "mish", "gumbel_softmax", "one_hot", "normalize", "cosine_similarity",
    "hardsigmoid", "hardswish", "logsigmoid", "softsign", "softmin", "celu", "glu",
]  # fmt: skip


def _np(t: Any) -> np.ndarray:
    """The numpy array of a Tensor (shared, not copied) or of anything array-like."""
    return t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def prelu(input: Any, weight: Any) -> Any:
    """``x if x > 0 else weight * x``, with ``weight`` one value or one per channel (dim 1; dim 0 for 1-D input).

    >>> import gradlab
    >>> prelu(gradlab.tensor([[-2.0, 3.0]]), gradlab.tensor([0.25])).tolist()
    [[-0.5, 3.0]]
    """
    w = weight
    if weight.numel() > 1:
        if input.ndim == 0:
            raise ValueError("prelu: a 0-d input takes a weight of one element")
        ch = 1 if input.ndim >= 2 else 0
        if input.shape[ch] != weight.numel():
            raise ValueError(
                f"prelu: mismatch of parameter numbers and input channel size: the weight has {weight.numel()} "
                f"elements, the input {input.shape[ch]} channels (dim {ch})"
            )
        shape = [1] * input.ndim
        shape[ch] = weight.numel()
        w = weight.reshape(tuple(shape))
    elif weight.ndim > 0:
        w = weight.reshape(())
    return E.where(_np(input) > 0, input, w * input)


def selu(input: Any, inplace: bool = False) -> Any:
    """``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with torch's self-normalising constants.

    >>> import gradlab
    >>> round(selu(gradlab.tensor([1.0])).item(), 6)
    1.050701
    """
    return A.ELU.apply(input, _SELU_ALPHA) * _SELU_SCALE


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Any:
    """``x`` clipped to ``[min_val, max_val]``; the gradient is zero outside the open interval (as torch).

    >>> import gradlab
    >>> hardtanh(gradlab.tensor([-3.0, 0.5, 2.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    x = _np(input)
    inside = (x > min_val) & (x < max_val)
    return E.where(inside, input, np.clip(x, min_val, max_val).astype(x.dtype, copy=False))


def relu6(input: Any, inplace: bool = False) -> Any:
    """``min(max(0, x), 6)`` (``hardtanh(x, 0, 6)``).

    >>> import gradlab
    >>> relu6(gradlab.tensor([-1.0, 3.0, 8.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return hardtanh(input, 0.0, 6.0)


def mish(input: Any, inplace: bool = False) -> Any:
    """``x * tanh(softplus(x))``.

    >>> import gradlab
    >>> round(mish(gradlab.tensor([1.0])).item(), 6)
    0.865098
    """
    return input * E.Tanh.apply(A.Softplus.apply(input, 1.0, 20.0))


def hardsigmoid(input: Any, inplace: bool = False) -> Any:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between.

    >>> import gradlab
    >>> hardsigmoid(gradlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    x = _np(input)
    inside = (x > -3.0) & (x < 3.0)
    return E.where(inside, input / 6.0 + 0.5, (x >= 3.0).astype(x.dtype))


def hardswish(input: Any, inplace: bool = False) -> Any:
    """``x * relu6(x + 3) / 6``.

    >>> import gradlab
    >>> hardswish(gradlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [-0.0, 0.0, 4.0]
    """
    return input * hardsigmoid(input)


def logsigmoid(input: Any) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``.

    >>> import gradlab
    >>> round(logsigmoid(gradlab.tensor([0.0])).item(), 6)
    -0.693147
    """
    return -A.Softplus.apply(-input, 1.0, 20.0)


def softsign(input: Any) -> Any:
    """``x / (1 + |x|)``.

    >>> import gradlab
    >>> softsign(gradlab.tensor([1.0, -3.0])).tolist()
    [0.5, -0.75]
    """
    return input / (input.abs() + 1.0)


def softmin(input: Any, dim: int | None = None, dtype: Any = None) -> Any:
    """``softmax(-x)`` along ``dim``.

    >>> import gradlab
    >>> softmin(gradlab.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    x = input if dtype is None else input.to(dtype)
    return N.Softmax.apply(-x, dim)


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    >>> import gradlab
    >>> celu(gradlab.tensor([2.0, 0.0])).tolist()
    [2.0, 0.0]
    """
    if alpha == 0:
        raise ValueError("ZeroDivisionError in celu: alpha cannot be 0")
    return A.ELU.apply(input / alpha, 1.0) * alpha


def glu(input: Any, dim: int = -1) -> Any:
    """The gated linear unit: ``a * sigmoid(b)`` with ``a``, ``b`` the two halves of ``input`` along ``dim``.

    >>> import gradlab
    >>> glu(gradlab.tensor([[2.0, 0.0]])).tolist()
    [[1.0]]
    """
    if input.ndim == 0 or int(input.shape[dim]) % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} of {tuple(input.shape)} is not")
    a, b = input.chunk(2, dim=dim)
    return a * A.Sigmoid.apply(b)


def gumbel_softmax(logits: Any, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Any:
    """A sample from the Gumbel-softmax distribution: ``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g``
    (from gradlab's generator). ``hard=True`` returns the one-hot of the argmax whose gradient is the soft sample's
    (the straight-through estimator).

    >>> import gradlab
    >>> _ = gradlab.manual_seed(0)
    >>> y = gumbel_softmax(gradlab.zeros(2, 5), tau=0.5, hard=True)
    >>> y.sum(dim=-1).tolist()
    [1.0, 1.0]
    """
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: tau must be positive, got {tau}")
    noise = -np.log(backend.rng().exponential(1.0, size=tuple(logits.shape))).astype(logits.dtype, copy=False)
    y_soft = N.Softmax.apply((logits + noise) / tau, dim)
    if not hard:
        return y_soft
    d = dim % logits.ndim
    soft = _np(y_soft)
    index = soft.argmax(axis=d)
    y_hard = np.zeros(y_soft.shape, dtype=y_soft.dtype)
    np.put_along_axis(y_hard, np.expand_dims(index, d), 1.0, axis=d)
    return y_soft + (y_hard - soft)


def one_hot(tensor: Any, num_classes: int = -1) -> Any:
    """The int64 one-hot encoding of an integer tensor: shape ``tensor.shape + (num_classes,)``; ``num_classes=-1``
    takes the largest value plus one.

    >>> import gradlab
    >>> one_hot(gradlab.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    idx = _np(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors (integers), got dtype {idx.dtype}")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: can not infer total number of classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise RuntimeError("one_hot: class values must be non-negative")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes ({num_classes})")
    out = (idx[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)


def _norm(x: Any, p: float, dim: Any) -> Any:
    if p == 2:
        return (x * x).sum(dim=dim, keepdim=True).sqrt()
    if p == 1:
        return x.abs().sum(dim=dim, keepdim=True)
    if p == float("inf"):
        return x.abs().amax(dim=dim, keepdim=True)
    if p <= 0:
        raise ValueError(f"normalize: p must be positive, got {p}")
    return (x.abs() ** p).sum(dim=dim, keepdim=True) ** (1.0 / p)


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Any:
    """``input / max(||input||_p, eps)`` along ``dim``.

    >>> import gradlab
    >>> [round(v, 4) for v in normalize(gradlab.tensor([[3.0, 4.0]]))[0].tolist()]
    [0.6, 0.8]
    """
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    return input / _norm(input, p, dim).clamp(min=eps)


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Any:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` (inputs broadcast).

    >>> import gradlab
    >>> cosine_similarity(gradlab.tensor([[1.0, 0.0]]), gradlab.tensor([[1.0, 1.0]])).tolist()
    [0.7071067690849304]
    """
    return ((x1 / _norm(x1, 2, dim).clamp(min=eps)) * (x2 / _norm(x2, 2, dim).clamp(min=eps))).sum(dim=dim)
