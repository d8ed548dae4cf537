"""Elementwise ops with NumPy broadcasting; backward reduces gradients back to each input's shape."""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module

__all__ = [
    "unbroadcast", "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs", "Sin", "Cos", "Tanh",
    "Clamp", "Maximum", "Minimum", "Where", "Cast", "Clone", "where", "broadcasting",
]


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving an array of ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _shape(x: Any) -> tuple:
    return getattr(x, "shape", ())


def _broadcast_error(op: str, a: Any, b: Any) -> ValueError:
    return ValueError(
        f"{op}: shapes {tuple(_shape(a))} and {tuple(_shape(b))} cannot be broadcast together "
        f"(sizes must match or be 1, aligned from the last dimension)"
    )


def broadcasting(op: str, fn: Callable[..., Any], a: Any, b: Any, *rest: Any) -> Any:
    """``fn(a, b, *rest)``, with numpy's broadcast failure turned into a ValueError naming ``op`` and both shapes.

    >>> import numpy as np
    >>> broadcasting("add", operator.add, np.ones(2), np.ones(3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: add: shapes (2,) and (3,) cannot be broadcast together (sizes must match or be 1, ...)
    """
    try:
        return fn(a, b, *rest)
    except ValueError:
        raise _broadcast_error(op, a, b) from None


class Add(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = broadcasting("add", operator.add, a, b)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad, sa) if na else None, unbroadcast(grad, sb) if nb else None)


class Sub(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = broadcasting("sub", operator.sub, a, b)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad, sa) if na else None, unbroadcast(-grad, sb) if nb else None)


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = broadcasting("mul", operator.mul, a, b)
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(b if na else None, a if nb else None)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        b, a = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad * b, sa) if na else None, unbroadcast(grad * a, sb) if nb else None)


class Div(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = broadcasting("div", operator.truediv, a, b)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(grad / b, sa) if na else None
        gb = unbroadcast(-grad * a / (b * b), sb) if nb else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = broadcasting("pow", get_array_module(a).power, a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            ga = unbroadcast(grad * b * xp.power(a, b - 1), _shape(a))
        if nb:
            if not hasattr(a, "shape"):  # a Python number as the base (rpow): CuPy's where wants arrays
                a = xp.asarray(a, dtype=grad.dtype)
            with np.errstate(divide="ignore", invalid="ignore"):
                la = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), xp.where(a == 0, 0.0, xp.nan))
            gb = unbroadcast(grad * out * la, _shape(b))
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return -grad


class Exp(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        y = xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.log(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        y = xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


class Abs(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        return grad * xp.sign(x)


class Sin(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.sin(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        return grad * xp.cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.cos(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        return -grad * xp.sin(x)


class Tanh(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        y = xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)



class Clamp(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, lo: Any = None, hi: Any = None) -> Any:
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        if lo is None or hi is None:  # one-sided (CuPy's clip wants both bounds)
            return x.copy() if lo is None and hi is None else xp.minimum(x, hi) if lo is None else xp.maximum(x, lo)
        return xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (x,) = ctx.saved_tensors
        keep = xp.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            keep &= x >= ctx.lo
        if ctx.hi is not None:
            keep &= x <= ctx.hi
        return grad * keep, None, None


class Maximum(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = broadcasting("maximum", get_array_module(a).maximum, a, b)
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        wa = (a > b) + 0.5 * (a == b)
        na, nb = ctx.needs_input_grad
        return (
            unbroadcast(grad * wa, _shape(a)) if na else None,
            unbroadcast(grad * (1 - wa), _shape(b)) if nb else None,
        )


class Minimum(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = broadcasting("minimum", get_array_module(a).minimum, a, b)
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        a, b = ctx.saved_tensors
        wa = (a < b) + 0.5 * (a == b)
        na, nb = ctx.needs_input_grad
        return (
            unbroadcast(grad * wa, _shape(a)) if na else None,
            unbroadcast(grad * (1 - wa), _shape(b)) if nb else None,
        )


class Where(Function):
    @staticmethod
    def forward(ctx: Context, cond: Any, a: Any, b: Any) -> Any:
        out = broadcasting("where", lambda x, y: get_array_module(cond).where(cond, x, y), a, b)
        ctx.cond = cond
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        sa, sb = ctx.shapes
        _, na, nb = ctx.needs_input_grad
        zero = xp.zeros((), dtype=grad.dtype)
        ga = unbroadcast(xp.where(ctx.cond, grad, zero), sa) if na else None
        gb = unbroadcast(xp.where(ctx.cond, zero, grad), sb) if nb else None
        return None, ga, gb


def where(condition: Any, input: Any, other: Any) -> Any:
    """``condition ? input : other`` elementwise, differentiable in ``input`` and ``other``."""
    from gradlab.tensor import Tensor, as_array
    from gradlab.tensor_math import promote

    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != bool:
        raise TypeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype}")
    if isinstance(input, Tensor):
        a, b = promote(input, other)
    elif isinstance(other, Tensor):
        b, a = promote(other, input)
    else:
        a, b = Tensor._make(as_array(input), False), Tensor._make(as_array(other), False)
    xp = get_array_module(a._data if isinstance(a, Tensor) else b._data)
    if xp is not np and isinstance(cond, np.ndarray):
        cond = xp.asarray(cond)
    if not isinstance(a, Tensor):
        a = xp.asarray(a, dtype=b.dtype)
    if not isinstance(b, Tensor):
        b = xp.asarray(b, dtype=a.dtype)
    return Where.apply(cond, a, b)


class Cast(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any) -> Any:
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.astype(ctx.dtype) if ctx.dtype.kind == "f" else None, None


class Clone(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x.copy()

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad
