"""Reductions over all or some dimensions (``dim``/``keepdim`` as PyTorch)."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module

__all__ = ["axes_of", "expand_reduced", "Sum", "Mean", "MaxAll", "MaxDim", "Var", "LogSumExp"]


def axes_of(dim: Any, ndim: int) -> tuple:
    """Normalise ``dim`` (None, int or sequence) to a sorted tuple of non-negative axes.

    >>> axes_of(-1, 3), axes_of((2, 0), 3), axes_of(None, 2)
    ((2,), (0, 2), (0, 1))
    >>> axes_of(3, 2)
    Traceback (most recent call last):
        ...
    IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 3)
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if ndim == 0:
        for d in dims:
            if d not in (0, -1):
                raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {d})")
        return ()
    out = []
    for d in dims:
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
        out.append(d % ndim)
    return tuple(sorted(set(out)))


def expand_reduced(grad: Any, shape: tuple, axes: tuple, keepdim: bool) -> Any:
    """Give a reduced gradient back the reduced axes (size 1) so it broadcasts against the input.

    >>> expand_reduced(np.ones((2, 4)), (2, 3, 4), (1,), keepdim=False).shape
    (2, 1, 4)
    """
    xp = get_array_module(grad)
    if not keepdim and axes:
        grad = xp.expand_dims(grad, axes)
    return grad


class Sum(Function):
    """Sum over ``dim`` (all elements when None); backward broadcasts the gradient back.

    >>> Sum.apply(np.arange(6.0).reshape(2, 3), 1)
    tensor([ 3., 12.], dtype=float64)
    >>> Sum.apply(np.ones((2, 3)), None, True).shape
    gradlab.Size([1, 1])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
        xp = get_array_module(x)
        axes = axes_of(dim, x.ndim)
        ctx.meta = (x.shape, axes, keepdim)
        return xp.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        shape, axes, keepdim = ctx.meta
        return xp.broadcast_to(expand_reduced(grad, shape, axes, keepdim), shape), None, None


class Mean(Function):
    """Mean over ``dim`` (all elements when None).

    >>> Mean.apply(np.arange(6.0).reshape(2, 3), 0)
    tensor([1.5, 2.5, 3.5], dtype=float64)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: Any = None, keepdim: bool = False) -> Any:
        xp = get_array_module(x)
        axes = axes_of(dim, x.ndim)
        n = 1
        for a in axes:
            n *= x.shape[a]
        ctx.meta = (x.shape, axes, keepdim, n)
        return xp.asarray(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        shape, axes, keepdim, n = ctx.meta
        g = expand_reduced(grad, shape, axes, keepdim) / n
        return xp.broadcast_to(g, shape), None, None


class MaxAll(Function):
    """max()/min() over every element; the gradient is shared evenly among tied extremes (as PyTorch).

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> MaxAll.apply(x).backward()
    >>> x.grad
    tensor([0. , 0.5, 0.5])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, is_max: bool = True) -> Any:
        xp = get_array_module(x)
        if x.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0.")
        m = x.max() if is_max else x.min()
        ctx.save_for_backward(x)
        ctx.m = m
        return xp.asarray(m)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        mask = x == ctx.m
        return mask * (grad / mask.sum()), None


class MaxDim(Function):
    """Values of max/min along ``dim`` at the given indices; the gradient goes to those indices.

    >>> x = np.array([[1.0, 5.0], [7.0, 2.0]])
    >>> MaxDim.apply(x, 1, False, x.argmax(axis=1, keepdims=True))
    tensor([5., 7.], dtype=float64)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int, keepdim: bool, idx: Any) -> Any:
        xp = get_array_module(x)
        vals = xp.take_along_axis(x, idx, axis=dim)
        ctx.meta = (x.shape, dim, keepdim, idx)
        return vals if keepdim else xp.squeeze(vals, dim)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        shape, dim, keepdim, idx = ctx.meta
        g = grad if keepdim else xp.expand_dims(grad, dim)
        out = xp.zeros(shape, dtype=grad.dtype)
        if hasattr(xp, "put_along_axis"):
            xp.put_along_axis(out, idx, g, axis=dim)
        else:  # older CuPy: the same scatter through an open mesh of indices
            mesh = list(xp.ix_(*[xp.arange(n) for n in idx.shape]))
            mesh[dim] = idx
            out[tuple(mesh)] = xp.broadcast_to(g, idx.shape)
        return out, None, None, None


class Var(Function):
    """Variance over ``dim`` with ``correction`` (1: unbiased, 0: biased), as ``torch.var``.

    >>> Var.apply(np.array([1.0, 2.0, 3.0, 4.0])).item(), Var.apply(np.array([1.0, 2.0, 3.0, 4.0]), None, 0).item()
    (1.6666666666666667, 1.25)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: Any = None, correction: int = 1, keepdim: bool = False) -> Any:
        xp = get_array_module(x)
        axes = axes_of(dim, x.ndim)
        n = 1
        for a in axes:
            n *= x.shape[a]
        mu = x.mean(axis=axes, keepdims=True)
        d = x - mu
        ctx.save_for_backward(d)
        ctx.meta = (x.shape, axes, keepdim, max(n - correction, 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.asarray((d * d).sum(axis=axes, keepdims=keepdim) / max(n - correction, 0))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (d,) = ctx.saved_tensors
        shape, axes, keepdim, denom = ctx.meta
        g = expand_reduced(grad, shape, axes, keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * (2 / denom) * d, None, None, None


class LogSumExp(Function):
    """``log(sum(exp(x)))`` over ``dim``, shifted by the maximum so it does not overflow.

    >>> LogSumExp.apply(np.array([1000.0, 1000.0]), 0).item()
    1000.6931471805599
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: Any, keepdim: bool = False) -> Any:
        xp = get_array_module(x)
        axes = axes_of(dim, x.ndim)
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        e = xp.exp(x - m)
        s = e.sum(axis=axes, keepdims=True)
        out = xp.log(s) + m
        ctx.save_for_backward(x)
        ctx.meta = (x.shape, axes, keepdim)
        ctx.out = out
        return out if keepdim else xp.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        shape, axes, keepdim = ctx.meta
        g = expand_reduced(grad, shape, axes, keepdim)
        return g * xp.exp(x - ctx.out), None, None
