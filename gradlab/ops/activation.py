"""Activation ops (sigmoid, ReLU and its relatives, GELU, softplus, SiLU), forward and backward side by side."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.ops.unary_more import erf

__all__ = ["softplus0", "stable_sigmoid", "Sigmoid", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "SiLU"]


def softplus0(x: Any) -> Any:
    """``log(1 + exp(x))`` without overflow, as ``max(x, 0) + log1p(exp(-|x|))`` (numpy's ``logaddexp(0, x)`` gives
    the same values about 10x slower).

    >>> import numpy as np
    >>> softplus0(np.array([-1000.0, 0.0, 1000.0])).round(4).tolist()
    [0.0, 0.6931, 1000.0]
    """
    xp = get_array_module(x)
    t = xp.asarray(xp.abs(x))  # an array even for 0-d input, so that out= works
    xp.negative(t, out=t)
    xp.exp(t, out=t)
    xp.log1p(t, out=t)
    t += xp.maximum(x, 0)
    return t


def stable_sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow for large |x|.

    >>> import numpy as np
    >>> stable_sigmoid(np.array([-1000.0, 0.0, 1000.0]))  # no overflow warning at the extremes
    array([0. , 0.5, 1. ])
    """
    xp = get_array_module(x)
    # 1 / (1 + exp(-x)) directly: exp overflows to inf only where the result is below float's range anyway (1/inf =
    # 0), and it is about 10x faster than choosing between two stable forms with np.where
    with np.errstate(over="ignore"):
        e = xp.asarray(xp.exp(-x))  # an array even for 0-d input, so that out= works
    e += 1
    return xp.reciprocal(e, out=e).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """The logistic function ``1 / (1 + exp(-x))``; its gradient is ``y * (1 - y)``.

    >>> import gradlab
    >>> x = gradlab.tensor([0.0, 2.0], requires_grad=True)
    >>> y = Sigmoid.apply(x)
    >>> y
    tensor([0.5   , 0.8808], grad_fn=<SigmoidBackward0>)
    >>> y.sum().backward()
    >>> x.grad
    tensor([0.25 , 0.105])
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = stable_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class ReLU(Function):
    """``max(x, 0)``; the gradient is 1 where the output is positive, else 0.

    >>> import gradlab
    >>> x = gradlab.tensor([-1.0, 0.0, 3.0], requires_grad=True)
    >>> y = ReLU.apply(x)
    >>> y.sum().backward()
    >>> y.tolist(), x.grad.tolist()
    ([0.0, 0.0, 3.0], [0.0, 0.0, 1.0])
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        y = xp.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        return grad * (y > 0)


class LeakyReLU(Function):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    >>> import gradlab
    >>> LeakyReLU.apply(gradlab.tensor([-2.0, 3.0]), 0.5).tolist()
    [-1.0, 3.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, negative_slope: float = 0.01) -> Any:
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return xp.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        return xp.where(x > 0, grad, grad * ctx.slope), None


class ELU(Function):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    >>> import gradlab
    >>> ELU.apply(gradlab.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.6321,  0.    ,  2.    ])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, alpha: float = 1.0) -> Any:
        xp = get_array_module(x)
        y = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        x, y = ctx.saved_tensors
        return xp.where(x > 0, grad, grad * (y + ctx.alpha)), None


_SQRT_2_OVER_PI = 0.7978845608028654
_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


class GELU(Function):
    """``x * Phi(x)`` with the normal CDF ``Phi``; ``approximate="tanh"`` uses the tanh formula.

    >>> import gradlab
    >>> GELU.apply(gradlab.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.1587,  0.    ,  1.9545])
    >>> GELU.apply(gradlab.tensor([-1.0, 0.0, 2.0]), "tanh")
    tensor([-0.1588,  0.    ,  1.9546])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, approximate: str = "none") -> Any:
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            ctx.t = t
            return 0.5 * x * (1 + t)
        cdf = (0.5 * (1 + erf(x * _INV_SQRT_2))).astype(x.dtype, copy=False)
        ctx.cdf = cdf
        return x * cdf

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ctx.t
            dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner), None
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
        return grad * (ctx.cdf + x * pdf), None


class Softplus(Function):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    >>> import gradlab
    >>> Softplus.apply(gradlab.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.    ])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        xp = get_array_module(x)
        bx = x * beta
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return xp.where(bx > threshold, x, softplus0(bx) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return xp.where(bx > ctx.threshold, grad, grad * stable_sigmoid(bx)), None, None


class SiLU(Function):
    """``x * sigmoid(x)`` (swish).

    >>> import gradlab
    >>> SiLU.apply(gradlab.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.2689,  0.    ,  1.7616])
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        s = stable_sigmoid(x)
        ctx.save_for_backward(x)
        ctx.s = s
        return x * s

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        s = ctx.s
        return grad * s * (1 + x * (1 - s))
