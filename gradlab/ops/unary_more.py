"""More elementwise ops with torch's names (``tan``, ``asin``, ``acos``, ``atan``, ``sinh``, ``cosh``, ``erf``,
``expm1``, ``log2``), ``Atan2`` and ``Prod``, the product along a dimension with a gradient that stays exact with zeros.

Each unary op is one ``Function`` built from a table row: the forward array function and the derivative as a
function of the input and the output.

>>> import gradlab
>>> x = gradlab.tensor([0.5], dtype=gradlab.float64, requires_grad=True)
>>> UNARY["atan"].apply(x).backward(gradlab.ones(1))
>>> x.grad.tolist()
[0.8]
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module

__all__ = ["UNARY", "Atan2", "Prod", "Cumprod", "erf"]


def erf(x: Any) -> Any:
    """The error function, elementwise (scipy's on numpy arrays, cupyx's on CuPy ones).

    >>> round(float(erf(np.array(0.5))), 6)
    0.5205
    """
    if get_array_module(x) is np:
        from scipy.special import erf as _erf

        return _erf(x)
    import cupyx.scipy.special as cs  # pragma: no cover  (GPU only)

    return cs.erf(x)  # pragma: no cover


_TABLE: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any, Any], Any]]] = {
    "tan": (lambda xp, x: xp.tan(x), lambda xp, x, y: 1 + y * y),
    "asin": (lambda xp, x: xp.arcsin(x), lambda xp, x, y: 1 / xp.sqrt(1 - x * x)),
    "acos": (lambda xp, x: xp.arccos(x), lambda xp, x, y: -1 / xp.sqrt(1 - x * x)),
    "atan": (lambda xp, x: xp.arctan(x), lambda xp, x, y: 1 / (1 + x * x)),
    "sinh": (lambda xp, x: xp.sinh(x), lambda xp, x, y: xp.cosh(x)),
    "cosh": (lambda xp, x: xp.cosh(x), lambda xp, x, y: xp.sinh(x)),
    "erf": (lambda xp, x: erf(x), lambda xp, x, y: (2 / math.sqrt(math.pi)) * xp.exp(-x * x)),
    "expm1": (lambda xp, x: xp.expm1(x), lambda xp, x, y: y + 1),
    "log2": (lambda xp, x: xp.log2(x), lambda xp, x, y: 1 / (x * math.log(2.0))),
}


def _make(name: str) -> type[Function]:
    fwd, deriv = _TABLE[name]

    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        y = fwd(xp, x).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx: Context, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        return (grad * deriv(get_array_module(x), x, y)).astype(grad.dtype, copy=False)

    cls = type(name.capitalize(), (Function,), {
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "__doc__": f"``{name}`` elementwise (as ``torch.{name}``), with its derivative.",
        "__module__": __name__,
    })
    return cls


UNARY: dict[str, type[Function]] = {name: _make(name) for name in _TABLE}


class Atan2(Function):
    """``atan2(y, x)`` with broadcasting: the angle of the point ``(x, y)`` in ``[-pi, pi]`` (numpy's ``arctan2``,
    so ``atan2(0, 0) = 0`` and the signs of zeros count, as in torch). The gradients are
    ``x / (x^2 + y^2)`` for ``y`` and ``-y / (x^2 + y^2)`` for ``x``, and 0 at the origin, as in torch.

    >>> Atan2.apply(np.array([1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0])).tolist()
    [1.5707963267948966, 3.141592653589793, 0.0]
    """
    @staticmethod
    def forward(ctx: Context, y: Any, x: Any) -> Any:
        from gradlab.ops.elementwise import broadcasting

        xp = get_array_module(y)
        out = broadcasting("atan2", xp.arctan2, y, x)
        ctx.save_for_backward(y, x)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        from gradlab.ops.elementwise import unbroadcast

        y, x = ctx.saved_tensors
        ny, nx = ctx.needs_input_grad
        xp = get_array_module(grad)
        denom = x * x + y * y
        zero = denom == 0
        scale = grad / xp.where(zero, 1, denom)
        scale = xp.where(zero, 0, scale) if zero.any() else scale
        return (unbroadcast(scale * x, np.shape(y)) if ny else None,
                unbroadcast(-scale * y, np.shape(x)) if nx else None)


class Prod(Function):
    """The product of the elements along ``dim`` (all of them: ``dim=None``); the gradient of each factor is the
    product of the others, from exclusive cumulative products (exact when some factors are zero).

    >>> import gradlab
    >>> x = gradlab.tensor([[2.0, 0.0, 3.0]], requires_grad=True)
    >>> Prod.apply(x, 1, False).backward(gradlab.ones(1))
    >>> x.grad.tolist()
    [[0.0, 6.0, 0.0]]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: Any, keepdim: bool) -> Any:
        xp = get_array_module(x)
        ctx.meta = (x.shape, dim, keepdim)
        ctx.save_for_backward(x)
        if dim is None:
            return xp.asarray(xp.prod(x))
        return xp.prod(x, axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        shape, dim, keepdim = ctx.meta
        (x,) = ctx.saved_tensors
        if dim is None:
            flat = x.reshape(-1)
            others = _exclusive_products(xp, flat, 0).reshape(shape)
            return grad * others, None, None
        d = dim % len(shape)
        if not keepdim:
            grad = xp.expand_dims(grad, d)
        return grad * _exclusive_products(xp, x, d), None, None


def _exclusive_products(xp: Any, x: Any, axis: int) -> Any:
    """For each element, the product of the others along ``axis`` (left cumulative times right cumulative)."""
    if x.shape[axis] == 0:
        return xp.zeros_like(x)
    ones = xp.ones_like(xp.take(x, [0], axis=axis))
    left = xp.cumprod(xp.concatenate([ones, xp.take(x, range(x.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)
    flipped = xp.flip(x, axis=axis)
    right = xp.cumprod(xp.concatenate([ones, xp.take(flipped, range(x.shape[axis] - 1), axis=axis)], axis=axis),
                       axis=axis)
    return left * xp.flip(right, axis=axis)


class Cumprod(Function):
    """Cumulative product along ``dim``; the gradient of ``x[i]`` is ``sum over j >= i of g[j] * prod of x[k] for
    k <= j, k != i``, computed for each ``i`` with exclusive products (exact when some factors are zero).

    >>> import gradlab
    >>> x = gradlab.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> y = Cumprod.apply(x, 0)
    >>> y.tolist()
    [2.0, 0.0, 0.0]
    >>> y.sum().backward()
    >>> x.grad.tolist()
    [1.0, 8.0, 0.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int) -> Any:
        xp = get_array_module(x)
        ctx.dim = dim % max(x.ndim, 1)
        ctx.save_for_backward(x)
        return xp.cumprod(x, axis=ctx.dim) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None
        d = ctx.dim
        xm = xp.moveaxis(x, d, -1)
        gm = xp.moveaxis(grad, d, -1)
        y = xp.cumprod(xm, axis=-1)
        # no zero in a row: sum_j>=i g[j] y[j] / x[i], a reversed cumulative sum
        out = xp.flip(xp.cumsum(xp.flip(gm * y, -1), -1), -1) / xp.where(xm == 0, 1, xm)
        rows = (xm == 0).any(-1)
        if rows.any():  # rows with zeros: the products without x[i], from an (n, n, n) triangle per such row
            out[rows] = _cumprod_grad_exact(xp, xm[rows], gm[rows])
        return xp.moveaxis(out.astype(grad.dtype, copy=False), -1, d), None


def _cumprod_grad_exact(xp: Any, x: Any, g: Any) -> Any:
    """``sum_j>=i g[j] * prod_{k<=j, k!=i} x[k]`` for each row of the 2-D ``x`` (no division)."""
    n = x.shape[-1]
    j = xp.arange(n)
    keep = xp.where(j[None, None, :] == j[:, None, None], 1, x[:, None, None, :])  # [row, i, j, k]
    prods = xp.prod(xp.where(j[:, None] >= j[None, :], keep, 1), axis=-1)  # k <= j
    return (prods * g[:, None, :] * (j[None, :] >= j[:, None])).sum(-1)
