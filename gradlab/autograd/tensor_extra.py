"""More ``Tensor`` methods with torch's names, each built from existing ops (so differentiable where torch's are):
``rsqrt``, ``reciprocal``, ``expm1``, ``log2``, ``clamp_min``/``clamp_max``, ``logical_not``/``_and``/``_or``,
``isinf``, ``tan``/``asin``/``acos``/``atan``/``sinh``/``cosh``/``erf``, ``prod``, ``lerp``, ``masked_select``,
``diagonal``, ``trace``, ``outer``, ``dot``, ``diag``, ``unflatten``, ``movedim``, ``swapaxes``, ``broadcast_to``,
``ravel``, ``tile``, ``ndimension``, ``is_contiguous``, ``new_empty`` and in-place forms (``relu_``, ``exp_`` ...).
"""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab.ops import unary_more as U

__all__ = ["TensorExtra"]


def _tensor(x: Any) -> Any:
    from gradlab.tensor import Tensor

    return Tensor


def _unary(name: str) -> Any:
    """The method applying ``unary_more.UNARY[name]`` to the tensor made floating."""
    def method(self: Any) -> Any:
        return U.UNARY[name].apply(self._floating())

    method.__name__ = name
    method.__qualname__ = f"TensorExtra.{name}"
    return method


class TensorExtra:
    """Methods mixed into ``Tensor``.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 4.0])
    >>> x.rsqrt().tolist(), x.outer(x).tolist(), x.dot(x).item(), x.diag().tolist()
    ([1.0, 0.5], [[1.0, 4.0], [4.0, 16.0]], 17.0, [[1.0, 0.0], [0.0, 4.0]])
    >>> x.neg_().relu_().tolist(), x.abs_().sqrt_().tolist()
    ([0.0, 0.0], [0.0, 0.0])
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the attributes come from Tensor

        def __getattr__(self, name: str) -> Any: ...

        def __getitem__(self, index: Any) -> Any: ...

        def __neg__(self) -> Any: ...

        def __mul__(self, other: Any) -> Any: ...

    # ---- elementwise, from existing ops ----------------------------------------------------------------------------
    def rsqrt(self) -> Any:
        return 1.0 / self.sqrt()

    def reciprocal(self) -> Any:
        return 1.0 / self._floating()

    expm1, log2, tan, asin, acos, atan, sinh, cosh, erf = (
        _unary(n) for n in ("expm1", "log2", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf"))

    arcsin, arccos, arctan = asin, acos, atan

    def atan2(self, other: Any) -> Any:
        """The angle of the point ``(other, self)`` in ``[-pi, pi]`` (``self`` the y coordinate; 0 at the origin)."""
        y = self._floating()
        x = other if hasattr(other, "_data") else y.new_tensor(other)
        common = np.promote_types(y._data.dtype, x._data.dtype) if x._data.dtype.kind == "f" else y._data.dtype
        y, x = (t if t._data.dtype == common else t.to(common) for t in (y, x))
        return U.Atan2.apply(y, x)

    arctan2 = atan2

    def hypot(self, other: Any) -> Any:
        return (self * self + other * other).sqrt()

    def exp2(self) -> Any:
        return 2.0 ** self._floating()

    def logit(self, eps: Any = None) -> Any:
        x = self._floating() if eps is None else self._floating().clamp(eps, 1 - eps)
        return (x / (1 - x)).log()

    def xlogy(self, other: Any) -> Any:
        from gradlab.ops.elementwise import where

        x = self._floating()
        y = other if hasattr(other, "_data") else x.new_tensor(other)
        zero = x == 0
        return where(zero, 0.0, x * where(zero, 1.0, y).log())

    def prod(self, dim: Any = None, keepdim: builtins.bool = False, dtype: Any = None) -> Any:
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind == "b":
            x = x.long()
        return U.Prod.apply(x, dim, builtins.bool(keepdim))

    def cumprod(self, dim: int, dtype: Any = None) -> Any:
        x = self if dtype is None else self.to(dtype)
        return U.Cumprod.apply(x, dim)

    def median(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """The lower median (as torch's): a 0-d tensor, or ``(values, indices)`` along ``dim``."""
        if dim is None:
            flat = self.reshape(-1)
            return flat.sort().values[(flat.shape[0] - 1) // 2]
        from gradlab.tensor_math import MinMax

        n = self.shape[dim]
        order = self.argsort(dim)
        pick = order.narrow(dim, (n - 1) // 2, 1)
        values, indices = self.gather(dim, pick), pick
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return MinMax(values, indices)

    def nan_to_num(self, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
        from gradlab.ops.elementwise import where

        info = np.finfo(self._data.dtype) if self._data.dtype.kind == "f" else None
        if info is None:
            return self.clone()
        big = float(info.max) if posinf is None else posinf
        small = float(info.min) if neginf is None else neginf
        d = self._data
        out = where(self._wrap(d != d), nan, self)
        out = where(self._wrap(np.isposinf(d)), big, out)
        return where(self._wrap(np.isneginf(d)), small, out)

    def logical_xor(self, other: Any) -> Any:
        return self._wrap(np.logical_xor(self._data, getattr(other, "_data", other)))

    def sgn(self) -> Any:
        return self.sign()

    def fliplr(self) -> Any:
        return self.flip(1)

    def flipud(self) -> Any:
        return self.flip(0)

    def lerp(self, end: Any, weight: Any) -> Any:
        return self + (end - self) * weight

    def masked_select(self, mask: Any) -> Any:
        m = np.asarray(getattr(mask, "_data", mask), dtype=bool)
        shape = np.broadcast_shapes(tuple(self.shape), m.shape)
        x = self.expand(*shape) if tuple(self.shape) != shape else self
        return x[np.broadcast_to(m, shape)]

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        x = self.movedim((dim1, dim2), (-2, -1))
        r, c = x.shape[-2], x.shape[-1]
        k = builtins.max(0, builtins.min(r + builtins.min(offset, 0), c - builtins.max(offset, 0)))
        rows = np.arange(k) + builtins.max(-offset, 0)
        return x[..., rows, rows + offset]

    def trace(self) -> Any:
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, got a {self.ndim}-D tensor")
        return self.diagonal().sum()

    def clamp_min(self, min: Any) -> Any:  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Any:  # noqa: A002
        return self.clamp(max=max)

    def logical_not(self) -> Any:
        return self._wrap(np.logical_not(self._data))

    def logical_and(self, other: Any) -> Any:
        return self._wrap(np.logical_and(self._data, getattr(other, "_data", other)))

    def logical_or(self, other: Any) -> Any:
        return self._wrap(np.logical_or(self._data, getattr(other, "_data", other)))

    def isinf(self) -> Any:
        return self._wrap(np.isinf(self._data))

    def _wrap(self, arr: Any) -> Any:
        return _tensor(self)._make(np.asarray(arr), False)

    # ---- linear algebra on vectors and matrices --------------------------------------------------------------------
    def outer(self, vec2: Any) -> Any:
        if self.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError(f"outer: expected two 1-D tensors, got {self.ndim}-D and {vec2.ndim}-D")
        return self.unsqueeze(1) * vec2.unsqueeze(0)

    def dot(self, other: Any) -> Any:
        if self.ndim != 1 or other.ndim != 1 or self.shape[0] != other.shape[0]:
            raise RuntimeError(f"dot: expected two 1-D tensors of one size, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return (self * other).sum()

    def diag(self, diagonal: int = 0) -> Any:
        """A square matrix with this vector on its ``diagonal``, or a matrix's ``diagonal`` as a vector."""
        if self.ndim == 1:
            n = self.shape[0] + builtins.abs(diagonal)
            rows = np.arange(self.shape[0]) + builtins.max(-diagonal, 0)
            cols = np.arange(self.shape[0]) + builtins.max(diagonal, 0)
            from gradlab.ops.shape import index_put

            zeros = self.new_zeros(n, n)
            return index_put(zeros, (rows, cols), self)
        if self.ndim != 2:
            raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got {self.ndim}-D")
        return self.diagonal(diagonal)

    # ---- shape -----------------------------------------------------------------------------------------------------
    def unflatten(self, dim: int, sizes: Any) -> Any:
        d = dim % self.ndim
        shape = tuple(self.shape)
        return self.reshape(shape[:d] + tuple(sizes) + shape[d + 1:])

    def movedim(self, source: Any, destination: Any) -> Any:
        src = [s % self.ndim for s in ((source,) if isinstance(source, int) else source)]
        dst = [d % self.ndim for d in ((destination,) if isinstance(destination, int) else destination)]
        order = [i for i in range(self.ndim) if i not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return self.permute(*order)

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int) -> Any:
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def broadcast_to(self, size: Any) -> Any:
        return self.expand(*size)

    def ravel(self) -> Any:
        return self.reshape(-1)

    def tile(self, dims: Any) -> Any:
        dims = tuple(dims)
        if len(dims) < self.ndim:
            dims = (1,) * (self.ndim - len(dims)) + dims
        x = self.reshape((1,) * (len(dims) - self.ndim) + tuple(self.shape))
        return x.repeat(*dims)

    def ndimension(self) -> int:
        return int(self.ndim)

    def is_contiguous(self, memory_format: Any = None) -> builtins.bool:
        return builtins.bool(self._data.flags.c_contiguous)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: builtins.bool = False) -> Any:
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    # ---- in-place forms --------------------------------------------------------------------------------------------
    def relu_(self) -> Any:
        return self._set_inplace(self.relu())

    def sigmoid_(self) -> Any:
        return self._set_inplace(self.sigmoid())

    def tanh_(self) -> Any:
        return self._set_inplace(self.tanh())

    def exp_(self) -> Any:
        return self._set_inplace(self.exp())

    def log_(self) -> Any:
        return self._set_inplace(self.log())

    def abs_(self) -> Any:
        return self._set_inplace(self.abs())

    def neg_(self) -> Any:
        return self._set_inplace(-self)

    def sqrt_(self) -> Any:
        return self._set_inplace(self.sqrt())

    def pow_(self, exponent: Any) -> Any:
        return self._set_inplace(self.pow(exponent))

    def square_(self) -> Any:
        return self._set_inplace(self * self)

    def reciprocal_(self) -> Any:
        return self._set_inplace(self.reciprocal())


for _name in ("rsqrt", "reciprocal", "expm1", "log2", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf", "prod",
              "hypot", "exp2", "logit", "xlogy", "cumprod", "nan_to_num", "logical_xor", "sgn", "fliplr", "flipud",
              "lerp", "masked_select", "diagonal", "trace", "clamp_min", "clamp_max", "logical_not",
              "logical_and", "logical_or", "isinf", "outer", "dot", "unflatten", "movedim", "swapaxes",
              "broadcast_to", "ravel", "tile", "ndimension", "is_contiguous", "new_empty", "relu_", "sigmoid_",
              "tanh_", "exp_", "log_", "abs_", "neg_", "sqrt_", "pow_", "square_", "reciprocal_"):
    getattr(TensorExtra, _name).__doc__ = f"``torch.Tensor.{_name}`` (see the class example)."
del _name
