"""More ``Tensor`` methods with torch's names: ``norm``, ``narrow``, ``new_*``, ``log1p``, ``cumsum``, ``flip``,
``roll``, ``sort``/``argsort``/``topk``, ``tril``/``triu``, ``unbind``, ``repeat_interleave``, ``masked_fill_``,
``multinomial``, ``unique``, ``nonzero``, ``type_as``, ``bmm``, ``allclose``.

The differentiable ones are built on ops (indexing, ``gather``, ``where``, ``Log1p``, ``Cumsum``) so they backprop.
"""
from __future__ import annotations

import builtins
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab import backend
from gradlab.ops import scan

if TYPE_CHECKING:
    pass

__all__ = ["TensorMore", "SortResult"]


def _tensor() -> Any:
    from gradlab.tensor import Tensor

    return Tensor


def SortResult(values: Any, indices: Any) -> Any:  # noqa: N802  (a named pair as torch's return types)
    """``(values, indices)`` as the ``MinMax`` pair of ``max(dim)``.

    >>> SortResult(1, 2).indices
    2
    """
    from gradlab.tensor_math import MinMax

    return MinMax(values, indices)


class TensorMore:
    """Methods mixed into ``Tensor``.

    >>> import gradlab
    >>> x = gradlab.tensor([3.0, 1.0, 2.0])
    >>> x.cumsum(0)
    tensor([3., 4., 6.])
    >>> x.argsort().tolist(), x.topk(2).values.tolist()
    ([1, 2, 0], [3.0, 2.0])
    >>> x.new_zeros(2).tolist()
    [0.0, 0.0]
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the attributes come from Tensor

        def __getattr__(self, name: str) -> Any: ...

        def __getitem__(self, index: Any) -> Any: ...

        def __mul__(self, other: Any) -> Any: ...

    def _take(self, dim: int, index: Any) -> Any:
        """``self`` indexed with the int64 array ``index`` along ``dim`` (differentiable)."""
        dim = dim % self._data.ndim
        return self[(slice(None),) * dim + (index,)]

    def _xp(self) -> Any:
        return backend.get_array_module(self._data)

    # ---- norms and element counts ------------------------------------------------------------------------------
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
        """The ``p``-norm (2, ``"fro"``, 1, ``inf``, ``-inf`` or any positive number) over ``dim`` (all: None).

        >>> import gradlab
        >>> gradlab.tensor([3.0, 4.0]).norm().item(), gradlab.tensor([3.0, -4.0]).norm(1).item()
        (5.0, 7.0)
        """
        a = self.abs()
        if p in ("fro", 2, 2.0):
            return (self * self).sum(dim, keepdim).sqrt()
        if p == math.inf:
            return a.amax(dim, keepdim) if dim is not None else a.max()
        if p == -math.inf:
            return a.amin(dim, keepdim) if dim is not None else a.min()
        if p == 1:
            return a.sum(dim, keepdim)
        if isinstance(p, (int, float)) and p > 0:
            return (a ** p).sum(dim, keepdim) ** (1.0 / p)
        raise ValueError(f"norm(): unsupported p={p!r} (use 'fro', a positive number, inf or -inf)")

    def nelement(self) -> int:
        """The number of elements (``numel``).

        >>> import gradlab
        >>> gradlab.zeros(2, 3).nelement()
        6
        """
        return int(self._data.size)

    def narrow(self, dim: int, start: int, length: int) -> Any:
        """``length`` entries of ``dim`` from ``start``: a view.

        >>> import gradlab
        >>> gradlab.arange(5).narrow(0, 1, 3).tolist()
        [1, 2, 3]
        """
        n = self._data.shape[dim]
        start = start + n if start < 0 else start
        if not 0 <= start <= n or length < 0 or start + length > n:
            raise IndexError(f"narrow(): start {start} + length {length} exceeds dimension size {n}")
        dim = dim % self._data.ndim
        return self[(slice(None),) * dim + (slice(start, start + length),)]

    # ---- new tensors like this one --------------------------------------------------------------------------------
    def _new(self, arr: Any, dtype: Any, requires_grad: bool) -> Any:
        from gradlab import devices

        t = _tensor()._make(devices.to_device(arr, self.device), False)
        t = t if dtype is None else t.to(dtype)
        return t.requires_grad_(True) if requires_grad else t

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        """Zeros of ``size`` with this tensor's dtype and device (unless given).

        >>> import gradlab
        >>> gradlab.ones(2, dtype=gradlab.float64).new_zeros(3).dtype
        dtype('float64')
        """
        return self.new_full(_size(size), 0, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        """Ones of ``size`` with this tensor's dtype and device.

        >>> import gradlab
        >>> gradlab.zeros(1).new_ones(2).tolist()
        [1.0, 1.0]
        """
        return self.new_full(_size(size), 1, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Any:
        """``fill_value`` everywhere, with this tensor's dtype and device.

        >>> import gradlab
        >>> gradlab.zeros(1).new_full((2,), 7).tolist()
        [7.0, 7.0]
        """
        out = self._new(np.full(tuple(size), fill_value, dtype=self._data.dtype), dtype, requires_grad)
        return out if device is None else out.to(device)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        """A copy of ``data`` with this tensor's dtype and device (unless given).

        >>> import gradlab
        >>> gradlab.zeros(1).new_tensor([1, 2]).tolist()
        [1.0, 2.0]
        """
        from gradlab.tensor import _host, as_array

        arr = np.array(_host(as_array(data)), dtype=self._data.dtype if dtype is None else dtype)
        out = self._new(arr, None, requires_grad)
        return out if device is None else out.to(device)

    def type_as(self, other: Any) -> Any:
        """This tensor in ``other``'s dtype.

        >>> import gradlab
        >>> gradlab.tensor([1]).type_as(gradlab.zeros(1)).dtype
        dtype('float32')
        """
        return self.to(other.dtype)

    # ---- elementwise and scans ------------------------------------------------------------------------------------
    def log1p(self) -> Any:
        """``log(1 + x)``, accurate near 0.

        >>> import gradlab
        >>> gradlab.tensor([1e-10], dtype=gradlab.float64).log1p().item() > 0.99e-10
        True
        """
        return scan.Log1p.apply(self._floating())

    def log10(self) -> Any:
        """Base-10 logarithm.

        >>> import gradlab
        >>> round(gradlab.tensor([1000.0]).log10().item(), 4)
        3.0
        """
        return self._floating().log() * (1.0 / math.log(10.0))

    def cumsum(self, dim: int, dtype: Any = None) -> Any:
        """Cumulative sum along ``dim``.

        >>> import gradlab
        >>> gradlab.tensor([1.0, 2.0, 3.0]).cumsum(0).tolist()
        [1.0, 3.0, 6.0]
        """
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "bui" and x._data.dtype != np.int64:
            x = x.to(np.int64)
        return scan.Cumsum.apply(x, dim)

    def flip(self, *dims: Any) -> Any:
        """Reverse the order along ``dims``.

        >>> import gradlab
        >>> gradlab.tensor([[1, 2], [3, 4]]).flip(1).tolist()
        [[2, 1], [4, 3]]
        """
        out = self
        for d in _size(dims):
            out = out._take(d, self._xp().arange(self._data.shape[d] - 1, -1, -1))
        return out

    def roll(self, shifts: Any, dims: Any = None) -> Any:
        """Shift entries along ``dims`` cyclically by ``shifts`` (flattened first when ``dims`` is None).

        >>> import gradlab
        >>> gradlab.arange(4).roll(1).tolist()
        [3, 0, 1, 2]
        """
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts_t = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        dims_t = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(shifts_t) != len(dims_t):
            raise ValueError(f"roll(): {len(shifts_t)} shifts for {len(dims_t)} dims")
        out = self
        for s, d in zip(shifts_t, dims_t):
            n = self._data.shape[d]
            out = out._take(d, (self._xp().arange(n) - s) % n)
        return out

    def tril(self, diagonal: int = 0) -> Any:
        """The lower triangle of the last two dims (the rest zeroed).

        >>> import gradlab
        >>> gradlab.ones(2, 2).tril().tolist()
        [[1.0, 0.0], [1.0, 1.0]]
        """
        return self._triangle(diagonal, lower=True)

    def triu(self, diagonal: int = 0) -> Any:
        """The upper triangle of the last two dims (the rest zeroed).

        >>> import gradlab
        >>> gradlab.ones(2, 2).triu(1).tolist()
        [[0.0, 1.0], [0.0, 0.0]]
        """
        return self._triangle(diagonal, lower=False)

    def _triangle(self, diagonal: int, lower: bool) -> Any:
        if self._data.ndim < 2:
            raise RuntimeError("tril/triu: input tensor must have at least 2 dimensions")
        xp = self._xp()
        r, c = self._data.shape[-2:]
        keep = xp.tri(r, c, diagonal, dtype=bool) if lower else ~xp.tri(r, c, diagonal - 1, dtype=bool)
        return self.masked_fill(_tensor()._make(~keep, False), 0)

    # ---- ordering ---------------------------------------------------------------------------------------------------
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """Indices that sort ``dim`` (stable).

        >>> import gradlab
        >>> gradlab.tensor([3, 1, 2]).argsort().tolist()
        [1, 2, 0]
        """
        xp = self._xp()
        key = -self._data if descending and self._data.dtype.kind != "b" else self._data
        idx = xp.argsort(key, axis=dim, kind="stable")
        return _tensor()._make(idx.astype(np.int64), False)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """``(values, indices)`` sorted along ``dim``; values are differentiable.

        >>> import gradlab
        >>> v, i = gradlab.tensor([3.0, 1.0, 2.0]).sort()
        >>> v.tolist(), i.tolist()
        ([1.0, 2.0, 3.0], [1, 2, 0])
        """
        idx = self.argsort(dim, descending)
        return SortResult(self.gather(dim, idx), idx)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """The ``k`` largest (or smallest) entries along ``dim`` and their indices.

        >>> import gradlab
        >>> gradlab.tensor([1.0, 5.0, 3.0]).topk(2).values.tolist()
        [5.0, 3.0]
        """
        n = self._data.shape[dim]
        if not 0 <= k <= n:
            raise RuntimeError(f"topk(): k ({k}) is out of range for dimension of size {n}")
        idx = self.argsort(dim, descending=largest)
        idx = idx[(slice(None),) * (dim % self._data.ndim) + (slice(0, k),)]
        return SortResult(self.gather(dim, idx), idx)

    # ---- splitting and repeating ------------------------------------------------------------------------------------
    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim`` as a tuple (each without that dim).

        >>> import gradlab
        >>> [t.tolist() for t in gradlab.tensor([[1, 2], [3, 4]]).unbind(1)]
        [[1, 3], [2, 4]]
        """
        dim = dim % self._data.ndim
        return tuple(self[(slice(None),) * dim + (i,)] for i in range(self._data.shape[dim]))

    def repeat_interleave(self, repeats: Any, dim: Any = None) -> Any:
        """Each entry repeated ``repeats`` times along ``dim`` (flattened when None).

        >>> import gradlab
        >>> gradlab.tensor([1, 2]).repeat_interleave(2).tolist()
        [1, 1, 2, 2]
        """
        if dim is None:
            return self.reshape(-1).repeat_interleave(repeats, 0)
        xp = self._xp()
        reps = repeats._data if hasattr(repeats, "_data") else repeats
        return self._take(dim, xp.repeat(xp.arange(self._data.shape[dim]), xp.asarray(reps)))

    # ---- in-place writes (not recorded by autograd on a leaf that requires grad: use them under no_grad) ------------
    def masked_fill_(self, mask: Any, value: Any) -> Any:
        """Write ``value`` where ``mask`` is True, in place.

        >>> import gradlab
        >>> gradlab.zeros(2).masked_fill_(gradlab.tensor([False, True]), 5.0).tolist()
        [0.0, 5.0]
        """
        return self._set_inplace(self.masked_fill(mask, value))

    # ---- sampling and set operations (not differentiable) ----------------------------------------------------------
    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Any:
        """Draw ``num_samples`` category indices per row with probabilities proportional to the row's weights.

        >>> import gradlab
        >>> gradlab.tensor([0.0, 1.0]).multinomial(3, replacement=True).tolist()
        [1, 1, 1]
        """
        from gradlab.tensor import _host

        w = np.asarray(_host(self._data), dtype=np.float64)
        rows = w.reshape(-1, w.shape[-1]) if w.ndim > 1 else w[None]
        if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
            raise RuntimeError("multinomial(): probabilities must be finite, non-negative and not all zero")
        if not replacement and num_samples > (rows > 0).sum(1).min():
            raise RuntimeError("multinomial(): cannot sample more than the non-zero categories without replacement")
        rng = backend.rng(generator)
        out = np.stack([rng.choice(rows.shape[1], num_samples, replace=replacement, p=r / r.sum()) for r in rows])
        out = out.astype(np.int64)
        return self._new(out if w.ndim > 1 else out[0], None, False)

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
               dim: Any = None) -> Any:
        """The distinct values (sorted), optionally with the inverse indices and the counts.

        >>> import gradlab
        >>> gradlab.tensor([3, 1, 3]).unique().tolist()
        [1, 3]
        """
        if dim is not None:
            raise NotImplementedError("unique(dim=...) is not supported by gradlab")
        xp = self._xp()
        vals, inv, counts = xp.unique(self._data, return_inverse=True, return_counts=True)
        out = [_tensor()._make(vals, False)]
        if return_inverse:
            out.append(_tensor()._make(inv.reshape(self._data.shape).astype(np.int64), False))
        if return_counts:
            out.append(_tensor()._make(counts.astype(np.int64), False))
        return out[0] if len(out) == 1 else tuple(out)

    def nonzero(self, as_tuple: bool = False) -> Any:
        """The indices of the non-zero entries: an (n, ndim) int64 tensor, or one index tensor per dim.

        >>> import gradlab
        >>> gradlab.tensor([0, 2, 3]).nonzero().tolist()
        [[1], [2]]
        """
        idx = self._xp().nonzero(self._data)
        if as_tuple:
            return tuple(_tensor()._make(i.astype(np.int64), False) for i in idx)
        return _tensor()._make(self._xp().stack(idx, axis=1).astype(np.int64), False)

    def bmm(self, other: Any) -> Any:
        """Batched matrix product of two 3-D tensors.

        >>> import gradlab
        >>> gradlab.ones(2, 1, 3).bmm(gradlab.ones(2, 3, 1)).shape
        gradlab.Size([2, 1, 1])
        """
        if self._data.ndim != 3 or other.ndim != 3:
            raise RuntimeError(f"bmm(): expected 3-D tensors, got {self._data.ndim}-D and {other.ndim}-D")
        return self @ other

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
        """True when every entry is within ``atol + rtol * |other|``.

        >>> import gradlab
        >>> gradlab.ones(2).allclose(gradlab.ones(2) + 1e-9)
        True
        """
        from gradlab.tensor import _host

        o = other._data if hasattr(other, "_data") else other
        return builtins.bool(np.allclose(_host(self._data), _host(o), rtol=rtol, atol=atol, equal_nan=equal_nan))


def _size(size: tuple) -> tuple:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)

