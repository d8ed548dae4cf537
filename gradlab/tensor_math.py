"""The math methods and operators of ``Tensor`` (each one a call into an op of ``gradlab.ops``)."""
from __future__ import annotations

from collections import namedtuple
from numbers import Number
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab import backend, devices
from gradlab.ops import activation as A
from gradlab.ops import elementwise as E
from gradlab.ops import matmul as M
from gradlab.ops import reduce as R
from gradlab.ops import shape as S

__all__ = ["TensorMath", "promote", "MinMax"]

MinMax = namedtuple("MinMax", ["values", "indices"])
MinMax.__doc__ = """``(values, indices)`` returned by ``max``/``min`` along a dimension (as torch's namedtuple).

>>> from gradlab.creation import tensor
>>> r = tensor([[1.0, 5.0], [4.0, 2.0]]).max(dim=1)
>>> r.values.tolist(), r.indices.tolist()
([5.0, 4.0], [1, 0])
"""


def _dims(args: tuple) -> tuple:
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def _np_alias(dim: Any, keepdim: Any, axis: Any, keepdims: Any) -> tuple:
    """torch's NumPy-style aliases: ``axis=`` for ``dim``, ``keepdims=`` for ``keepdim``."""
    if axis is not None:
        if dim is not None:
            raise TypeError("got both dim and its alias axis")
        dim = axis
    return dim, (keepdim if keepdims is None else bool(keepdims))


def promote(a: Any, b: Any) -> tuple:
    """Bring two operands to a common dtype as PyTorch does (int tensor + float -> float, not float64).

    >>> import gradlab
    >>> from gradlab.creation import tensor
    >>> a, b = promote(tensor([1, 2]), 0.5)
    >>> a.dtype, b
    (dtype('float32'), 0.5)
    >>> [t.dtype for t in promote(tensor([1.0]), tensor([1], dtype=gradlab.float64))]
    [dtype('float64'), dtype('float64')]
    """
    from gradlab.tensor import Tensor, as_array

    if not isinstance(b, Tensor):
        if isinstance(b, np.ndarray):
            # a raw host array operand follows a GPU tensor to its device (a copy), as a Python number does
            b = Tensor._make(b if backend._cp is None else devices.to_device(b, a.device), False)
        elif isinstance(b, (bool, int, float, np.generic)) or isinstance(b, Number):
            ka = a._data.dtype.kind
            if isinstance(b, float) and ka in "iub":
                return a.to(backend.get_default_dtype()), b
            if isinstance(b, int) and ka == "b" and not isinstance(b, bool):
                return a.to(np.int64), b
            return a, b
        else:
            b = Tensor._make(as_array(b, device=None if backend._cp is None else a.device), False)
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        fa, fb = da.kind == "f", db.kind == "f"
        if fa and not fb:
            b = b.to(da)
        elif fb and not fa:
            a = a.to(db)
        elif a._data.ndim == 0 and b._data.ndim:  # a 0-d tensor doesn't promote a dimensioned one of its kind
            a = a.to(db)
        elif b._data.ndim == 0 and a._data.ndim:
            b = b.to(da)
        else:
            common = np.promote_types(da, db)
            a, b = a.to(common), b.to(common)
    return a, b


class TensorMath:
    """Operators and math methods mixed into ``Tensor``.

    >>> from gradlab.creation import tensor
    >>> x = tensor([[1.0, -2.0]], requires_grad=True)
    >>> y = (x * 3 + 1).abs().sum()
    >>> y.backward()
    >>> y.item(), x.grad.tolist()
    (9.0, [[3.0, -3.0]])
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the attributes come from Tensor

        def __getattr__(self, name: str) -> Any: ...

    # ---- arithmetic -----------------------------------------------------------------------------------
    def __add__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Add.apply(a, b)

    def __radd__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Add.apply(b, a)

    def __sub__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Sub.apply(a, b)

    def __rsub__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Sub.apply(b, a)

    def __mul__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Mul.apply(a, b)

    def __rmul__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Mul.apply(b, a)

    def __truediv__(self, other: Any) -> Any:
        a, b = promote(self._floating(), other)
        return E.Div.apply(a, b)

    def __rtruediv__(self, other: Any) -> Any:
        a, b = promote(self._floating(), other)
        return E.Div.apply(b, a)

    def __pow__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Pow.apply(a, b)

    def __rpow__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Pow.apply(b, a)

    def __matmul__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return M.MatMul.apply(a, b)

    def __rmatmul__(self, other: Any) -> Any:
        a, b = promote(self, other)
        return M.MatMul.apply(b, a)

    def __neg__(self) -> Any:
        return E.Neg.apply(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return E.Abs.apply(self)

    def _floating(self) -> Any:
        return self if self._data.dtype.kind == "f" else self.to(backend.get_default_dtype())

    def add(self, other: Any, alpha: float = 1) -> Any:
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other: Any, alpha: float = 1) -> Any:
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> Any:
        return self * other

    def div(self, other: Any, *, rounding_mode: Any = None) -> Any:
        return self / other if rounding_mode is None else self._div_rounded(other, rounding_mode)

    def pow(self, other: Any) -> Any:
        return self**other

    def matmul(self, other: Any) -> Any:
        return self @ other

    def mm(self, other: Any) -> Any:
        return self @ other

    def neg(self) -> Any:
        return E.Neg.apply(self)

    # ---- comparisons (not differentiable) ------------------------------------------------------------------
    def _compare(self, other: Any, op: Any) -> Any:
        from gradlab.tensor import Tensor

        o = other._data if isinstance(other, Tensor) else other
        if backend._cp is not None and isinstance(o, (np.ndarray, list)):
            o = devices.to_device(np.asarray(o), self.device)
        return Tensor._make(op(self._data, o), False)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Any:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, np.greater_equal)

    def eq(self, other: Any) -> Any:
        return self == other

    def ne(self, other: Any) -> Any:
        return self != other

    def lt(self, other: Any) -> Any:
        return self < other

    def le(self, other: Any) -> Any:
        return self <= other

    def gt(self, other: Any) -> Any:
        return self > other

    def ge(self, other: Any) -> Any:
        return self >= other

    def __invert__(self) -> Any:
        return self._compare(None, lambda a, _: np.invert(a))

    def __and__(self, other: Any) -> Any:
        return self._compare(other, np.logical_and if self._data.dtype == np.bool_ else np.bitwise_and)

    def __or__(self, other: Any) -> Any:
        return self._compare(other, np.logical_or if self._data.dtype == np.bool_ else np.bitwise_or)

    def isnan(self) -> Any:
        return self._compare(None, lambda a, _: np.isnan(a))

    def isfinite(self) -> Any:
        return self._compare(None, lambda a, _: np.isfinite(a))

    def all(self) -> Any:
        return self._compare(None, lambda a, _: np.all(a))

    def any(self) -> Any:
        return self._compare(None, lambda a, _: np.any(a))

    # ---- elementwise math ---------------------------------------------------------------------------------
    def exp(self) -> Any:
        return E.Exp.apply(self._floating())

    def log(self) -> Any:
        return E.Log.apply(self._floating())

    def sqrt(self) -> Any:
        return E.Sqrt.apply(self._floating())

    def abs(self) -> Any:
        return E.Abs.apply(self)

    def sin(self) -> Any:
        return E.Sin.apply(self._floating())

    def cos(self) -> Any:
        return E.Cos.apply(self._floating())

    def tanh(self) -> Any:
        return E.Tanh.apply(self._floating())

    def sigmoid(self) -> Any:
        return A.Sigmoid.apply(self._floating())

    def relu(self) -> Any:
        return A.ReLU.apply(self)

    def square(self) -> Any:
        return self * self

    def sign(self) -> Any:
        return self._compare(None, lambda a, _: np.sign(a))

    def clamp(self, min: Any = None, max: Any = None) -> Any:
        if min is None and max is None:
            raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
        return E.Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Maximum.apply(a, b)

    def minimum(self, other: Any) -> Any:
        a, b = promote(self, other)
        return E.Minimum.apply(a, b)

    def where(self, condition: Any, other: Any) -> Any:
        from gradlab.ops.elementwise import where

        return where(condition, self, other)

    # ---- reductions ----------------------------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None, *, axis: Any = None,
            keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bu" or x._data.dtype.kind == "i" and x._data.dtype != np.int64:
            x = x.to(np.int64)
        return R.Sum.apply(x, dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating, got {self.dtype}")
        return R.Mean.apply(self, dim, keepdim)

    def _minmax(self, dim: Any, keepdim: bool, is_max: bool) -> Any:
        from gradlab.tensor import Tensor

        if dim is None:
            return R.MaxAll.apply(self, is_max)
        if isinstance(dim, Tensor):  # torch.max(a, b) as maximum
            return self.maximum(dim) if is_max else self.minimum(dim)
        xp = backend.get_array_module(self._data)
        arg = xp.argmax if is_max else xp.argmin
        idx = xp.expand_dims(arg(self._data, axis=dim), dim)
        values = R.MaxDim.apply(self, dim, keepdim, idx)
        return MinMax(values, Tensor._make(idx if keepdim else xp.squeeze(idx, dim), False))

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return self._minmax(dim, keepdim, True)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return self._minmax(dim, keepdim, False)

    def amax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return self.max() if dim is None else self.max(dim, keepdim).values

    def amin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return self.min() if dim is None else self.min(dim, keepdim).values

    def argmax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return self._arg("argmax", dim, keepdim)

    def argmin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return self._arg("argmin", dim, keepdim)

    def _arg(self, name: str, dim: Any, keepdim: bool) -> Any:
        from gradlab.tensor import Tensor

        xp = backend.get_array_module(self._data)
        fn = getattr(xp, name)
        if dim is None:
            r = xp.asarray(fn(self._data), dtype=np.int64)
            return Tensor._make(r.reshape((1,) * self._data.ndim) if keepdim else r, False)
        return Tensor._make(xp.asarray(fn(self._data, axis=dim, keepdims=keepdim), dtype=np.int64), False)

    def var(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None,
            axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        c = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
        return R.Var.apply(self, dim, c, keepdim)

    def std(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None,
            axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return E.Sqrt.apply(self.var(dim, unbiased, keepdim, correction=correction))

    def logsumexp(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = _np_alias(dim, keepdim, axis, keepdims)
        return R.LogSumExp.apply(self, dim, keepdim)

    def softmax(self, dim: int) -> Any:
        from gradlab.ops.nn import Softmax

        return Softmax.apply(self, dim)

    def log_softmax(self, dim: int) -> Any:
        from gradlab.ops.nn import LogSoftmax

        return LogSoftmax.apply(self, dim)

    # ---- shape ------------------------------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Any:
        return S.Reshape.apply(self, _dims(shape))

    def view(self, *shape: Any) -> Any:
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
            return self.to(shape[0])
        return S.Reshape.apply(self, _dims(shape))

    def view_as(self, other: Any) -> Any:
        return self.reshape(other.shape)

    def reshape_as(self, other: Any) -> Any:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        shp = self._data.shape
        if not shp:
            return self.reshape(1)
        s = start_dim % len(shp)
        e = end_dim % len(shp)
        new = shp[:s] + (int(np.prod(shp[s : e + 1])),) + shp[e + 1 :]
        return S.Reshape.apply(self, new)

    def transpose(self, dim0: int, dim1: int) -> Any:
        perm = list(range(self._data.ndim))
        perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
        return S.Permute.apply(self, tuple(perm))

    def t(self) -> Any:
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
        return self.transpose(0, 1) if self._data.ndim == 2 else self

    @property
    def T(self) -> Any:
        return S.Permute.apply(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Any:
        return self.transpose(-2, -1)

    def permute(self, *dims: Any) -> Any:
        return S.Permute.apply(self, _dims(dims))

    def unsqueeze(self, dim: int) -> Any:
        return S.Unsqueeze.apply(self, dim)

    def squeeze(self, dim: Any = None) -> Any:
        return S.Squeeze.apply(self, dim)

    def expand(self, *sizes: Any) -> Any:
        return S.Expand.apply(self, _dims(sizes))

    def expand_as(self, other: Any) -> Any:
        return self.expand(*other.shape)

    def repeat(self, *sizes: Any) -> Any:
        return S.Repeat.apply(self, _dims(sizes))

    def contiguous(self) -> Any:
        return self

    def split(self, split_size_or_sections: Any, dim: int = 0) -> Any:
        return S.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> Any:
        return S.chunk(self, chunks, dim)

    def __getitem__(self, index: Any) -> Any:
        return S.GetItem.apply(self, S.normalize_index(index))

    def masked_fill(self, mask: Any, value: float) -> Any:
        from gradlab.ops.elementwise import where

        return where(mask, value, self)

    def clone(self) -> Any:
        return E.Clone.apply(self)

    def index_select(self, dim: int, index: Any) -> Any:
        idx: list[Any] = [slice(None)] * self._data.ndim
        idx[dim] = backend.get_array_module(self._data).asarray(index._data if hasattr(index, "_data") else index)
        return self[tuple(idx)]
