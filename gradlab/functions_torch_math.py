"""The maths functions in the ``gradlab`` namespace with torch's names (the rest are in
``gradlab.functions_torch``): products (``outer``, ``dot``, ``addmm`` ...), one-tensor maths (``rsqrt``, ``tan``,
``erf`` ...), two- and three-tensor ones (``atan2``, ``lerp``, ``addcmul`` ...) and reductions (``prod``,
``median``, ``std_mean`` ...); most call the ``Tensor`` method of the same name.

>>> import gradlab
>>> gradlab.outer(gradlab.tensor([1.0, 2.0]), gradlab.ones(3)).shape, gradlab.trace(gradlab.eye(3)).item()
(gradlab.Size([2, 3]), 3.0)
"""
from __future__ import annotations

from functools import partial
from typing import Any

from gradlab.functions import _t
from gradlab.functions_torch import _method_function

__all__ = [
    "outer", "dot", "diag", "addmm", "trace", "rsqrt", "reciprocal", "expm1", "log2", "exp2", "square", "clamp_min",
    "clamp_max", "clip", "sign", "sgn", "log_softmax", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "erf",
    "hypot", "logit", "xlogy", "lerp", "addcmul", "addcdiv", "nan_to_num", "prod", "cumprod", "median", "amax",
    "amin", "std_mean", "var_mean",
]


def clip(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """``input`` clamped to ``[min, max]`` (alias of ``clamp``).

    >>> import gradlab
    >>> gradlab.clip(gradlab.tensor([-2.0, 0.5, 2.0]), -1.0, 1.0)
    tensor([-1. ,  0.5,  1. ])
    """
    return _t(input).clamp(min, max)


def log_softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    """``log(softmax(input))`` over ``dim``, computed stably (in ``dtype`` when given).

    >>> import gradlab
    >>> gradlab.log_softmax(gradlab.zeros(2), dim=0)
    tensor([-0.6931, -0.6931])
    """
    x = _t(input)
    return (x if dtype is None else x.to(dtype)).log_softmax(dim)


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
    """``beta * input + alpha * (mat1 @ mat2)``.

    >>> import gradlab
    >>> gradlab.addmm(gradlab.ones(2, 2), gradlab.eye(2), gradlab.tensor([[1.0, 2.0], [3.0, 4.0]]), beta=10)
    tensor([[11., 12.],
            [13., 14.]])
    """
    product = _t(mat1) @ mat2
    return (_t(input) * beta if beta != 1 else _t(input)) + (product * alpha if alpha != 1 else product)


def std_mean(input: Any, dim: Any = None, *, correction: Any = 1, keepdim: bool = False) -> tuple:
    """``(std, mean)`` over ``dim``.

    >>> import gradlab
    >>> gradlab.std_mean(gradlab.tensor([1.0, 2.0, 3.0]))
    (tensor(1.), tensor(2.))
    """
    x = _t(input)
    return x.std(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


def var_mean(input: Any, dim: Any = None, *, correction: Any = 1, keepdim: bool = False) -> tuple:
    """``(var, mean)`` over ``dim``.

    >>> import gradlab
    >>> gradlab.var_mean(gradlab.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1)
    (tensor([2., 0.]), tensor([2., 2.]))
    """
    x = _t(input)
    return x.var(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


_method = partial(_method_function, __name__)


outer = _method("outer", "gradlab.outer(gradlab.tensor([1, 2]), gradlab.tensor([1, 10]))",
                "tensor([[ 1, 10],", "        [ 2, 20]])")
dot = _method("dot", "gradlab.dot(gradlab.tensor([1.0, 2.0]), gradlab.tensor([3.0, 4.0]))", "tensor(11.)")
diag = _method("diag", "gradlab.diag(gradlab.tensor([1, 2]))", "tensor([[1, 0],", "        [0, 2]])")
trace = _method("trace", "gradlab.trace(gradlab.tensor([[1.0, 2.0], [3.0, 4.0]]))", "tensor(5.)")
rsqrt = _method("rsqrt", "gradlab.rsqrt(gradlab.tensor([4.0, 0.25]))", "tensor([0.5, 2. ])")
reciprocal = _method("reciprocal", "gradlab.reciprocal(gradlab.tensor([2.0, 0.5]))", "tensor([0.5, 2. ])")
expm1 = _method("expm1", "gradlab.expm1(gradlab.tensor([0.0, 1.0]))", "tensor([0.    , 1.7183])")
log2 = _method("log2", "gradlab.log2(gradlab.tensor([1.0, 8.0]))", "tensor([0., 3.])")
exp2 = _method("exp2", "gradlab.exp2(gradlab.tensor([0.0, 3.0]))", "tensor([1., 8.])")
square = _method("square", "gradlab.square(gradlab.tensor([-2.0, 3.0]))", "tensor([4., 9.])")
clamp_min = _method("clamp_min", "gradlab.clamp_min(gradlab.tensor([-1.0, 2.0]), 0.0)", "tensor([0., 2.])")
clamp_max = _method("clamp_max", "gradlab.clamp_max(gradlab.tensor([-1.0, 2.0]), 0.0)", "tensor([-1.,  0.])")
sign = _method("sign", "gradlab.sign(gradlab.tensor([-2.0, 0.0, 3.0]))", "tensor([-1.,  0.,  1.])")
sgn = _method("sgn", "gradlab.sgn(gradlab.tensor([-2.0, 0.0, 3.0]))", "tensor([-1.,  0.,  1.])")
tan = _method("tan", "gradlab.tan(gradlab.tensor([0.0, 0.7854]))", "tensor([0., 1.])")
asin = _method("asin", "gradlab.asin(gradlab.tensor([0.0, 1.0]))", "tensor([0.    , 1.5708])")
acos = _method("acos", "gradlab.acos(gradlab.tensor([1.0, 0.0]))", "tensor([0.    , 1.5708])")
atan = _method("atan", "gradlab.atan(gradlab.tensor([0.0, 1.0]))", "tensor([0.    , 0.7854])")
atan2 = _method("atan2", "gradlab.atan2(gradlab.tensor([1.0, 0.0]), gradlab.tensor([1.0, -1.0]))",
                "tensor([0.7854, 3.1416])")
sinh = _method("sinh", "gradlab.sinh(gradlab.tensor([0.0, 1.0]))", "tensor([0.    , 1.1752])")
cosh = _method("cosh", "gradlab.cosh(gradlab.tensor([0.0, 1.0]))", "tensor([1.    , 1.5431])")
erf = _method("erf", "gradlab.erf(gradlab.tensor([0.0, 1.0]))", "tensor([0.    , 0.8427])")
hypot = _method("hypot", "gradlab.hypot(gradlab.tensor([3.0, 5.0]), gradlab.tensor([4.0, 12.0]))",
                "tensor([ 5., 13.])")
logit = _method("logit", "gradlab.logit(gradlab.tensor([0.5, 0.75]))", "tensor([0.    , 1.0986])")
xlogy = _method("xlogy", "gradlab.xlogy(gradlab.tensor([0.0, 2.0]), gradlab.tensor([0.0, 4.0]))  # 0 * log(0) = 0",
                "tensor([0.    , 2.7726])")
lerp = _method("lerp", "gradlab.lerp(gradlab.tensor([0.0, 10.0]), gradlab.tensor([10.0, 20.0]), 0.5)",
               "tensor([ 5., 15.])")
addcmul = _method("addcmul",
                  "gradlab.addcmul(gradlab.ones(2), gradlab.tensor([1.0, 2.0]), gradlab.tensor([3.0, 4.0]), value=0.5)",
                  "tensor([2.5, 5. ])")
addcdiv = _method("addcdiv",
                  "gradlab.addcdiv(gradlab.ones(2), gradlab.tensor([1.0, 2.0]), gradlab.tensor([2.0, 8.0]), value=2)",
                  "tensor([2. , 1.5])")
nan_to_num = _method("nan_to_num",
                     "gradlab.nan_to_num(gradlab.tensor([float('nan'), float('inf'), 1.0]), nan=0.0, posinf=9.0)",
                     "tensor([0., 9., 1.])")
prod = _method("prod", "gradlab.prod(gradlab.tensor([1.0, 2.0, 3.0]))", "tensor(6.)")
cumprod = _method("cumprod", "gradlab.cumprod(gradlab.tensor([1, 2, 3]), dim=0)", "tensor([1, 2, 6])")
median = _method("median", "gradlab.median(gradlab.tensor([4.0, 1.0, 2.0, 3.0]))  # the lower of the middle two",
                 "tensor(2.)")
amax = _method("amax", "gradlab.amax(gradlab.tensor([[1, 5], [3, 2]]), dim=0)", "tensor([3, 5])")
amin = _method("amin", "gradlab.amin(gradlab.tensor([[1, 5], [3, 2]]), dim=1)", "tensor([1, 2])")
