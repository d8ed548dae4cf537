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
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving an array of ``shape``.

    >>> unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
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
    """``a + b`` with broadcasting; each gradient is summed back to its input's shape.

    >>> Add.apply(np.array([1.0, 2.0]), np.array([10.0]))
    tensor([11., 12.], dtype=float64)
    """
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
    """``a - b`` with broadcasting.

    >>> Sub.apply(np.array([1.0, 2.0]), np.array([10.0]))
    tensor([-9., -8.], dtype=float64)
    """
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
    """``a * b`` with broadcasting.

    >>> Mul.apply(np.array([1.0, 2.0]), np.array([3.0]))
    tensor([3., 6.], dtype=float64)
    """
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
    """``a / b`` with broadcasting.

    >>> Div.apply(np.array([1.0, 2.0]), np.array([4.0]))
    tensor([0.25, 0.5 ], dtype=float64)
    """
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
    """``a ** b`` with broadcasting; differentiable in both the base and the exponent.

    >>> Pow.apply(np.array([2.0, 3.0]), np.array([2.0]))
    tensor([4., 9.], dtype=float64)
    """
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
    """``-x``.

    >>> Neg.apply(np.array([1.0, -2.0]))
    tensor([-1.,  2.], dtype=float64)
    """
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return -grad


class Exp(Function):
    """``exp(x)``; the gradient reuses the output.

    >>> Exp.apply(np.array([0.0, 1.0]))
    tensor([1.    , 2.7183], dtype=float64)
    """
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
    """Natural logarithm; the gradient is ``1 / x``.

    >>> Log.apply(np.array([1.0, np.e]))
    tensor([0., 1.], dtype=float64)
    """
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
    """Square root; the gradient is ``0.5 / sqrt(x)``.

    >>> Sqrt.apply(np.array([4.0, 9.0]))
    tensor([2., 3.], dtype=float64)
    """
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
    """``|x|``; the gradient is ``sign(x)`` (0 at 0).

    >>> Abs.apply(np.array([-2.0, 0.0, 3.0]))
    tensor([2., 0., 3.], dtype=float64)
    """
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
    """``sin(x)``; the gradient is ``cos(x)``.

    >>> Sin.apply(np.array([0.0, np.pi / 2]))
    tensor([0., 1.], dtype=float64)
    """
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
    """``cos(x)``; the gradient is ``-sin(x)``.

    >>> Cos.apply(np.array([0.0, np.pi]))
    tensor([ 1., -1.], dtype=float64)
    """
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
    """``tanh(x)``; the gradient is ``1 - y**2``.

    >>> Tanh.apply(np.array([0.0, 1.0]))
    tensor([0.    , 0.7616], dtype=float64)
    """
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
    """``x`` clipped to ``[lo, hi]`` (either bound may be None); no gradient where clipped.

    >>> Clamp.apply(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
    tensor([0. , 0.5, 1. ], dtype=float64)
    """
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
    """Elementwise ``max(a, b)``; a tie splits the gradient half and half.

    >>> Maximum.apply(np.array([1.0, 5.0]), np.array([3.0]))
    tensor([3., 5.], dtype=float64)
    """
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
    """Elementwise ``min(a, b)``; a tie splits the gradient half and half.

    >>> Minimum.apply(np.array([1.0, 5.0]), np.array([3.0]))
    tensor([1., 3.], dtype=float64)
    """
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
    """``a`` where the boolean array ``cond`` holds, else ``b``; no gradient for ``cond``.

    >>> Where.apply(np.array([True, False]), np.array([1.0, 2.0]), np.array([9.0]))
    tensor([1., 9.], dtype=float64)
    """
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
    """``condition ? input : other`` elementwise, differentiable in ``input`` and ``other``.

    >>> import gradlab
    >>> where(gradlab.tensor([True, False]), gradlab.tensor([1.0, 2.0]), 0.0)
    tensor([1., 0.])
    >>> where(gradlab.tensor([1, 0]), 1.0, 0.0)
    Traceback (most recent call last):
        ...
    TypeError: where expected condition to be a boolean tensor, but got a tensor with dtype int64
    """
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
    """``x`` converted to ``dtype``; the gradient goes back in the input's dtype (none for integer inputs).

    >>> Cast.apply(np.array([1.5, 2.0]), np.float32).dtype
    dtype('float32')
    """
    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any) -> Any:
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.astype(ctx.dtype) if ctx.dtype.kind == "f" else None, None


class Clone(Function):
    """A copy of ``x`` that is a new node of the graph; the gradient passes through unchanged.

    >>> Clone.apply(np.array([1.0, 2.0]))
    tensor([1., 2.], dtype=float64)
    """
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x.copy()

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad
