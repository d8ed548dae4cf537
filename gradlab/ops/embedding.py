"""Embedding lookup: rows of a weight matrix gathered by integer indices, gradients scattered back."""
from __future__ import annotations

from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.backend import add_at, get_array_module

__all__ = ["Embedding"]


class Embedding(Function):
    """``weight[indices]``; backward adds each output row's gradient into its weight row.

    The row ``padding_idx`` gets no gradient; ``scale_grad_by_freq`` divides each row's gradient by how often
    its index occurs in the batch (torch's semantics).

    >>> import numpy as np
    >>> import gradlab
    >>> w = gradlab.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], requires_grad=True)
    >>> out = Embedding.apply(w, np.array([[1, 1], [2, 0]]), 0)
    >>> out.shape
    gradlab.Size([2, 2, 2])
    >>> out.sum().backward()
    >>> w.grad.tolist()  # row 1 used twice; row 0 is the padding row
    [[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]]
    >>> Embedding.apply(w, np.array([3]))
    Traceback (most recent call last):
        ...
    IndexError: embedding: index 3 is out of range for a weight with 3 rows
    """

    @staticmethod
    def forward(ctx: Context, weight: Any, indices: Any, padding_idx: Any = None,
                scale_grad_by_freq: bool = False) -> Any:
        xp = get_array_module(weight)
        indices = xp.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be an integer tensor, got dtype {indices.dtype}")
        n = weight.shape[0]
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            bad = indices.min() if indices.min() < 0 else indices.max()
            raise IndexError(f"embedding: index {int(bad)} is out of range for a weight with {n} rows")
        ctx.meta = (indices, weight.shape, padding_idx, scale_grad_by_freq)
        return weight[indices]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        indices, shape, padding_idx, scale = ctx.meta
        flat = indices.reshape(-1)
        g = grad.reshape(-1, shape[1])
        if scale:
            counts = xp.bincount(flat, minlength=shape[0])
            g = g / counts[flat][:, None].astype(g.dtype)
        gw = xp.zeros(shape, dtype=grad.dtype)
        add_at(xp, gw, flat, g)
        if padding_idx is not None:
            gw[padding_idx] = 0
        return gw, None, None, None
